"""The result cache: hits and misses, key separation, damaged files, many threads and processes at once."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from reviewbot.adapters.result_cache import CACHE_FILE, ResultCache, cache_key, default_cache_dir

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cache(tmp_path: Path):
    c = ResultCache(tmp_path / "cache" / CACHE_FILE)
    yield c
    c.close()


def test_miss_then_hit_and_overwrite(cache: ResultCache) -> None:
    key = cache_key("review", "model-a", "prompt text")
    assert cache.get(key) is None
    cache.put(key, '{"findings": []}')
    assert cache.get(key) == '{"findings": []}'
    cache.put(key, '{"findings": [1]}')
    assert cache.get(key) == '{"findings": [1]}'
    assert len(cache) == 1
    assert cache.problem is None


def test_entries_survive_a_new_instance(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    with ResultCache(path) as first:
        first.put("k", "v" * 10_000)
    with ResultCache(path) as second:
        assert second.get("k") == "v" * 10_000


def test_unicode_and_surrogates_round_trip(cache: ResultCache) -> None:
    value = "naïve ✓ 東京 \U0001f600"
    cache.put(cache_key("é"), value)
    assert cache.get(cache_key("é")) == value
    assert cache_key("\udcff") != cache_key("\udcfe")


def test_key_separates_part_boundaries_and_order() -> None:
    assert cache_key("ab", "c") != cache_key("a", "bc")
    assert cache_key("a", "b") != cache_key("b", "a")
    assert cache_key("a", "") != cache_key("a")
    assert cache_key("") != cache_key()
    assert cache_key("model-a", "prompt") != cache_key("model-b", "prompt")
    assert cache_key("x", "y") == cache_key("x", "y")
    assert len(cache_key("x")) == 64 and int(cache_key("x"), 16) >= 0


def test_clear_returns_how_many_went(cache: ResultCache) -> None:
    for n in range(5):
        cache.put(f"k{n}", "v")
    assert cache.clear() == 5
    assert cache.get("k1") is None
    assert cache.clear() == 0


def test_prune_by_entries_drops_least_recently_used(tmp_path: Path) -> None:
    with ResultCache(tmp_path / "c.sqlite3", max_entries=10, max_bytes=None) as c:
        for n in range(30):
            c.put(f"k{n:02d}", "v")
            if n >= 5:
                c.get("k00")  # keeps being used, so it survives
        c.prune()
        assert len(c) == 10
        assert c.get("k00") == "v"
        assert c.get("k29") == "v"
        assert c.get("k01") is None


def test_prune_by_size(tmp_path: Path) -> None:
    with ResultCache(tmp_path / "c.sqlite3", max_bytes=50_000) as c:
        for n in range(40):
            c.put(f"k{n}", "x" * 5_000)
        c.prune()
        assert 5 <= len(c) <= 10
        assert c.get("k39") is not None
        assert c.get("k0") is None


@pytest.mark.parametrize(
    "damage",
    [
        b"this is not a database at all" * 100,
        b"SQLite format 3\x00" + b"\xff" * 4000,  # right magic, garbage pages
    ],
)
def test_damaged_file_is_moved_aside_and_replaced(tmp_path: Path, damage: bytes) -> None:
    path = tmp_path / CACHE_FILE
    path.write_bytes(damage)
    with ResultCache(path) as c:
        assert c.get("k") is None  # no exception reaches the caller
        c.put("k", "v")
        assert c.get("k") == "v"
        assert c.problem is not None and "moved it to" in c.problem
    assert (tmp_path / f"{CACHE_FILE}.corrupt").read_bytes() == damage
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_database_damaged_while_in_use_recovers(tmp_path: Path) -> None:
    path = tmp_path / CACHE_FILE
    with ResultCache(path) as c:
        c.put("k", "v")
        c.close()
        for sidecar in (Path(f"{path}-wal"), Path(f"{path}-shm")):
            sidecar.unlink(missing_ok=True)
        path.write_bytes(b"\x00garbage" * 512)
        assert c.get("k") is None
        c.put("k2", "v2")
        assert c.get("k2") == "v2"


def test_unusable_location_turns_the_cache_off_quietly(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    with ResultCache(blocker / "reviewbot" / CACHE_FILE) as c:
        assert c.get("k") is None
        c.put("k", "v")
        assert c.get("k") is None
        assert c.clear() == 0
        assert not c.enabled
        assert c.problem and "result cache off" in c.problem


def test_concurrent_threads(cache: ResultCache) -> None:
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(150):
                key = cache_key(str(n), str(i))
                cache.put(key, f"{n}:{i}")
                assert cache.get(key) == f"{n}:{i}"
                cache.get(cache_key(str((n + 1) % 8), str(i)))  # read what others write
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(cache) == 8 * 150
    assert cache.problem is None


WRITER = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from reviewbot.adapters.result_cache import ResultCache
name, path = sys.argv[1], Path(sys.argv[2])
with ResultCache(path) as c:
    for i in range(200):
        c.put(f"{name}-{i}", name * 50)
        assert c.get(f"{name}-{i}") == name * 50
        c.get(f"other-{i}")
    assert c.problem is None, c.problem
print("ok")
"""


def test_concurrent_processes(tmp_path: Path) -> None:
    path = tmp_path / CACHE_FILE
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, name, str(path), str(ROOT)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for name in ("a", "b", "c")
    ]
    results = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, results):
        assert p.returncode == 0, err
        assert out.strip() == "ok"
    with ResultCache(path) as c:
        assert len(c) == 600
        assert c.get("b-199") == "b" * 50


def test_default_location_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "reviewbot"
    assert ResultCache().path == tmp_path / "xdg" / "reviewbot" / CACHE_FILE


def test_default_location_without_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    expected = (
        tmp_path / "home" / "Library" / "Caches" / "reviewbot"
        if sys.platform == "darwin"
        else tmp_path / "home" / ".cache" / "reviewbot"
    )
    assert default_cache_dir() == expected
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # not absolute: ignored, as the spec says
    assert default_cache_dir() == expected


def test_wal_mode_is_used(cache: ResultCache) -> None:
    cache.put("k", "v")
    with sqlite3.connect(cache.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
