"""A staged change for the hook tests: a blocking sleep in app/service.py beside an unrelated app/other.py."""

from __future__ import annotations

BLOCKING = {"path": "app/service.py", "line": 2, "severity": "error", "category": "async",
            "message": "time.sleep blocks the event loop"}


def stage(repo) -> None:
    repo.write("app/service.py", "async def handler():\n    time.sleep(5)\n")
    repo.write("app/other.py", "VALUE = 1\n")
    repo.add("app/service.py", "app/other.py")
