"""A small staged change for tests that run a review: a 20-line module committed, then three lines added and staged."""

from __future__ import annotations

BEFORE = "".join(f"value_{i} = {i}\n" for i in range(1, 21))
ADDED = ["async def handler(request):", "    time.sleep(5)", "    return request"]
PATH = "app/service.py"


def stage(repo, path: str = PATH) -> None:
    repo.write(path, BEFORE)
    repo.add(path)
    repo.commit(f"base of {path}")
    repo.write(path, BEFORE + "".join(line + "\n" for line in ADDED))
    repo.add(path)
