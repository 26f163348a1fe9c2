"""A result cache on disk: model answers keyed by a hash of everything that shaped the request, and whole plans
(reviewbot/pipeline/plan_cache.py, stored as blobs) keyed by a hash of everything that shaped the plan.

SQLite in WAL mode, so two reviews at once (two pre-commit runs, a hook and a CI job) read and write the same file
safely: each thread gets its own connection, writers wait on a busy timeout instead of failing. The cache is an
optimisation, never a reason for a review to fail: a corrupt file is moved aside and a fresh one started, and when
even that fails (read-only disk, no home directory) the cache turns itself off and says why in `problem`.

Location: $XDG_CACHE_HOME/reviewbot/cache.sqlite3, else ~/Library/Caches/reviewbot on macOS,
%LOCALAPPDATA%\\reviewbot on Windows, ~/.cache/reviewbot elsewhere. It lives outside any work tree.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

CACHE_FILE = "cache.sqlite3"
DEFAULT_MAX_BYTES = 200 * 1024 * 1024
BUSY_TIMEOUT_S = 10.0
BLOB_USE_REFRESH_S = 3600.0
_PRUNE_EVERY = 64  # puts between two size checks
_SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    size  INTEGER NOT NULL,
    used  REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS results_used ON results(used);
"""


def default_cache_dir() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "reviewbot"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "reviewbot"
    if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "reviewbot"
    return Path.home() / ".cache" / "reviewbot"


def cache_key(*parts: str) -> str:
    """sha256 over the parts, each prefixed by its length, so ("ab", "c") and ("a", "bc") differ."""
    digest = hashlib.sha256()
    digest.update(len(parts).to_bytes(8, "big"))
    for part in parts:
        data = part.encode("utf-8", "surrogatepass")
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


class ResultCache:
    """get/put of text values by key; thread-safe, process-safe, and silent about its own failures."""

    def __init__(
        self,
        path: Path | None = None,
        *,
        max_bytes: int | None = DEFAULT_MAX_BYTES,
        max_entries: int | None = None,
    ) -> None:
        self._path = Path(path) if path is not None else default_cache_dir() / CACHE_FILE
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self.problem: str | None = None  # why the cache is off or was reset, for a one-line note
        self._lock = threading.Lock()
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._disabled = False
        self._recovered = False
        self._puts = 0

    @property
    def path(self) -> Path:
        return self._path

    @property
    def enabled(self) -> bool:
        return not self._disabled

    # -- public operations: each swallows database trouble and degrades to "no cache" ----------------------

    def get(self, key: str) -> str | None:
        # fetchone() is typed Any: the row is (value,), the str put() stored (blob keys are read with get_blob only).
        row: tuple[str] | None = self._run(
            lambda db: db.execute("SELECT value FROM results WHERE key = ?", (key,)).fetchone())
        if row is None:
            return None
        # Remember the use for pruning; losing this update to a busy database costs nothing.
        self._run(lambda db: db.execute("UPDATE results SET used = ? WHERE key = ?", (time.time(), key)))
        return row[0]

    def get_blob(self, key: str) -> bytes | None:
        """A value stored with put_blob (a text value under the key reads as missing).

        Blobs are large, and SQLite rewrites a whole row to update one column, so the use time that pruning goes
        by is refreshed only once it is over an hour old (get refreshes it on every read)."""
        row = self._run(lambda db: db.execute("SELECT value, used FROM results WHERE key = ?", (key,)).fetchone())
        if row is None or not isinstance(row[0], bytes):
            return None
        now = time.time()
        if row[1] < now - BLOB_USE_REFRESH_S:
            self._run(lambda db: db.execute("UPDATE results SET used = ? WHERE key = ?", (now, key)))
        return row[0]

    def put_blob(self, key: str, value: bytes) -> None:
        """Store bytes (SQLite keeps them as a BLOB in the same table; size and pruning count them as for text)."""
        self._put(key, bytes(value), len(key) + len(value))

    def put(self, key: str, value: str) -> None:
        self._put(key, value, len(key) + len(value.encode("utf-8", "surrogatepass")))

    def _put(self, key: str, value: str | bytes, size: int) -> None:
        self._run(
            lambda db: db.execute(
                "INSERT OR REPLACE INTO results (key, value, size, used) VALUES (?, ?, ?, ?)",
                (key, value, size, time.time()),
            )
        )
        with self._lock:
            self._puts += 1
            due = self._puts % _PRUNE_EVERY == 1
        if due:
            self.prune()

    def clear(self) -> int:
        """Delete every entry; returns how many there were."""
        removed = self._run(lambda db: db.execute("DELETE FROM results").rowcount)
        self._run(lambda db: db.execute("VACUUM"))
        return removed or 0

    def __len__(self) -> int:
        return self._run(lambda db: db.execute("SELECT COUNT(*) FROM results").fetchone()[0]) or 0

    def prune(self) -> int:
        """Drop the least recently used entries beyond max_entries / max_bytes; returns how many went."""

        def work(db: sqlite3.Connection) -> int:
            removed = 0
            if self.max_entries is not None:
                count = db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
                if count > self.max_entries:
                    removed += db.execute(
                        "DELETE FROM results WHERE key IN (SELECT key FROM results ORDER BY used LIMIT ?)",
                        (count - self.max_entries,),
                    ).rowcount
            if self.max_bytes is not None:
                total = db.execute("SELECT COALESCE(SUM(size), 0) FROM results").fetchone()[0]
                if total > self.max_bytes:
                    # Walk from the oldest, summing sizes, until enough is freed; cut back to 90% for headroom.
                    excess, doomed = total - int(self.max_bytes * 0.9), []
                    for key, size in db.execute("SELECT key, size FROM results ORDER BY used"):
                        if excess <= 0:
                            break
                        doomed.append((key,))
                        excess -= size
                    db.executemany("DELETE FROM results WHERE key = ?", doomed)
                    removed += len(doomed)
            return removed

        return self._run(work) or 0

    def close(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, []
        for db in connections:
            try:
                db.close()
            except sqlite3.Error:
                pass
        self._local = threading.local()

    def __enter__(self) -> ResultCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- connections and failure handling --------------------------------------------------------------------

    def _run(self, work: Callable[[sqlite3.Connection], T]) -> T | None:
        if self._disabled:
            return None
        try:
            return work(self._connection())
        except sqlite3.Error as err:
            if _looks_corrupt(err):  # "file is not a database", "database disk image is malformed"
                return self._recover(err, work)
            # Busy beyond the timeout, disk full, read-only: skip this operation, keep the cache for the next.
            return None
        except OSError as err:  # the folder cannot be created
            self._disable(f"result cache off: {err.strerror or err} ({self._path.parent})")
            return None

    def _connection(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)  # this thread's, once opened
        if db is not None:
            return db
        make_private(self._path)
        db = sqlite3.connect(self._path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        try:
            db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            try:
                db.execute("PRAGMA journal_mode = WAL")
            except sqlite3.OperationalError as err:
                if _looks_corrupt(err):
                    raise
                # Another process is switching the mode right now; the default journal works as well.
            db.execute("PRAGMA synchronous = NORMAL")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version != _SCHEMA_VERSION:
                db.executescript(_SCHEMA)
                if version == 0:
                    db.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
                else:  # written by another reviewbot version: start from an empty table of our shape
                    db.executescript(
                        f"DROP TABLE IF EXISTS results; {_SCHEMA} PRAGMA user_version = {_SCHEMA_VERSION};"
                    )
        except BaseException:
            db.close()
            raise
        with self._lock:
            self._connections.append(db)
        self._local.db = db
        return db

    def _recover(self, err: sqlite3.Error, work: Callable[[sqlite3.Connection], T]) -> T | None:
        """Move a damaged file aside once and retry on a fresh one; if that fails too, turn the cache off."""
        with self._lock:
            first = not self._recovered
            self._recovered = True
        if not first:
            self._disable(f"result cache off: {self._path} is unusable ({err})")
            return None
        self.close()
        aside = self._path.with_name(f"{self._path.name}.corrupt")  # keeps only the latest damaged copy
        try:
            os.replace(self._path, aside)
            for suffix in ("-wal", "-shm"):
                sidecar = Path(f"{self._path}{suffix}")
                if sidecar.exists():
                    sidecar.unlink()
        except FileNotFoundError:
            pass  # another process moved it first
        except OSError as move_err:
            self._disable(f"result cache off: {self._path} is damaged and cannot be moved ({move_err.strerror})")
            return None
        self.problem = f"result cache was damaged ({err}); moved it to {aside} and started a new one"
        try:
            return work(self._connection())
        except (sqlite3.Error, OSError) as again:
            self._disable(f"result cache off: {self._path} is unusable ({again})")
            return None

    def _disable(self, why: str) -> None:
        self._disabled = True
        self.problem = why
        self.close()


PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def make_private(db_path: Path) -> None:
    """The cache holds diffs, standards and answers: its folder 0700 and its files 0600, whatever the umask, and
    existing ones (made by an older version) put right. The database file is created 0600 before SQLite opens it;
    SQLite gives its -wal and -shm files the database file's mode."""
    folder = db_path.parent
    folder.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    if os.name == "nt":  # pragma: no cover - POSIX modes only
        return
    if folder.stat().st_mode & 0o777 != PRIVATE_DIR_MODE:
        os.chmod(folder, PRIVATE_DIR_MODE)
    fd = os.open(db_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), PRIVATE_FILE_MODE)
    os.close(fd)
    for name in os.listdir(folder):
        path = folder / name
        try:
            info = path.lstat()
        except OSError:
            continue
        if stat.S_ISREG(info.st_mode) and info.st_mode & 0o777 != PRIVATE_FILE_MODE:
            try:
                os.chmod(path, PRIVATE_FILE_MODE)
            except OSError:
                pass


def _looks_corrupt(err: sqlite3.Error) -> bool:
    text = str(err).lower()
    return "not a database" in text or "malformed" in text or "corrupt" in text
