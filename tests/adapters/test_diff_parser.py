"""The diff parser against diffs made by real git (odd cases included) and golden fixtures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reviewbot.adapters.diff_parser import parse_diff
from reviewbot.adapters.git import DiffSpec, Repository

GOLDEN = Path(__file__).parents[1] / "golden"


def _staged(repo):
    return parse_diff(Repository(repo.path).diff(DiffSpec(staged=True)))


def _summary(files):
    return [
        {
            "path": f.path, "old_path": f.old_path, "status": f.status, "binary": f.is_binary,
            "modes": [f.old_mode, f.new_mode], "symlink": f.is_symlink,
            "added": sorted(f.added_lines),
            "lines": [[ln.kind, ln.old_no, ln.new_no, ln.text] for h in f.hunks for ln in h.lines],
        }
        for f in files
    ]


@pytest.mark.parametrize("name", sorted(p.stem for p in GOLDEN.glob("*.diff")))
def test_golden(name):
    raw = (GOLDEN / f"{name}.diff").read_bytes()
    expected = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    assert _summary(parse_diff(raw)) == expected


def test_added_modified_and_line_numbers(repo):
    repo.write("a.py", "".join(f"l{i}\n" for i in range(1, 11)))
    repo.add("a.py")
    repo.commit("base")
    repo.write("a.py", "".join(f"l{i}\n" for i in range(1, 5)) + "NEW\n" + "".join(f"l{i}\n" for i in range(6, 11)))
    repo.add("a.py")
    (f,) = _staged(repo)
    assert f.status == "modified"
    assert f.added_lines == {5}
    assert f.new_line_text(5) == "NEW"
    assert f.new_line_text(6) == "l6"


def test_rename_with_spaces_and_non_ascii(repo):
    repo.write("old name.py", "x = 1\n" * 20)
    repo.add("old name.py")
    repo.commit("base")
    repo.git("mv", "old name.py", "nëw näme.py")
    (f,) = _staged(repo)
    assert (f.status, f.path, f.old_path) == ("renamed", "nëw näme.py", "old name.py")
    assert not f.hunks


def test_deleted_binary_mode_symlink_crlf(repo):
    repo.write("gone.py", "x = 1\n")
    repo.write("tool.sh", "echo hi\n")
    repo.write("blob.bin", b"\x00\x01\x02")
    repo.add("gone.py", "tool.sh", "blob.bin")
    repo.commit("base")
    repo.git("rm", "-q", "gone.py")
    repo.git("update-index", "--chmod=+x", "tool.sh")
    repo.write("blob.bin", b"\x00\x01\x03")
    repo.write("dos.txt", b"one\r\ntwo\r\n")
    (repo.path / "link").symlink_to("tool.sh")
    repo.add("blob.bin", "dos.txt", "link")
    by_path = {f.path: f for f in _staged(repo)}
    assert by_path["gone.py"].status == "deleted"
    assert by_path["blob.bin"].is_binary
    assert by_path["tool.sh"].mode_changed and not by_path["tool.sh"].hunks
    assert by_path["link"].is_symlink
    assert [ln.text for h in by_path["dos.txt"].hunks for ln in h.lines] == ["one", "two"]


def test_non_utf8_and_no_newline_at_end(repo):
    repo.write("latin.txt", b"caf\xe9\nend")
    repo.add("latin.txt")
    (f,) = _staged(repo)
    texts = [ln.text for h in f.hunks for ln in h.lines]
    assert texts == ["caf\ufffd", "end"]
    assert f.added_lines == {1, 2}


def test_empty_diff():
    assert parse_diff(b"") == ()
