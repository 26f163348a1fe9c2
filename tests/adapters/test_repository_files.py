"""Reading files on a repository's behalf: links to /proc or devices are refused, a missing file is None."""

from __future__ import annotations

import os
import sys

import pytest

from reviewbot.adapters.repository_files import MemorySource, WorktreeSource, open_repo_file
from reviewbot.core.errors import ConfigError


def test_no_python_traceback_for_a_repository_that_is_a_symlink_farm(tmp_path, model_server):
    # Sanity for the helper itself: open_repo_file refuses /proc and devices reached through links.
    root = tmp_path / "r"
    root.mkdir()
    for name, target in {"a": "/proc/self/environ", "b": "/dev/zero", "c": "/dev/stdin", "d": "d"}.items():
        os.symlink(target, root / name)
    for name in "abcd":
        with pytest.raises(ConfigError):
            open_repo_file(root, name)
    assert open_repo_file(root, "missing") is None
    assert sys.platform != "win32"


def test_work_tree_and_memory_sources_answer_read_heads_like_the_git_sources(repo, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("canary\n")
    repo.write("long.js", "x" * 10_000 + "\n")
    repo.write("app.py", "# generated\nx = 1\n")
    repo.symlink("out.py", str(outside))
    source = WorktreeSource(repo.path, on_refusal=lambda err: None)
    heads = source.read_heads(["long.js", "app.py", "out.py", "missing.py"], max_bytes=100)
    assert heads == {"long.js": "x" * 100, "app.py": "# generated\nx = 1\n"}  # a link out and a missing file: absent
    memory = MemorySource({"a.py": "abc\n"})
    assert memory.read_heads(["a.py", "b.py"], max_bytes=2) == {"a.py": "ab"}
