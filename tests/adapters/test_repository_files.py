"""Reading files on a repository's behalf: links to /proc or devices are refused, a missing file is None."""

from __future__ import annotations

import os
import sys

import pytest

from reviewbot.adapters.repository_files import open_repo_file
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
