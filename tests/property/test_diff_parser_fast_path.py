"""parse_diff reads hunk lines itself after unidiff's metadata-only pass; it must give exactly what unidiff's full
parse gives (diffparse._parse_fully), for every input: the same FileDiffs, or the same error.

Compared on arbitrary text made of diff syntax (headers, hunk headers with wrong counts, markers, CR, blank lines,
truncated input), on real `git diff` output of random edits, on the golden fixtures and on every commit of this
repository's history.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from reviewbot.adapters import diff_parser as diffparse
from reviewbot.adapters.diff_parser import parse_diff
from reviewbot.core.errors import GitError
from tests.helpers import PROJECT_ROOT, GitRepo

GOLDEN = Path(__file__).parents[1] / "golden"


def _outcome(parse, text):
    try:
        return ("ok", tuple(parse(text)))
    except GitError as err:
        return ("error", str(err))


def assert_same(text: str) -> None:
    fast = _outcome(parse_diff, text)
    full = _outcome(diffparse._parse_fully, text)
    assert fast == full
    if fast[0] == "ok":  # equal FileDiffs also carry equal line numbers and texts; check the kinds' types too
        assert [type(f) for f in fast[1]] == [type(f) for f in full[1]]


# Lines a diff is made of, including the ones that make parsers disagree.
_HEADERS = st.sampled_from([
    "diff --git a/x.py b/x.py", "diff --git a/y b/y", "--- a/x.py", "+++ b/x.py", "--- /dev/null", "+++ /dev/null",
    "index 1111111..2222222 100644", "new file mode 100644", "deleted file mode 100644", "old mode 100644",
    "new mode 100755", "rename from x.py", "rename to z.py", "similarity index 90%",
    "Binary files a/b.png and b/b.png differ", "GIT binary patch", "literal 0",
])
_HUNK_HEADERS = st.builds(
    lambda a, b, c, d, sect: (f"@@ -{a}{',' + str(b) if b is not None else ''} "
                              f"+{c}{',' + str(d) if d is not None else ''} @@{sect}"),
    st.integers(0, 4), st.one_of(st.none(), st.integers(0, 4)), st.integers(0, 4),
    st.one_of(st.none(), st.integers(0, 4)), st.sampled_from(["", " def f():", " class A:\r", "  "]),
)
_BODY = st.builds(
    lambda kind, text: kind + text,
    st.sampled_from(["+", "-", " ", "\\", "", "\r", "x", "@", "\t"]),
    st.sampled_from(["", "a", "b = 1", "\r", "\r\r", " No newline at end of file", "@@ -1 +1 @@", "--- a", "é"]),
)
_LINES = st.one_of(_HEADERS, _HUNK_HEADERS, _BODY, _BODY, _BODY)


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_LINES, min_size=1, max_size=25), st.booleans())
def test_arbitrary_diff_syntax_parses_the_same_or_fails_the_same(lines, final_newline):
    assert_same("\n".join(lines) + ("\n" if final_newline else ""))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(["diff --git a/x.py b/x.py", "--- a/x.py", "+++ b/x.py", "@@ -1,2 +1,2 @@",
                                 "@@ -0,0 +0,0 @@", "@@ -1 +1 @@", "-a", "+b", " c", "", "\\ No newline at end of file",
                                 "\r", " d\r"]), min_size=1, max_size=30))
def test_well_formed_fragments_parse_the_same(lines):
    text = "\n".join(["diff --git a/x.py b/x.py", "--- a/x.py", "+++ b/x.py", *lines]) + "\n"
    assert_same(text)


_TEXTS = st.sampled_from(["", "a", "b = 1", "\r", "\r\r", "x\r", " No newline at end of file", "@@ -1 +1 @@", "é"])
_VALID_BODY = st.one_of(
    st.builds(lambda kind, text: kind + text, st.sampled_from(["+", "-", " ", " ", "\r"]), _TEXTS),
    st.sampled_from(["", "\\ No newline at end of file"]),
)
_FILE_HEADERS = st.sampled_from([
    ["diff --git a/x.py b/x.py", "index 1111111..2222222 100644", "--- a/x.py", "+++ b/x.py"],
    ["diff --git a/n.py b/n.py", "new file mode 100644", "index 0000000..2222222", "--- /dev/null", "+++ b/n.py"],
    ["diff --git a/d.py b/d.py", "deleted file mode 100644", "index 1111111..0000000", "--- a/d.py", "+++ /dev/null"],
    ["--- x.py", "+++ x.py"],
    ["diff --git a/o.py b/r.py", "similarity index 80%", "rename from o.py", "rename to r.py", "--- a/o.py",
     "+++ b/r.py"],
])


@st.composite
def _structured_diffs(draw) -> str:
    """Mostly well-formed diffs: each hunk's header counts its own body, sometimes off by one."""
    out: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        out += draw(_FILE_HEADERS)
        for _ in range(draw(st.integers(0, 3))):
            body = draw(st.lists(_VALID_BODY, max_size=8))
            old = sum(1 for b in body if b[:1] in ("-", " ", "", "\r"))
            new = sum(1 for b in body if b[:1] in ("+", " ", "", "\r"))
            old += draw(st.sampled_from([0] * 12 + [1, -1]))
            new += draw(st.sampled_from([0] * 12 + [1, -1]))
            start_old, start_new = draw(st.integers(0, 9)), draw(st.integers(0, 9))
            old_part = f"-{start_old}" + ("" if old == 1 and draw(st.booleans()) else f",{old}")
            new_part = f"+{start_new}" + ("" if new == 1 and draw(st.booleans()) else f",{new}")
            out.append(f"@@ {old_part} {new_part} @@" + draw(st.sampled_from(["", " def f():", " x\r"])))
            out += body
            out += draw(st.sampled_from([[], [], ["\\ No newline at end of file"], [""]]))
    return "\n".join(out) + draw(st.sampled_from(["\n", "\n", ""]))


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_structured_diffs())
def test_structured_diffs_parse_the_same(text):
    assert_same(text)


_FILE_LINES = st.sampled_from(["a", "b", "c", "", " ", "\tx", "-- a", "++ b", "@@ -1 +1 @@", "\\ No newline",
                               "line\r", "naïve", "x" * 30])


def _file_text(lines, crlf, final):
    sep = "\r\n" if crlf else "\n"
    return sep.join(lines) + (sep if final and lines else "")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.lists(_FILE_LINES, max_size=30), st.lists(_FILE_LINES, max_size=30), st.booleans(), st.booleans(),
       st.integers(0, 4))
def test_real_git_diffs_parse_the_same(tmp_path_factory, before, after, crlf, final, context):
    folder = tmp_path_factory.mktemp("pair")
    (folder / "a.txt").write_bytes(_file_text(before, crlf, final).encode())
    (folder / "b.txt").write_bytes(_file_text(after, crlf, not final).encode())
    out = subprocess.run(["git", "diff", "--no-index", "--no-color", f"-U{context}", "a.txt", "b.txt"],
                         cwd=folder, capture_output=True)
    assert out.returncode in (0, 1), out.stderr
    assert_same(out.stdout.decode("utf-8", "replace"))


def test_golden_diffs_parse_the_same():
    files = sorted(GOLDEN.glob("*.diff"))
    assert files
    for file in files:
        assert_same(file.read_text(encoding="utf-8"))


def test_this_repository_s_history_parses_the_same():
    if not (PROJECT_ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    log = subprocess.run(["git", "log", "--format=%H", "-n", "150"], cwd=PROJECT_ROOT, capture_output=True,
                         text=True, check=True).stdout.split()
    checked = 0
    for commit in log:
        raw = subprocess.run(["git", "show", "--format=", "--no-color", "-M", "-U3", commit], cwd=PROJECT_ROOT,
                             capture_output=True, check=True).stdout
        text = raw.decode("utf-8", "replace")
        assert_same(text)
        checked += bool(text.strip())
    assert checked >= min(10, len(log))


def test_a_staged_change_with_every_odd_case_parses_the_same(tmp_path):
    repo = GitRepo(tmp_path / "r")
    repo.write("crlf.txt", "one\r\ntwo\r\n")
    repo.write("nonl.txt", "a\nb")
    repo.write("gone.txt", "bye\n")
    repo.write("old name.py", "".join(f"l{i}\n" for i in range(30)))
    repo.write("bin.dat", b"\x00\x01\x02")
    repo.commit("base", all=True)
    repo.write("crlf.txt", "one\r\nTWO\r\n")
    repo.write("nonl.txt", "a\nc")
    repo.delete("gone.txt")
    repo.rename("old name.py", "néw name.py")
    repo.write("néw name.py", "".join(f"l{i}\n" for i in range(30)) + "more\n")
    repo.write("bin.dat", b"\x00\x03")
    repo.write("empty-lines.txt", "\n\n\nx\n")
    repo.stage_all()
    raw = repo.git_bytes("diff", "--cached", "--no-color", "-M").decode("utf-8", "replace")
    assert_same(raw)
    assert len(parse_diff(raw)) == 6
