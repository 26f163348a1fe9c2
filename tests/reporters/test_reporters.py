"""Reporters: every format from hand-built ReviewResults, hostile model text included, checked against the
consumers' schemas (copied into tests/schemas, see SOURCES.md there) and their parsing rules."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, strategies as st

from reviewbot.core.errors import ConfigError
from reviewbot.core.models import Finding, ReviewResult, Severity, Skipped, Usage
from reviewbot.reporters import REPORTERS, ReportOptions, render, summary_line
from reviewbot.reporters.base import is_blocking, sanitize_terminal
from reviewbot.reporters.github import escape_data, escape_property, unescape_data, unescape_property
from reviewbot.reporters.markdown import SIZE_LIMIT

SCHEMAS = Path(__file__).parents[1] / "schemas"
ALL_FORMATS = ("text", "json", "github", "sarif", "rdjson", "rdjsonl", "gitlab", "junit", "markdown")

# Model text shaped by a hostile pull request: workflow commands, escapes, Markdown/HTML, mentions, controls.
HOSTILE = (
    "Blocks the event loop\n::add-mask::hunter2\r\n  ::stop-commands::tok\n"
    "##[set-output name=pwned;]1 and ##vso[task.setvariable variable=x]y\n"
    "100% sure, a:b, c|d <script>alert(1)</script> `tick` [link](http://evil.example) "
    "\x1b[31mred\x1b[0m \x1b]8;;http://evil.example\x07click\x1b]8;;\x07 \x1b]0;title\x1b\\ "
    "\x9b2J\u202eevil\u202c @here @octo-org/team \x00nul\x07bell"
)
HOSTILE_SUGGESTION = "await asyncio.sleep(1)\n::error file=x::fake\n```\n"


def finding(path: str = "app/service.py", line: int = 21, severity: Severity = Severity.ERROR, **kw) -> Finding:
    kw.setdefault("category", "blocking-io")
    kw.setdefault("message", "time.sleep() blocks the event loop")
    return Finding(path=path, line=line, severity=severity, **kw)


def result(*findings: Finding, **kw) -> ReviewResult:
    kw.setdefault("files_reviewed", tuple(dict.fromkeys(f.path for f in findings)) + ("clean.py",))
    return ReviewResult(findings=tuple(findings), **kw)


def sample() -> ReviewResult:
    return result(
        finding(message=HOSTILE, end_line=23, suggestion=HOSTILE_SUGGESTION, agent="senior-backend-engineer",
                quote="    time.sleep(1)", confidence=0.82, reanchored_from=18),
        finding("a b/\u00fc,x:y.py", 3, Severity.WARNING, category="SQL Injection", message="query built with %s"),
        finding("docs/x.py", 1, Severity.INFO, category="style", message="nit: <b>bold</b> | pipe @here"),
        finding("app/service.py", 40, Severity.ERROR, category="secrets", message="AWS key committed",
                source="secrets", agent=""),
        skipped=(Skipped("poetry.lock", "lock file"),),
        failed=(Skipped("big.py", "model timed out"),),
        dropped=(("off-diff", 3), ("invalid", 1), ("off-diff", 1)),
        usage=Usage(requests=2, cached=1, tokens_in=1234, tokens_out=210),
        model="gpt-4o-mini",
        agents=("senior-backend-engineer",),
    )


def schema(name: str) -> dict:
    return json.loads((SCHEMAS / name).read_text(encoding="utf-8"))


def parse_workflow_command(line: str) -> tuple[str, dict[str, str], str] | None:
    """The runner's v2 parser (actions/runner ActionCommand.TryParseV2), reduced to what the tests need."""
    text = line.lstrip()
    if not text.startswith("::"):
        return None
    end = text.find("::", 2)
    if end < 0:
        return None
    name, _, props = text[2:end].partition(" ")
    properties = {}
    for prop in props.strip().split(","):
        key, sep, value = prop.partition("=")
        if sep and key and value:
            properties[key] = unescape_property(value)
    return name, properties, unescape_data(text[end + 2 :])


# --- registry and imports ---------------------------------------------------------------------------------------


def test_registry_has_every_format_and_rejects_unknown_ones():
    assert set(REPORTERS) == set(ALL_FORMATS)
    with pytest.raises(ConfigError, match="Unknown report format 'yaml'"):
        render("yaml", sample(), ReportOptions())


def test_importing_the_package_loads_no_format_module_nor_jsonschema():
    code = (
        "import sys, reviewbot.reporters as r; "
        "print(sorted(m for m in sys.modules if m.startswith(('reviewbot.reporters.', 'jsonschema', 'xml'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['reviewbot.reporters.base']"


def test_rendering_every_format_never_imports_jsonschema():
    code = (
        "import sys\nfrom reviewbot.reporters import REPORTERS, ReportOptions\n"
        "from reviewbot.core.models import ReviewResult\n"
        "for r in REPORTERS.values(): r(ReviewResult(findings=()), ReportOptions())\n"
        "print('jsonschema' in sys.modules, 'openai' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False False"


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_every_format_survives_undecodable_path_bytes(fmt):
    # Paths read with surrogateescape can carry lone surrogates; the report must still encode as UTF-8.
    res = result(finding("bad\udcff\udc80name.py", 2, message="x\udcffy"), finding("ok.py", 1))
    out = render(fmt, res, ReportOptions())
    out.encode("utf-8")
    assert out.endswith("\n")


# --- untrusted text -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("a\x1b[1;31mred\x1b[0m b", "ared b"),
        ("x\x1b]8;;http://evil\x07link\x1b]8;;\x1b\\ y", "xlink y"),
        ("t\x1b]0;window title\x9c after", "t after"),
        ("unterminated \x1b]0;title\nnext line", "unterminated \nnext line"),
        ("keep\ttabs\nand newlines", "keep\ttabs\nand newlines"),
        ("over\rwrite", "overwrite"),
        ("c1 \x9b2J csi", "c1  csi"),
        ("nul\x00 del\x7f bell\x07", "nul del bell"),
        ("bidi \u202eevil\u202c \u2066x\u2069", "bidi evil x"),
        ("\x1bcreset \x1b7save", "reset save"),
        ("lone \udcff", "lone \ufffd"),
        ("unicode ok: \u00fc \u4e2d \U0001f600", "unicode ok: \u00fc \u4e2d \U0001f600"),
    ],
)
def test_sanitize_terminal(raw, clean):
    assert sanitize_terminal(raw) == clean


_FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


@given(st.text())
def test_sanitize_terminal_leaves_no_control_characters_and_is_idempotent(text):
    clean = sanitize_terminal(text)
    assert not _FORBIDDEN.search(clean)
    assert sanitize_terminal(clean) == clean


@pytest.mark.parametrize("fmt", [f for f in ALL_FORMATS if f != "github"])
def test_no_report_line_can_be_read_as_a_ci_workflow_command(fmt):
    out = render(fmt, sample(), ReportOptions())
    for line in out.splitlines():
        assert not line.lstrip().startswith("::"), line
    assert "##[" not in out
    assert "##vso[" not in out.lower()


# --- text ---------------------------------------------------------------------------------------------------------

_TEXT_HEAD = re.compile(r"^(?P<path>\S.*?):(?P<line>\d+): (?P<severity>error|warning|info): (?P<rest>.*)$")


def test_text_first_lines_are_editor_parseable_and_details_are_indented():
    res = sample()
    out = render("text", res, ReportOptions())
    heads = [ln for ln in out.splitlines() if not ln.startswith(" ")]
    assert len(heads) == len(res.findings)
    for head, f in zip(heads, res.findings, strict=True):
        m = _TEXT_HEAD.match(head)
        assert m, head
        assert (m["path"], int(m["line"]), m["severity"]) == (f.path, f.line, f.severity.label)
        assert "confidence" not in head and "moved from" not in head
    assert heads[0].endswith("[senior-backend-engineer/blocking-io]")
    assert heads[2].endswith("[style]")  # no agent: just the category
    assert "    (confidence 0.82) (moved from line 18)" in out.splitlines()
    assert "    advice:" in out.splitlines()  # moved and not Python: not offered as code (tests/reporters/test_suggestion.py)
    assert "        await asyncio.sleep(1)" in out.splitlines()
    assert all(ln.startswith("    ") for ln in out.splitlines() if ln not in heads)


def test_text_colour_only_when_asked_and_model_escapes_never_pass():
    res = sample()
    plain = render("text", res, ReportOptions(color=False))
    assert "\x1b" not in plain and "\r" not in plain and "\u202e" not in plain
    coloured = render("text", res, ReportOptions(color=True))
    assert "\x1b[1;31merror\x1b[0m" in coloured
    own_codes = re.compile(r"\x1b\[(?:0|1|2|33|36|1;31)m")
    assert "\x1b" not in own_codes.sub("", coloured)  # every escape left is one of ours
    assert own_codes.sub("", coloured) == plain


def test_text_is_empty_without_findings():
    assert render("text", result(), ReportOptions()) == ""


def test_text_path_with_newline_stays_on_one_line():
    out = render("text", result(finding("evil\n::error::x.py", 1)), ReportOptions())
    assert len([ln for ln in out.splitlines() if not ln.startswith(" ")]) == 1
    assert out.startswith("evil\\n::error::x.py:1: error: ")


# --- summary line -------------------------------------------------------------------------------------------------


def test_summary_line_counts_everything_on_one_line():
    res = result(
        finding(), finding("b.py", 2, Severity.WARNING),
        files_reviewed=("app/service.py", "b.py", "c.py"),
        skipped=(Skipped("poetry.lock", "lock file"),),
        failed=(Skipped("a.py", "timeout"), Skipped("b\nc.py", "timeout")),
        dropped=(("off-diff", 3), ("unanchored", 1)),
        held_back=(finding("h.py", 9),),
        usage=Usage(2, 1, 1234, 210),
        model="gpt-4o-mini",
    )
    line = summary_line(res, ReportOptions())
    assert line == (
        "reviewbot: 2 findings (1 error, 1 warning) in 3 files reviewed, 1 skipped (poetry.lock: lock file); "
        "2 requests (1 cached), 1,234 tokens in / 210 out; model gpt-4o-mini; 2 blocking (at or above error); 3 dropped off-diff, "
        "1 dropped unanchored; 1 held back by the findings budget; could not review: a.py, b c.py"
    )
    assert "\n" not in line


def test_summary_line_singular_and_clean():
    line = summary_line(result(files_reviewed=("a.py",), usage=Usage(1, 0, 10, 2)), ReportOptions())
    assert line == "reviewbot: no findings in 1 file reviewed; 1 request, 10 tokens in / 2 out"


def test_summary_line_caps_the_failed_list():
    failed = tuple(Skipped(f"f{i}.py", "boom") for i in range(9))
    line = summary_line(result(failed=failed), ReportOptions())
    assert line.endswith("could not review: f0.py, f1.py, f2.py, f3.py, f4.py and 4 more")


# --- blocking -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fail_on", "severity", "blocks"),
    [
        (Severity.ERROR, Severity.ERROR, True),
        (Severity.ERROR, Severity.WARNING, False),
        (Severity.WARNING, Severity.WARNING, True),
        (Severity.INFO, Severity.INFO, True),
        (None, Severity.ERROR, False),
    ],
)
def test_is_blocking(fail_on, severity, blocks):
    assert is_blocking(finding(severity=severity), ReportOptions(fail_on=fail_on)) is blocks


# --- json ---------------------------------------------------------------------------------------------------------


def test_json_report_shape_key_order_and_exact_text():
    res = replace(sample(), held_back=(finding("h.py", 1),))
    doc = json.loads(render("json", res, ReportOptions()))
    assert list(doc) == ["findings", "summary"]
    assert list(doc["findings"][0]) == [
        "path", "line", "end_line", "severity", "category", "message", "suggestion", "agent", "quote",
        "confidence", "reanchored_from", "clipped_from", "source",
    ]
    assert doc["findings"][0]["message"] == HOSTILE  # data formats keep the text; JSON escaping makes it safe
    assert doc["findings"][0]["confidence"] == 0.82
    assert doc["findings"][3]["source"] == "secrets"
    summary = doc["summary"]
    assert summary["findings"] == 4
    assert summary["by_severity"] == {"error": 2, "warning": 1, "info": 1}
    assert summary["blocking"] is True
    assert summary["files_reviewed"] == ["app/service.py", "a b/\u00fc,x:y.py", "docs/x.py", "clean.py"]
    assert summary["skipped"] == [{"path": "poetry.lock", "reason": "lock file"}]
    assert summary["failed"] == [{"path": "big.py", "reason": "model timed out"}]
    assert summary["dropped"] == {"off-diff": 4, "invalid": 1}
    assert summary["held_back"] == 1
    assert summary["usage"] == {"requests": 2, "cached": 1, "tokens_in": 1234, "tokens_out": 210, "failed": 0,
                                "cached_tokens": 0}
    assert summary["model"] == "gpt-4o-mini"
    assert summary["agents"] == ["senior-backend-engineer"]


def test_json_blocking_follows_fail_on_and_counts_held_back():
    res = result(finding(severity=Severity.WARNING), held_back=(finding("h.py", 1, Severity.ERROR),))
    assert json.loads(render("json", res, ReportOptions()))["summary"]["blocking"] is True
    assert json.loads(render("json", res, ReportOptions(fail_on=None)))["summary"]["blocking"] is False
    clean = result(finding(severity=Severity.WARNING))
    assert json.loads(render("json", clean, ReportOptions()))["summary"]["blocking"] is False


# --- github -------------------------------------------------------------------------------------------------------


def test_github_escaping_matches_the_toolkit():
    assert escape_data("100%\r\nnext") == "100%25%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    assert escape_data("%0A") == "%250A"  # `%` first, so an existing escape survives


@given(st.text())
def test_github_escaping_round_trips(text):
    assert unescape_data(escape_data(text)) == text
    assert unescape_property(escape_property(text)) == text
    assert "\n" not in escape_data(text) and "\r" not in escape_data(text)
    assert not {",", ":"} & set(escape_property(text))


def test_github_annotations_carry_hostile_text_without_injecting_commands():
    res = sample()
    out = render("github", res, ReportOptions())
    lines = out.splitlines()
    assert len(lines) == len(res.findings)  # nothing split a line, nothing extra appeared
    commands = [parse_workflow_command(ln) for ln in lines]
    assert [c[0] for c in commands] == ["error", "warning", "notice", "error"]
    name, props, data = commands[0]
    assert props == {
        "file": "app/service.py", "line": "21", "endLine": "23",
        "title": "reviewbot: blocking-io (senior-backend-engineer)",
    }
    assert data.startswith(sanitize_terminal(HOSTILE).strip())  # the whole message, control chars removed
    assert "::add-mask::hunter2" in data and "::error file=x::fake" in data  # present, but only as data
    assert commands[1][1]["file"] == "a b/\u00fc,x:y.py"  # `,` and `:` survive the property escaping
    assert commands[1][1]["title"] == "reviewbot: SQL Injection"
    assert "endLine" not in commands[1][1]
    assert "\x1b" not in out and "\r" not in out


def test_github_annotation_limit_leaves_a_notice():
    findings = (
        [finding(f"e{i}.py", 1) for i in range(13)]
        + [finding(f"w{i}.py", 1, Severity.WARNING) for i in range(2)]
        + [finding(f"i{i}.py", 1, Severity.INFO) for i in range(12)]
    )
    out = render("github", result(*findings), ReportOptions(annotation_limit=10))
    commands = [parse_workflow_command(ln) for ln in out.splitlines()]
    kinds = [c[0] for c in commands]
    assert kinds.count("error") == 10 and kinds.count("warning") == 2
    assert kinds.count("notice") == 10  # 9 findings + our own notice, within the runner's limit
    notice = commands[-1]
    assert notice[0] == "notice" and "file" not in notice[1]
    assert notice[2].startswith("reviewbot: 6 more findings (3 errors, 3 infos) not shown as annotations")
    assert "job summary" in notice[2]


def test_github_no_notice_when_everything_fits():
    out = render("github", result(*[finding(f"e{i}.py", 1) for i in range(10)]), ReportOptions())
    assert len(out.splitlines()) == 10
    assert "not shown" not in out
    assert render("github", result(), ReportOptions()) == ""


# --- markdown -----------------------------------------------------------------------------------------------------

_OUR_TAGS = re.compile(r"</?(?:details|summary|br)>")
_CELL_SPLIT = re.compile(r"(?<!\\)\|")


def test_markdown_escapes_model_text_in_the_table():
    res = sample()
    md = render("markdown", res, ReportOptions())
    rows = [ln for ln in md.splitlines() if ln.startswith("| ") and not ln.startswith("| Severity")]
    assert len(rows) == len(res.findings)
    for row in rows:
        assert len(_CELL_SPLIT.split(row)) == 7  # 5 cells between the outer pipes: no cell was broken open
    assert "<" not in _OUR_TAGS.sub("", md)  # no HTML of the model's own
    assert not re.search(r"@[\w-]", md)  # no live mentions
    assert "\x1b" not in md and "\u202e" not in md
    assert "](http" not in md  # no live link from model text
    assert "\\`tick\\`" in md and "c\\|d" in md and "&lt;script&gt;" in md


def test_markdown_summary_parts():
    md = render("markdown", sample(), ReportOptions())
    assert md.startswith("## reviewbot review")
    assert "**Blocking:** 2 findings at or above `error`." in md
    assert "- poetry.lock: lock file" in md
    assert "- big.py: model timed out" in md
    assert "Files reviewed (4)" in md and "- clean.py" in md
    assert "Model gpt-4o-mini" in md and "2 requests (1 cached)" in md and "1,234 tokens in / 210 out" in md
    assert "4 dropped (off-diff)" in md
    never = render("markdown", sample(), ReportOptions(fail_on=None))
    assert "never fails the check" in never
    clean = render("markdown", result(finding(severity=Severity.INFO)), ReportOptions())
    assert "**Not blocking:**" in clean


def test_markdown_stays_under_the_step_summary_limit():
    long = "x" * 5000
    findings = [finding(f"src/file_{i}.py", i + 1, message=long) for i in range(3000)]
    res = result(*findings, files_reviewed=tuple(f"pkg/{'d' * 200}/{i}.py" for i in range(20000)))
    md = render("markdown", res, ReportOptions())
    assert len(md.encode("utf-8")) <= SIZE_LIMIT
    assert "more findings not listed here" in md
    assert "Files reviewed (20,000)" in md
    assert md.rstrip().splitlines()[-1].endswith("0 tokens in / 0 out \u00b7 reviewbot 0.1.0")  # footer kept


# --- sarif --------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sarif_validators():
    return (
        jsonschema.Draft4Validator(schema("sarif-schema-2.1.0.json")),
        jsonschema.Draft202012Validator(schema("github-codeql-action-sarif-schema-2.1.0.json")),
    )


def _validate_sarif(doc, validators):
    for validator in validators:
        errors = sorted(validator.iter_errors(doc), key=str)
        assert not errors, [e.message for e in errors[:3]]


def test_sarif_validates_against_both_schemas(sarif_validators):
    doc = json.loads(render("sarif", sample(), ReportOptions()))
    _validate_sarif(doc, sarif_validators)
    _validate_sarif(json.loads(render("sarif", result(), ReportOptions())), sarif_validators)


def test_sarif_rules_results_and_locations():
    doc = json.loads(render("sarif", sample(), ReportOptions(project_url="https://example.invalid/reviewbot")))
    assert doc["version"] == "2.1.0" and doc["$schema"]
    (run,) = doc["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "reviewbot" and driver["informationUri"] == "https://example.invalid/reviewbot"
    rules = driver["rules"]
    assert [r["id"] for r in rules] == ["blocking-io", "secrets", "sql-injection", "style"]
    for rule in rules:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"] and rule["help"]["text"]
    by_id = {r["id"]: r for r in rules}
    assert by_id["secrets"]["properties"] == {"tags": ["security"], "security-severity": "8.0"}
    assert by_id["sql-injection"]["properties"]["security-severity"] == "5.0"
    assert "security-severity" not in by_id["style"]["properties"]
    assert by_id["style"]["defaultConfiguration"]["level"] == "note"
    assert run["automationDetails"]["id"] == "reviewbot/"

    results = run["results"]
    assert [r["level"] for r in results] == ["error", "warning", "note", "error"]
    for res in results:
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
    loc = results[1]["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "a%20b/%C3%BC,x%3Ay.py", "uriBaseId": "%SRCROOT%"}
    assert loc["region"] == {"startLine": 3, "endLine": 3}
    first = results[0]
    assert first["locations"][0]["physicalLocation"]["region"] == {"startLine": 21, "endLine": 23}
    assert first["message"]["text"].startswith(HOSTILE)
    assert first["properties"]["agent"] == "senior-backend-engineer"
    assert set(first["partialFingerprints"]) == {"primaryLocationLineHash", "reviewbot/v1"}


def test_sarif_fingerprints_survive_line_shifts_and_tell_findings_apart():
    base = sample()
    shifted = replace(base, findings=tuple(replace(f, line=f.line + 3, end_line=(f.end_line or f.line) + 3)
                                           for f in base.findings))

    def prints(res):
        doc = json.loads(render("sarif", res, ReportOptions()))
        return [r["partialFingerprints"] for r in doc["runs"][0]["results"]]

    assert prints(base) == prints(shifted)
    other = prints(result(finding(quote="x = 1"), finding(quote="y = 2"), finding(category="perf", quote="x = 1")))
    assert len({p["primaryLocationLineHash"] for p in other}) == 3
    dupes = prints(result(finding(), finding()))
    hashes = [p["primaryLocationLineHash"] for p in dupes]
    assert hashes[0].endswith(":1") and hashes[1].endswith(":2") and hashes[0][:-2] == hashes[1][:-2]
    # The quote, not the wording, identifies the place: a reworded message keeps the fingerprint.
    a = prints(result(finding(quote=" time.sleep(1)", message="blocks")))
    b = prints(result(finding(quote="time.sleep(1)  ", message="this blocks the loop", line=50)))
    assert a == b


# --- reviewdog ----------------------------------------------------------------------------------------------------


def test_rdjson_validates_and_uses_linewise_ranges():
    doc = json.loads(render("rdjson", sample(), ReportOptions()))
    jsonschema.Draft4Validator(schema("reviewdog-rdf-DiagnosticResult.json")).validate(doc)
    assert doc["source"]["name"] == "reviewbot"
    first = doc["diagnostics"][0]
    # The sample's suggestion was moved by anchoring and is not Python: advice in the message, no replacement.
    assert first["message"] == HOSTILE + "\n\nAdvice:\n" + HOSTILE_SUGGESTION.strip("\n")
    assert first["location"] == {"path": "app/service.py", "range": {"start": {"line": 21}, "end": {"line": 23}}}
    assert first["severity"] == "ERROR" and first["code"] == {"value": "blocking-io"}
    assert first["source"]["name"] == "reviewbot/senior-backend-engineer"
    assert "suggestions" not in first
    assert [d["severity"] for d in doc["diagnostics"]] == ["ERROR", "WARNING", "INFO", "ERROR"]
    assert "suggestions" not in doc["diagnostics"][1]


def test_rdjsonl_is_one_valid_diagnostic_per_line():
    res = sample()
    out = render("rdjsonl", res, ReportOptions())
    lines = out.splitlines()
    assert len(lines) == len(res.findings)
    validator = jsonschema.Draft4Validator(schema("reviewdog-rdf-Diagnostic.json"))
    for line, f in zip(lines, res.findings, strict=True):
        diag = json.loads(line)
        validator.validate(diag)
        assert diag["message"].startswith(f.message) and diag["location"]["path"] == f.path
    assert render("rdjsonl", result(), ReportOptions()) == ""


# --- gitlab -------------------------------------------------------------------------------------------------------


def test_gitlab_code_quality_validates_with_unique_stable_fingerprints():
    res = replace(sample(), findings=sample().findings + (sample().findings[0],))  # an exact duplicate
    issues = json.loads(render("gitlab", res, ReportOptions()))
    jsonschema.Draft202012Validator(schema("gitlab-codequality.json")).validate(issues)
    assert len(issues) == len(res.findings)
    prints = [i["fingerprint"] for i in issues]
    assert len(set(prints)) == len(prints)
    assert [i["severity"] for i in issues] == ["critical", "major", "info", "critical", "critical"]
    assert issues[0]["location"] == {"path": "app/service.py", "lines": {"begin": 21, "end": 23}}
    assert issues[1]["check_name"] == "sql-injection" and issues[1]["categories"] == ["Security"]
    shifted = replace(res, findings=tuple(replace(f, line=f.line + 7, end_line=None) for f in res.findings))
    assert [i["fingerprint"] for i in json.loads(render("gitlab", shifted, ReportOptions()))] == prints
    assert json.loads(render("gitlab", result(), ReportOptions())) == []


# --- junit --------------------------------------------------------------------------------------------------------


def _junit(res, options=None):
    options = ReportOptions() if options is None else options
    return ET.fromstring(render("junit", res, options).encode("utf-8"))


def test_junit_one_failure_per_blocking_finding_and_counts():
    res = sample()
    root = _junit(res)
    suite = root.find("testsuite")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    failures = suite.findall("testcase/failure")
    assert len(failures) == sum(is_blocking(f, ReportOptions()) for f in res.findings) == 2
    assert len(cases["app/service.py"].findall("failure")) == 2
    assert list(cases["clean.py"]) == []  # a clean file is a passing test
    assert cases["docs/x.py"].find("system-out").text.startswith("docs/x.py:1: info: nit")
    assert cases["poetry.lock"].find("skipped").get("message") == "lock file"
    assert cases["big.py"].find("error").get("message") == "could not review: model timed out"
    assert {k: suite.get(k) for k in ("tests", "failures", "errors", "skipped")} == {
        "tests": "6", "failures": "1", "errors": "1", "skipped": "1"}
    assert root.get("tests") == "6"
    assert failures[0].get("type") == "blocking-io"
    assert "\x1b" not in failures[0].text and "\x00" not in failures[0].text
    assert "::add-mask::hunter2" in failures[0].text  # text kept (as XML data), only the line start is defused


def test_junit_threshold_changes_failures():
    res = sample()
    warn = _junit(res, ReportOptions(fail_on=Severity.WARNING))
    assert len(warn.findall("testsuite/testcase/failure")) == 3
    never = _junit(res, ReportOptions(fail_on=None))
    assert never.findall("testsuite/testcase/failure") == []


def test_junit_held_back_blocking_findings_still_fail():
    res = result(finding(severity=Severity.INFO), held_back=(finding("h.py", 1), finding("h.py", 2)))
    root = _junit(res)
    held = [c for c in root.iter("testcase") if c.get("name").startswith("(findings held back")]
    assert len(held) == 1
    assert held[0].find("failure").get("message") == "2 blocking findings held back by the findings budget"


def test_junit_is_well_formed_with_xml_invalid_characters():
    res = result(finding("p\x01ath.py", 1, message="a\x00b\x1bc\ud800d\ufffe", category="c\x0bat"))
    root = _junit(res)
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None and "a\ufffdb" in failure.text
