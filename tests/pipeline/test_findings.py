"""Right line or no line: how a finding's quote decides where it lands (issue 12 item 2, issue 17's moved spans)."""

from __future__ import annotations

from collections import Counter

from reviewbot.core.models import Diff, FileDiff, Finding, Hunk, Line, Severity
from reviewbot.pipeline.findings import PARTIAL_REACH, anchor, filter_findings


def _file(texts, *, added=None, start=1, path="src/x.c"):
    """One hunk of `texts` from line `start`; the lines numbered in `added` are added, the rest context."""
    added = set(range(start, start + len(texts))) if added is None else set(added)
    lines = []
    old = start
    for i, text in enumerate(texts):
        n = start + i
        if n in added:
            lines.append(Line("+", text, None, n))
        else:
            lines.append(Line(" ", text, old, n))
            old += 1
    hunk = Hunk(start, old - start, start, len(texts), "", tuple(lines))
    return FileDiff(path, path, "modified", (hunk,))


def _finding(line, quote=None, end_line=None, path="src/x.c"):
    return Finding(path=path, line=line, end_line=end_line, severity=Severity.ERROR, category="bug",
                   message="m", quote=quote)


def test_exact_match_beats_a_nearer_partial_one():
    # The case: cited line 3 with the quote of line 4, while line 2 merely contains it.
    f = _file(["x = 1;", "if(!data->wildcard) {", "  y();", "if(!data->wildcard)", "z();"])
    moved = anchor(_finding(3, "if(!data->wildcard)"), f, "added")
    assert (moved.line, moved.reanchored_from) == (4, 3)


def test_exact_match_at_the_cited_line_stays():
    f = _file(["if(!data->wildcard) {", "if(!data->wildcard)"])
    assert anchor(_finding(2, "if(!data->wildcard)"), f, "added").reanchored_from is None


def test_exact_match_at_the_cited_line_beats_a_nearer_partial_one_elsewhere():
    f = _file(["return value + offset;", "return value;", "pass"])
    kept = anchor(_finding(2, "return value;"), f, "added")
    assert kept.line == 2 and kept.reanchored_from is None


def test_partial_match_at_the_cited_line_is_kept_when_no_line_is_exact():
    f = _file(["call_the_function(a, b);", "call_the_function(a, c);"])
    kept = anchor(_finding(2, "call_the_function(a"), f, "added")
    assert kept.line == 2 and kept.reanchored_from is None


def test_off_by_one_with_the_right_quote_lands_on_the_quoted_line():
    f = _file(["alpha_value = 1", "beta_value = 2", "gamma_value = 3"], start=40)
    for cited in (40, 42):
        assert anchor(_finding(cited, "beta_value = 2"), f, "added").line == 41


def test_quote_found_only_on_context_lines_is_not_moved_there_in_added_mode():
    f = _file(["unchanged_line_here()", "added_line_here()"], added=(2,))
    assert anchor(_finding(2, "unchanged_line_here()"), f, "added") is None
    out = filter_findings([_finding(1, "unchanged_line_here()")], Diff((f,)), "added")
    assert out.kept == () and out.dropped["off-diff"] == 1


def test_a_quote_that_exists_nowhere_is_dropped_and_never_lands_elsewhere():
    f = _file([f"line_{i} = {i}" for i in range(50)])
    out = filter_findings([_finding(10, "does_not_exist_anywhere()")], Diff((f,)), "added")
    assert out.kept == () and out.dropped == Counter(unanchored=1)


def test_a_kept_finding_always_sits_on_a_line_holding_its_quote():
    texts = [f"value_{i % 7} = compute({i % 5})" for i in range(60)]
    f = _file(texts, added=range(1, 61, 2))
    for cited in range(1, 61):
        for quote in ("value_3 = compute(1)", "compute(4)", "value_6", "nothing_like_it"):
            got = anchor(_finding(cited, quote), f, "added")
            if got is not None and got.line != cited:
                assert got.line in f.added_lines
            if got is not None:
                assert "".join(quote.split()) in "".join(f.new_line_text(got.line).split())


def test_quote_with_the_prompt_prefix_copied_in_still_matches():
    f = _file(["first_line()", "second_line()"], start=9)
    assert anchor(_finding(9, "  10 + second_line()"), f, "added").line == 10


def test_a_redacted_line_matches_its_placeholder_as_sent():
    real = _file(["token = 'ghp_realsecretvalue123456789012345678'", "use(token)"])
    sent = _file(["token = '[REDACTED:github-token]'", "use(token)"])
    finding = _finding(1, "token = '[REDACTED:github-token]'")
    assert filter_findings([finding], Diff((real,)), "added").kept == ()
    kept = filter_findings([finding], Diff((real,)), "added", sent={real.path: sent}).kept
    assert [f.line for f in kept] == [1]


def test_a_moved_span_shifts_whole_only_when_every_line_moved_with_it():
    f = _file([f"statement_{i}()" for i in range(1, 21)], start=1)
    # Cited 5..8 with the quote of line 6 outside? No: inside the span, so the span is kept (starting at the quote).
    inside = anchor(_finding(5, "statement_6()", end_line=8), f, "added")
    assert (inside.line, inside.end_line) == (6, 8)
    # Cited 5..8 with the quote of line 9 (outside): all of 9..12 are changed lines, so the span moves whole.
    whole = anchor(_finding(5, "statement_9()", end_line=8), f, "added")
    assert (whole.line, whole.end_line, whole.reanchored_from) == (9, 12, 5)


def test_a_moved_span_that_would_cover_unchanged_lines_keeps_only_the_quoted_line():
    texts = [f"statement_{i}()" for i in range(1, 21)]
    f = _file(texts, added=(1, 2, 3, 4, 5, 6, 9, 10))
    moved = anchor(_finding(5, "statement_9()", end_line=8), f, "added")
    assert (moved.line, moved.end_line) == (9, None)


def test_end_line_is_clipped_to_added_lines_not_context():
    f = _file([f"s{i}_long_enough()" for i in range(1, 11)], added=(1, 2, 3))
    kept = filter_findings([_finding(2, "s2_long_enough()", end_line=8)], Diff((f,)), "added").kept
    assert (kept[0].line, kept[0].end_line) == (2, 3)


def test_a_path_with_a_newline_quoted_as_the_prompt_shows_it_is_found():
    f = _file(["evil_code()"], path="a\nb.py")
    kept = filter_findings([_finding(1, "evil_code()", path="a\\nb.py")], Diff((f,)), "added").kept
    assert [k.path for k in kept] == ["a\nb.py"]


def test_partial_matches_are_searched_only_near_the_cited_line():
    texts = ["filler_line()"] * (PARTIAL_REACH * 3) + ["target_call(argument_one)"]
    f = _file(texts)
    assert anchor(_finding(1, "target_call(argument"), f, "added") is None  # far and partial: no line
    assert anchor(_finding(1, "target_call(argument_one)"), f, "added").line == len(texts)  # exact: found


def test_each_file_is_indexed_once_however_many_findings_it_gets(monkeypatch):
    """Per-finding work is lookups in one per-file index (built once), never a scan of the file per finding."""
    from reviewbot.core import models

    builds = []
    real_build = models.LineIndex.build.__func__
    monkeypatch.setattr(models.LineIndex, "build",
                        classmethod(lambda cls, hunks: builds.append(1) or real_build(cls, hunks)))
    files = tuple(_file([f"line_{i}_{j}()" for i in range(300)], path=f"f{j}.c") for j in range(3))
    findings = [_finding(i % 300 + 1, "quoted_text_found_nowhere()", path=f"f{i % 3}.c") for i in range(900)]
    out = filter_findings(findings, Diff(files), "added")
    assert out.dropped["unanchored"] == 900 and len(builds) == 3


def test_findings_on_a_file_named_with_a_line_break_are_reported_end_to_end(repo, model_server, run_cli):
    import json

    name = "odd\nname.py"
    repo.write(name, "import os\nos.system(user_input)\n")
    repo.add(name)
    # The prompt shows the name with the line break escaped; the model quotes it back that way.
    model_server.answer_findings([{"path": "odd\\nname.py", "line": 2, "severity": "error", "category": "security",
                                   "message": "shell injection", "quote": "os.system(user_input)"}])
    result = run_cli("diff", "--staged", "--format", "json")
    report = json.loads(result.stdout)
    assert "odd\\nname.py" in model_server.requests[0]["messages"][1]["content"]
    assert [(f["path"], f["line"]) for f in report["findings"]] == [(name, 2)]
    assert report["summary"]["files_reviewed"] == [name] and report["summary"]["dropped"] == {}


def test_a_quote_of_a_redacted_line_as_the_model_saw_it_is_kept_end_to_end(repo, model_server, run_cli):
    import json

    from tests.helpers.real_history import diff_of_request

    token = "ghp_R8fK2mQ9xL4vT7wZ1pN6sJ3hB5cD0eA9gF2k"  # a GitHub token's shape, not a real one
    repo.write("deploy.py", f"import requests\nTOKEN = '{token}'\nrequests.get(URL, headers={{'a': TOKEN}})\n")
    repo.add("deploy.py")
    seen = {}

    def quote_line_two(body):
        (lines,) = diff_of_request(body).values()
        seen["text"] = lines[2][1]
        return {"findings": [{"path": "deploy.py", "line": 3, "severity": "error", "category": "hardcoded-token",
                              "message": "token in code", "quote": lines[2][1]}]}  # cited one line off

    model_server.default = quote_line_two
    report = json.loads(run_cli("diff", "--staged", "--format", "json").stdout)
    assert token not in seen["text"] and "TOKEN = " in seen["text"]  # the model saw the placeholder
    model = [(f["line"], f["reanchored_from"]) for f in report["findings"] if f["category"] == "hardcoded-token"]
    assert model == [(2, 3)] and "unanchored" not in report["summary"]["dropped"]


def test_a_range_cut_to_the_changed_lines_says_so_and_offers_no_replacement():
    from dataclasses import replace

    from reviewbot.reporters.suggestion import advice, advice_heading, replacement

    texts = [f"statement_{i}()" for i in range(1, 21)]
    f = _file(texts, added=(1, 2, 3, 4, 5))  # 6..20 are context lines
    cited = replace(_finding(2, "statement_2()", end_line=8, path=f.path), suggestion="statement_2(x)\n")
    (kept,) = filter_findings([cited], Diff(files=(f,)), "added").kept
    assert (kept.line, kept.end_line, kept.clipped_from) == (2, 5, 8)
    # The replacement was written for lines 2-8; offered for 2-5 it would keep lines the model meant to replace.
    assert replacement(kept) is None and advice(kept) == "statement_2(x)\n"
    assert "written for lines 2\u20138" in advice_heading(replace(kept, path="src/x.py"))
    whole = replace(_finding(2, "statement_2()", end_line=4, path=f.path), suggestion="statement_2(x)\n")
    (untouched,) = filter_findings([whole], Diff(files=(f,)), "added").kept
    assert untouched.clipped_from is None and replacement(replace(untouched, path="src/x.py")) == "statement_2(x)\n"
