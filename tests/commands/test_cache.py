"""`reviewbot cache`: prints where the result cache lives, and `--clear` empties it and says how much it removed."""

from __future__ import annotations

from pathlib import Path

from reviewbot.adapters.result_cache import ResultCache


def test_cache_prints_its_path_and_clear_removes_every_answer(run_cli, isolated_env):
    shown = run_cli("cache")
    assert shown.exit_code == 0, shown.stderr
    path = Path(shown.stdout.strip())
    assert path.is_relative_to(isolated_env.cache)  # under $XDG_CACHE_HOME, nowhere else

    with ResultCache(path) as cache:
        cache.put("a", "one")
        cache.put("b", "two")
    cleared = run_cli("cache", "--clear")
    assert cleared.exit_code == 0, cleared.stderr
    assert cleared.stdout.strip() == f"removed 2 cached answers from {path}"
    with ResultCache(path) as cache:
        assert cache.get("a") is None and cache.get("b") is None
    assert run_cli("cache", "--clear").stdout.startswith("removed 0 cached answers")
