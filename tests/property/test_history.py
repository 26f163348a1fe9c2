"""The line-number property: every numbered line of a rendered prompt is that line of the file at the new revision.

Findings are anchored to these numbers, so one off-by-one here would put every finding on the wrong line. Checked
three ways:
  1. hypothesis: random before/after texts built from a small alphabet of lines (diff-like lines such as "--- a",
     "@@ -1 +1 @@" and "\\ No newline" included, so the parser meets its hardest input), diffed in-process with
     difflib in git's format, and with the real `git diff --no-index` for a few dozen examples (CRLF and missing
     final newlines included);
  2. every commit of this repository's own history (capped at 200 commits / 20 s), through reviewbot's own git
     access, against `git cat-file` of each file at that commit;
  3. a scripted 30-commit history built in tmp_path, so the property is checked even on a shallow CI clone.
"""

from __future__ import annotations

import difflib
import random
import re
import subprocess
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from reviewbot.adapters.diff_parser import parse_diff
from reviewbot.adapters.git import EMPTY_TREE, DiffSpec, Repository
from reviewbot.core.models import FileDiff
from reviewbot.pipeline.prompt import render_file
from tests.helpers import PROJECT_ROOT, GitRepo

_NUMBERED = re.compile(r"^ *(\d+) ([+ ]) (.*)$", re.DOTALL)

# Lines that look like diff syntax are the interesting ones: a removed "-- a" is "--- a" in the diff.
ALPHABET = ["a", "b", "c", "", " ", "\tindented", "-- a", "--- a", "++ b", "+++ b", "@@ -1 +1 @@", "- x", "+ y",
            "\\ No newline at end of file", "diff --git a/x b/x", "index 0000000..1111111", "naïve café", "#"]


def new_side(text: str) -> list[str]:
    """The file's lines as git counts them (split on LF only), without a CR before the LF."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]


def check_rendered(f: FileDiff, new_lines: list[str], old_lines: list[str] | None = None) -> int:
    """Assert the property for one file; return how many numbered lines were checked."""
    checked = 0
    added_rendered = 0
    for row in render_file(f).split("\n"):
        m = _NUMBERED.match(row)
        if not m or row.startswith(("## File:", "@@ ")):
            continue
        number, kind, text = int(m[1]), m[2], m[3]
        assert 1 <= number <= len(new_lines), (f.path, number, len(new_lines))
        assert text == new_lines[number - 1], (f.path, number)
        checked += 1
        added_rendered += kind == "+"
    assert added_rendered == len(f.added_lines)  # every added line is shown, with its number
    if old_lines is not None:
        for hunk in f.hunks:
            for ln in hunk.lines:
                if ln.old_no is not None:
                    assert ln.text == old_lines[ln.old_no - 1], (f.path, "old", ln.old_no)
    return checked


# --- 1. generated texts --------------------------------------------------------------------------------------------

texts = st.lists(st.sampled_from(ALPHABET), max_size=40)


def git_style_diff(before: list[str], after: list[str], context: int) -> str:
    body = list(difflib.unified_diff(before, after, "a/f.txt", "b/f.txt", n=context, lineterm=""))
    if not body:
        return ""
    return "diff --git a/f.txt b/f.txt\n" + "\n".join(body) + "\n"


@settings(max_examples=250, deadline=None)
@given(before=texts, after=texts, context=st.integers(min_value=0, max_value=4))
def test_rendered_numbers_match_the_new_file_difflib(before, after, context):
    raw = git_style_diff(before, after, context)
    files = parse_diff(raw)
    if not raw:
        assert files == ()
        return
    (f,) = files
    check_rendered(f, after, before)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("no-index")


line_endings = st.sampled_from(["\n", "\r\n"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=texts, after=texts, eol=line_endings, before_final=st.booleans(), after_final=st.booleans())
def test_rendered_numbers_match_the_new_file_git_no_index(scratch, before, after, eol, before_final, after_final):
    def text(lines: list[str], final: bool) -> str:
        return eol.join(lines) + (eol if final and lines else "")

    old_text, new_text = text(before, before_final), text(after, after_final)
    (scratch / "old.txt").write_bytes(old_text.encode())
    (scratch / "new.txt").write_bytes(new_text.encode())
    raw = subprocess.run(["git", "diff", "--no-index", "--no-ext-diff", "--no-color", "--", "old.txt", "new.txt"],
                         cwd=scratch, capture_output=True).stdout
    files = parse_diff(raw)
    if not raw:
        assert old_text == new_text and files == ()
        return
    (f,) = files
    if not f.hunks:  # e.g. an empty file against another empty file
        return
    check_rendered(f, new_side(new_text), new_side(old_text))


# --- 2 and 3. real histories ----------------------------------------------------------------------------------------


class BlobReader:
    """`git cat-file --batch`: file contents at a commit without a process per file."""

    def __init__(self, repo_path: Path) -> None:
        self.proc = subprocess.Popen(["git", "cat-file", "--batch"], cwd=repo_path, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE)

    def read(self, rev: str, path: str) -> bytes | None:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(f"{rev}:{path}\n".encode())
        self.proc.stdin.flush()
        header = self.proc.stdout.readline().split()
        if len(header) < 3 or header[1] != b"blob":
            return None
        data = self.proc.stdout.read(int(header[2]))
        self.proc.stdout.read(1)  # the newline after the object
        return data

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=10)


def check_history(repo_path: Path, *, max_commits: int, max_seconds: float) -> tuple[int, int, int]:
    """Check every commit (first parent, or the empty tree for a root); return (commits, files, lines) checked."""
    repo = Repository(repo_path)
    log = subprocess.run(["git", "log", "--format=%H %P", f"-{max_commits}"], cwd=repo_path, capture_output=True,
                         text=True, check=True).stdout.split("\n")
    reader = BlobReader(repo_path)
    started = time.monotonic()
    commits = files = lines = 0
    try:
        for entry in filter(None, log):
            if time.monotonic() - started > max_seconds:
                break
            sha, *parents = entry.split()
            raw = repo.diff(DiffSpec(revisions=(parents[0] if parents else EMPTY_TREE, sha)))
            for f in parse_diff(raw):
                if f.status == "deleted" or f.is_binary or f.is_submodule or f.is_symlink or not f.hunks:
                    continue
                blob = reader.read(sha, f.path)
                assert blob is not None, (sha, f.path)
                old = reader.read(parents[0], f.old_path) if parents and f.old_path else None
                old_lines = new_side(old.decode("utf-8", "replace")) if old is not None else None
                lines += check_rendered(f, new_side(blob.decode("utf-8", "replace")), old_lines)
                files += 1
            commits += 1
    finally:
        reader.close()
    return commits, files, lines


def _history_available(path: Path) -> bool:
    probe = subprocess.run(["git", "rev-list", "--count", "HEAD"], cwd=path, capture_output=True, text=True)
    shallow = subprocess.run(["git", "rev-parse", "--is-shallow-repository"], cwd=path, capture_output=True,
                             text=True).stdout.strip()
    return probe.returncode == 0 and int(probe.stdout.strip() or 0) >= 2 and shallow != "true"


def test_every_commit_of_this_repository():
    if not (PROJECT_ROOT / ".git").exists() or not _history_available(PROJECT_ROOT):
        pytest.skip("this checkout has no history to check (shallow or not a git clone)")
    commits, files, lines = check_history(PROJECT_ROOT, max_commits=200, max_seconds=20)
    assert commits >= 2 and files >= 1 and lines >= 1


def _scripted_history(root: Path, commits: int = 30) -> GitRepo:
    """A history with edits, insertions, deletions, renames, CRLF files, missing final newlines and a merge."""
    rng = random.Random(5)
    repo = GitRepo(root)
    files: dict[str, list[str]] = {}
    for step in range(commits):
        if step == commits // 2:
            repo.checkout("side", create=True)
        if step == commits // 2 + 3:
            repo.checkout("main")
            repo.commit_files({"main.txt": f"main {step}\n"}, "main moves on")
            repo.merge("side")
            continue
        action = rng.choice(["edit", "edit", "edit", "add", "rename"] if files else ["add"])
        if action == "add":
            name = f"dir{rng.randrange(3)}/file {len(files)}.txt"
            files[name] = [rng.choice(ALPHABET) for _ in range(rng.randrange(1, 30))]
        elif action == "rename":
            old = rng.choice(sorted(files))
            new = old.replace(".txt", f" r{step}.txt")
            repo.rename(old, new)
            files[new] = files.pop(old)
            name = new
        else:
            name = rng.choice(sorted(files))
            lines = files[name]
            for _ in range(rng.randrange(1, 6)):
                at = rng.randrange(len(lines) + 1)
                op = rng.choice(["insert", "delete", "replace"])
                if op == "insert" or not lines:
                    lines.insert(at, rng.choice(ALPHABET))
                elif op == "delete":
                    del lines[min(at, len(lines) - 1)]
                else:
                    lines[min(at, len(lines) - 1)] = rng.choice(ALPHABET)
        eol = "\r\n" if "1" in name else "\n"
        final = eol if step % 4 else ""
        repo.write(name, eol.join(files[name]) + (final if files[name] else ""))
        repo.add(name)
        repo.commit(f"step {step}", allow_empty=True)
    return repo


def test_every_commit_of_a_scripted_history(tmp_path):
    repo = _scripted_history(tmp_path / "history")
    commits, files, lines = check_history(repo.path, max_commits=200, max_seconds=20)
    assert commits >= 30 and files >= 25 and lines >= 100
