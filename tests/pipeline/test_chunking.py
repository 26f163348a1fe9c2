"""Chunking: every request under its budget, every file covered, and stable under a one-file edit."""

from __future__ import annotations

import dataclasses
import math
import random
import re
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from reviewbot.core.errors import ConfigError
from reviewbot.core.models import Chunk, FileDiff, Hunk, Line
from reviewbot.pipeline.chunking import MIN_DIFF_TOKENS, chunk_cost, make_chunks
from reviewbot.pipeline.tokens import estimate_tokens

OVERHEAD = 1_500
ANSWER = 1_000

WORDS = ("value", "result", "items", "self", "config", "await", "return", "client", "timeout", "for", "in", "if",
         "None", "True", "len", "json", "request", "response", "db", "session", "user_id", "error", "logger")


# -- a small factory for diffs -----------------------------------------------------------------------------

def code_line(rng: random.Random, max_words: int = 12) -> str:
    indent = "    " * rng.randrange(4)
    words = [rng.choice(WORDS) for _ in range(rng.randrange(1, max_words + 1))]
    return indent + " ".join(words) + rng.choice(("", ":", "()", " = 1", "  # note", "[0]", ","))


def make_hunk(rng: random.Random, old_start: int, new_start: int, n_lines: int, line_words: int = 12) -> Hunk:
    lines: list[Line] = []
    old_no, new_no = old_start, new_start
    for _ in range(n_lines):
        kind = rng.choice("+ + -")
        text = code_line(rng, line_words)
        if kind == "+":
            lines.append(Line("+", text, None, new_no))
            new_no += 1
        elif kind == "-":
            lines.append(Line("-", text, old_no, None))
            old_no += 1
        else:
            lines.append(Line(" ", text, old_no, new_no))
            old_no += 1
            new_no += 1
    return Hunk(old_start, old_no - old_start, new_start, new_no - new_start, "def handler():", tuple(lines))


def make_file(path: str, hunk_sizes: Sequence[int], seed: int = 0, line_words: int = 12) -> FileDiff:
    rng = random.Random(f"{path}:{seed}")
    hunks, old, new = [], 1, 1
    for size in hunk_sizes:
        hunk = make_hunk(rng, old, new, size, line_words)
        hunks.append(hunk)
        old += hunk.old_len + 25
        new += hunk.new_len + 25
    return FileDiff(path=path, old_path=path, status="modified", hunks=tuple(hunks))


def add_line(f: FileDiff, hunk_index: int = 0, text: str = "    extra = compute(value)") -> FileDiff:
    """The same file with one more added line at the end of one hunk (a typical small edit)."""
    h = f.hunks[hunk_index]
    new_no = h.new_start + h.new_len
    grown = dataclasses.replace(h, lines=h.lines + (Line("+", text, None, new_no),), new_len=h.new_len + 1)
    return dataclasses.replace(f, hunks=f.hunks[:hunk_index] + (grown,) + f.hunks[hunk_index + 1:])


def render(f: FileDiff) -> str:
    """A stand-in for the prompt's renderer: header, hunk headers, numbered lines."""
    out = [f"## File: {f.path}"]
    for h in f.hunks:
        out.append(f"@@ -{h.old_start},{h.old_len} +{h.new_start},{h.new_len} @@ {h.section}".rstrip())
        for ln in h.lines:
            number = "" if ln.new_no is None else str(ln.new_no)
            out.append(f"{number:>5} {ln.kind} {ln.text}")
    return "\n".join(out)


def chunk_text(chunk: Chunk) -> str:
    notes = "".join(f"- {n}\n" for n in chunk.notes)
    return notes + "\n\n".join(render(f) for f in chunk.files)


def request_tokens(chunk: Chunk) -> int:
    return OVERHEAD + estimate_tokens(chunk_text(chunk)) + ANSWER


def chunk(files: Sequence[FileDiff], budget: int) -> tuple[list[Chunk], list]:
    return make_chunks(files, render=render, budget_tokens=budget, overhead_tokens=OVERHEAD, answer_tokens=ANSWER)


def assert_budget_and_coverage(files: Sequence[FileDiff], chunks: list[Chunk], skipped: list, budget: int) -> None:
    for c in chunks:
        assert c.files
        assert request_tokens(c) <= budget
        assert OVERHEAD + chunk_cost(c, render) + ANSWER <= budget
    # Every added line of every file not skipped is sent, with its text whole (a cut line is named in a note).
    sent: dict[str, dict[int, str]] = {}
    for c in chunks:
        for f in c.files:
            sent.setdefault(f.path, {})
            for h in f.hunks:
                assert h.new_len == sum(1 for ln in h.lines if ln.kind != "-")  # headers match what a part holds
                assert h.old_len == sum(1 for ln in h.lines if ln.kind != "+")
                numbered = [ln.new_no for ln in h.lines if ln.new_no is not None]
                if numbered:
                    assert h.new_start == numbered[0]
                for ln in h.lines:
                    if ln.kind == "+":
                        sent.setdefault(f.path, {})[ln.new_no] = ln.text
    skipped_paths = {s.path for s in skipped}
    for f in files:
        if f.path in skipped_paths:
            continue
        assert f.path in sent, f"{f.path} is in no chunk and not skipped"
        for h in f.hunks:
            for ln in h.lines:
                if ln.kind != "+":
                    continue
                assert ln.new_no in sent[f.path], f"{f.path}:{ln.new_no} was never sent"
                if sent[f.path][ln.new_no] != ln.text:
                    assert ln.text.startswith(sent[f.path][ln.new_no])
                    assert any(f.path in n and "characters" in n for c in chunks for n in c.notes)


# -- tests ---------------------------------------------------------------------------------------------------

def test_small_diff_is_one_chunk_of_all_files_in_path_order() -> None:
    files = [make_file(p, [5, 3]) for p in ("src/b.py", "src/a.py", "README.md")]
    chunks, skipped = chunk(files, 32_000)
    assert skipped == []
    assert len(chunks) == 1
    assert chunks[0].paths == ("README.md", "src/a.py", "src/b.py")
    assert chunks[0].notes == ()
    assert set(chunks[0].files) == set(files)  # whole files pass through untouched


def test_no_files_no_chunks() -> None:
    assert chunk([], 8_000) == ([], [])


def test_binary_and_empty_files_are_skipped_with_a_reason() -> None:
    binary = FileDiff(path="logo.png", old_path="logo.png", status="modified", is_binary=True)
    mode_only = FileDiff(path="run.sh", old_path="run.sh", status="modified", old_mode="100644", new_mode="100755")
    chunks, skipped = chunk([binary, mode_only, make_file("a.py", [3])], 8_000)
    assert {(s.path, s.reason) for s in skipped} == {("logo.png", "binary"), ("run.sh", "no text changes")}
    assert [c.paths for c in chunks] == [("a.py",)]


def test_budget_too_small_for_the_prompt_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="--max-request-tokens"):
        chunk([make_file("a.py", [3])], OVERHEAD + ANSWER + MIN_DIFF_TOKENS - 1)
    with pytest.raises(ConfigError):
        make_chunks([], render=render, budget_tokens=1_000, overhead_tokens=4_000, answer_tokens=500)


def test_many_files_respect_the_budget_and_are_all_covered() -> None:
    files = [make_file(f"pkg{i % 7}/mod_{i}.py", [random.Random(i).randrange(1, 40)] * 2) for i in range(120)]
    budget = OVERHEAD + ANSWER + 6_000
    chunks, skipped = chunk(files, budget)
    assert skipped == []
    assert len(chunks) > 5
    assert_budget_and_coverage(files, chunks, skipped, budget)
    # files stay whole and in path order across and within chunks
    order = [p for c in chunks for p in c.paths]
    assert order == sorted(f.path for f in files)
    # and the packing is not wasteful: close to what filling every chunk to the brim would need
    total = sum(estimate_tokens(render(f)) for f in files)
    assert len(chunks) <= math.ceil(1.6 * total / 6_000) + 1


def test_same_input_in_any_order_gives_the_same_chunks() -> None:
    files = [make_file(f"d{i % 5}/f{i}.go", [10, 20]) for i in range(60)]
    budget = OVERHEAD + ANSWER + 4_000
    first, _ = chunk(files, budget)
    shuffled = list(files)
    random.Random(3).shuffle(shuffled)
    second, _ = chunk(shuffled, budget)
    assert first == second


def test_file_too_big_alone_is_split_by_hunks_in_order() -> None:
    big = make_file("service/big.py", [60] * 12)
    small = [make_file("a.py", [4]), make_file("z.py", [4])]
    room = 2_500
    budget = OVERHEAD + ANSWER + room
    assert estimate_tokens(render(big)) > room
    chunks, skipped = chunk([*small, big], budget)
    assert skipped == []
    assert_budget_and_coverage([*small, big], chunks, skipped, budget)
    pieces = [c for c in chunks if "service/big.py" in c.paths]
    assert len(pieces) >= 3
    for c in pieces:
        assert c.paths == ("service/big.py",)  # a split file has its requests to itself
        assert c.notes == ()  # nothing was clipped: every hunk fits on its own
    assert tuple(h for c in pieces for h in c.files[0].hunks) == big.hunks
    assert [c.paths[0] for c in chunks] == sorted(c.paths[0] for c in chunks)


def test_hunk_too_big_alone_is_split_into_parts_that_send_every_line() -> None:
    huge = make_file("gen/table.py", [3, 900, 3])
    room = 2_000
    budget = OVERHEAD + ANSWER + room
    chunks, skipped = chunk([huge], budget)
    assert skipped == []
    assert_budget_and_coverage([huge], chunks, skipped, budget)
    parts = [c for c in chunks if c.notes]
    assert len(parts) >= 3
    h = huge.hunks[1]
    header = f"@@ -{h.old_start},{h.old_len} +{h.new_start},{h.new_len} @@"
    own_starts = []
    for number, part in enumerate(parts, 1):
        (note,) = part.notes
        assert note.startswith(f"gen/table.py: hunk {header} is split over {len(parts)} requests to fit the token "
                               f"budget: this is part {number} of {len(parts)}, new lines ")
        first, last = (int(x) for x in re.search(r"new lines (\d+)-(\d+)", note).groups())
        own_starts.append((first, last))
        lines = part.files[0].hunks[0].lines
        at = h.lines.index(lines[0])
        assert h.lines[at:at + len(lines)] == lines  # a contiguous slice of the hunk
        starts_at = next(i for i, ln in enumerate(h.lines) if ln.new_no == first)
        if number > 1:  # later parts show some of the lines before their own, for reading context
            assert at < starts_at
    # the parts' own lines follow each other without gap or overlap, from the hunk's first line to its last
    assert own_starts[0][0] == h.new_start and own_starts[-1][1] == h.new_start + h.new_len - 1
    assert all(b[0] == a[1] + 1 for a, b in zip(own_starts, own_starts[1:]))


def test_single_enormous_line_is_cut_to_its_beginning() -> None:
    line = Line("+", "x=[" + ",".join(str(n) for n in range(200_000)) + "]", None, 1)
    f = FileDiff(path="data/blob.js", old_path=None, status="added", hunks=(Hunk(0, 0, 1, 1, "", (line,)),))
    budget = OVERHEAD + ANSWER + 1_000
    chunks, skipped = chunk([f], budget)
    assert skipped == []
    (c,) = chunks
    assert request_tokens(c) <= budget
    shown = c.files[0].hunks[0].lines[0].text
    assert line.text.startswith(shown) and 100 < len(shown) < len(line.text)
    assert c.notes == (
        f"data/blob.js: hunk @@ -0,0 +1,1 @@ clipped to 1 of 1 lines, and that line to {len(shown)} of "
        f"{len(line.text)} characters, to fit the token budget",
    )


def test_a_file_whose_header_alone_does_not_fit_is_skipped() -> None:
    path = "deep/" + "/".join(f"folder_{n}" for n in range(400)) + "/x.py"
    f = make_file(path, [3])
    chunks, skipped = chunk([f, make_file("ok.py", [3])], OVERHEAD + ANSWER + MIN_DIFF_TOKENS)
    assert [c.paths for c in chunks] == [("ok.py",)]
    assert [(s.path, s.reason) for s in skipped] == [(path, "too large for the token budget")]


def changed_chunks(before: list[Chunk], after: list[Chunk]) -> int:
    """How many requests a rerun needs when every unchanged chunk text is answered from the cache."""
    old = {chunk_text(c) for c in before}
    return sum(1 for c in after if chunk_text(c) not in old)


def test_one_edited_file_of_240_changes_at_most_two_chunks() -> None:
    rng = random.Random(240)
    folders = [f"services/svc{n}" for n in range(12)] + ["lib", "lib/util", "tests", "docs"]
    files = [
        make_file(f"{rng.choice(folders)}/file_{i:03d}.py", [rng.randrange(2, 30) for _ in range(rng.randrange(1, 4))])
        for i in range(240)
    ]
    budget = OVERHEAD + ANSWER + 8_000
    before, _ = chunk(files, budget)
    assert len(before) >= 12
    counts = []
    for k in range(0, 240, 3):  # edit 80 different files, one at a time
        edited = list(files)
        edited[k] = add_line(files[k])
        after, skipped = chunk(edited, budget)
        assert skipped == []
        counts.append(changed_chunks(before, after))
    assert max(counts) <= 2, counts
    assert counts.count(1) >= 0.9 * len(counts)  # usually only the edited file's own chunk changes


def test_greedy_packing_would_not_be_stable() -> None:
    """The property above is not free: a first-fit packer shifts every chunk after the edit."""
    rng = random.Random(7)
    files = [make_file(f"m/f{i:03d}.py", [rng.randrange(5, 25)]) for i in range(240)]
    room = 8_000

    def greedy(fs: Sequence[FileDiff]) -> list[Chunk]:
        out, group, used = [], [], 0
        for f in fs:
            cost = estimate_tokens(render(f)) + 8
            if group and used + cost > room:
                out.append(Chunk(files=tuple(group)))
                group, used = [], 0
            group.append(f)
            used += cost
        return out + [Chunk(files=tuple(group))]

    edited = list(files)
    grown = files[3]
    for n in range(40):
        grown = add_line(grown, text=f"    step_{n} = transform(step_{n - 1})")
    edited[3] = grown
    assert changed_chunks(greedy(files), greedy(edited)) > 2
    budget = OVERHEAD + ANSWER + room
    assert changed_chunks(chunk(files, budget)[0], chunk(edited, budget)[0]) <= 2


def test_adding_a_file_disturbs_only_its_neighbourhood() -> None:
    rng = random.Random(11)
    files = [make_file(f"app/f{i:03d}.py", [rng.randrange(5, 25)]) for i in range(240)]
    budget = OVERHEAD + ANSWER + 8_000
    before, _ = chunk(files, budget)
    after, _ = chunk([*files, make_file("app/f100b.py", [10])], budget)
    assert changed_chunks(before, after) <= 2


paths = st.lists(
    st.from_regex(r"[a-z]{1,8}(/[a-z_]{1,8}){0,3}\.(py|go|js|md)", fullmatch=True), min_size=0, max_size=25, unique=True
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    paths=paths,
    sizes=st.lists(st.lists(st.integers(1, 400), min_size=1, max_size=4), min_size=25, max_size=25),
    words=st.integers(1, 40),
    room=st.integers(MIN_DIFF_TOKENS, 12_000),
    seed=st.integers(0, 10**6),
)
def test_random_diffs_respect_budget_and_coverage(paths, sizes, words, room, seed) -> None:
    files = [make_file(p, s, seed=seed, line_words=words) for p, s in zip(paths, sizes)]
    budget = OVERHEAD + ANSWER + room
    chunks, skipped = chunk(files, budget)
    assert_budget_and_coverage(files, chunks, skipped, budget)
    again, _ = chunk(list(reversed(files)), budget)
    assert again == chunks
