"""A 20-line app/service.py and the blocking-sleep finding the baseline tests record and absorb."""

from __future__ import annotations

BASE = "".join(f"value_{i} = {i}\n" for i in range(1, 21))  # app/service.py, 20 lines
SLEEP = "    time.sleep(5)"


def finding(line: int, category: str = "async", message: str = "time.sleep blocks the event loop") -> dict:
    return {"path": "app/service.py", "line": line, "severity": "error", "category": category, "message": message}


def stage(repo, body: str) -> None:
    repo.write("app/service.py", body)
    repo.add("app/service.py")
