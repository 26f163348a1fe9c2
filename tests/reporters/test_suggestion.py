"""Suggestions are code or nothing (reviewbot/reporters/suggestion.py): prose and moved findings never become
replacement text."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest

from reviewbot.adapters.github.comments import comment_body
from reviewbot.core.models import Finding, ReviewResult, Severity
from reviewbot.reporters import ReportOptions, render
from reviewbot.reporters.suggestion import advice, looks_like_code, looks_like_prose, replacement

SCHEMAS = Path(__file__).parents[1] / "schemas"
REAL = json.loads((Path(__file__).parents[1] / "fixtures" / "real_suggestions.json").read_text(encoding="utf-8"))
PROSE = [s["suggestion"] for s in REAL["suggestions"]]


def finding(suggestion: str | None, path: str = "app/orders.py", line: int = 20, end: int | None = 24,
            **kw) -> Finding:
    return Finding(path=path, line=line, end_line=end, severity=Severity.ERROR, category="performance",
                   message="the query has no limit", suggestion=suggestion, **kw)


# --- the check -----------------------------------------------------------------------------------------------------


def test_the_fixture_holds_real_captured_answers():
    assert len(PROSE) == 40 and "Add pagination and limits to the query." in PROSE
    assert all(s["model"] and s["path"] for s in REAL["suggestions"])


@pytest.mark.parametrize("captured", REAL["suggestions"], ids=lambda s: s["suggestion"][:40])
def test_real_prose_suggestions_are_never_replacement_text(captured):
    f = finding(captured["suggestion"], path=captured["path"])
    assert replacement(f) is None
    assert advice(f) == captured["suggestion"]  # still shown, as advice


@pytest.mark.parametrize("text", [
    "Add pagination and limits to the query.",
    "Use `with open(path)` so the file is closed.",
    "Consider using a connection pool instead of creating a new connection per request",
    "1. Validate the input.\n2. Escape it before building the query.",
])
def test_sentences_are_prose_in_any_language(text):
    assert looks_like_prose(text)
    for path in ("a.py", "a.go", "a.ts", "a.java", "a.rb"):
        assert not looks_like_code(text, path), path


@pytest.mark.parametrize(("text", "path"), [
    ("    await asyncio.sleep(5)\n", "app/service.py"),
    ("rows = db.query(Order).limit(100).all()", "app/orders.py"),
    ("    if user is None:", "app/auth.py"),  # opens a block whose body follows the replaced lines
    ("    else:\n        return 2", "app/auth.py"),  # continues a statement above the replaced lines
    ('return fmt.Errorf("load user %d: %w", id, err)', "svc/user.go"),
    ("const rows = await db.query(sql, [limit]);", "src/orders.ts"),
    ("SELECT * FROM users WHERE id = $1 LIMIT 100", "db/query.sql"),
    ("timeout: 30", "deploy/app.yaml"),
])
def test_code_is_code(text, path):
    assert looks_like_code(text, path)


@pytest.mark.parametrize(("text", "path"), [
    ("# Add pagination and limits to the query.", "app/orders.py"),  # only a comment: would delete the code
    ("// TODO: add a limit", "src/orders.ts"),
    ("Add pagination and limits to the query.", "app/orders.py"),
    ("x = = 1", "app/orders.py"),  # does not parse
    ("Fix the typo.", "README.md"),  # documentation: an edit cannot be told from an instruction
    ("   \n", "app/orders.py"),
])
def test_not_code(text, path):
    assert not looks_like_code(text, path)


def test_a_moved_finding_offers_no_replacement_even_for_code():
    code = "    await asyncio.sleep(5)\n"
    assert replacement(finding(code, line=21, end=None)) == code
    moved = finding(code, line=21, end=None, reanchored_from=16)
    assert replacement(moved) is None and advice(moved) == code
    assert replacement(finding(code, line=21, end=None, reanchored_from=21)) == code  # checked, not moved


# --- the reporters -------------------------------------------------------------------------------------------------

PROSE_FINDING = finding("Add pagination and limits to the query.")
CODE_FINDING = finding("    rows = db.query(Order).limit(100).all()\n", line=20, end=21)
MOVED_FINDING = replace(CODE_FINDING, reanchored_from=16)


def _result(*findings: Finding) -> ReviewResult:
    return ReviewResult(findings=tuple(findings), files_reviewed=("app/orders.py",))


def test_github_comment_has_a_suggestion_block_only_for_code():
    code = comment_body(CODE_FINDING, "ab" * 16)
    assert "```suggestion\n    rows = db.query(Order).limit(100).all()\n```" in code
    prose = comment_body(PROSE_FINDING, "ab" * 16)
    assert "suggestion" not in prose.replace("<sub>reviewbot</sub>", "")
    assert "**Advice:**\n\n```\nAdd pagination and limits to the query.\n```" in prose
    moved = comment_body(MOVED_FINDING, "ab" * 16)
    assert "```suggestion" not in moved
    assert "Suggested code (written for line 16; not applicable here)" in moved


def test_rdjson_replacements_only_for_code():
    doc = json.loads(render("rdjson", _result(CODE_FINDING, PROSE_FINDING, MOVED_FINDING), ReportOptions()))
    jsonschema.Draft4Validator(json.loads((SCHEMAS / "reviewdog-rdf-DiagnosticResult.json").read_text())).validate(doc)
    code, prose, moved = doc["diagnostics"]
    assert code["suggestions"] == [{"range": {"start": {"line": 20}, "end": {"line": 21}},
                                    "text": "    rows = db.query(Order).limit(100).all()"}]
    assert code["message"] == "the query has no limit"
    assert "suggestions" not in prose and "suggestions" not in moved
    assert prose["message"] == "the query has no limit\n\nAdvice:\nAdd pagination and limits to the query."
    assert moved["message"].startswith("the query has no limit\n\nSuggested code (written for line 16")


def test_sarif_fixes_only_for_code_and_the_document_validates():
    doc = json.loads(render("sarif", _result(CODE_FINDING, PROSE_FINDING, MOVED_FINDING), ReportOptions()))
    for name, cls in (("sarif-schema-2.1.0.json", jsonschema.Draft4Validator),
                      ("github-codeql-action-sarif-schema-2.1.0.json", jsonschema.Draft202012Validator)):
        errors = list(cls(json.loads((SCHEMAS / name).read_text())).iter_errors(doc))
        assert not errors, [e.message for e in errors[:3]]
    code, prose, moved = doc["runs"][0]["results"]
    (fix,) = code["fixes"]
    (change,) = fix["artifactChanges"]
    assert change["artifactLocation"] == {"uri": "app/orders.py", "uriBaseId": "%SRCROOT%"}
    assert change["replacements"] == [{"deletedRegion": {"startLine": 20, "endLine": 21},
                                       "insertedContent": {"text": "    rows = db.query(Order).limit(100).all()"}}]
    assert "fixes" not in prose and "fixes" not in moved
    assert prose["message"]["text"].endswith("\n\nAdvice:\nAdd pagination and limits to the query.")


def test_markdown_and_text_label_advice_as_advice():
    md = render("markdown", _result(CODE_FINDING, PROSE_FINDING), ReportOptions())
    assert "**Suggested code:**" in md and "**Advice:** Add pagination and limits to the query." in md
    text = render("text", _result(PROSE_FINDING), ReportOptions())
    assert "    advice:" in text.splitlines() and "suggestion:" not in text


# --- end to end: the real pipeline, a loopback model answering like the real one -----------------------------------

ORDERS_BEFORE = "".join(f"# line {i}\n" for i in range(1, 20))
ORDERS_AFTER = ORDERS_BEFORE + "def list_orders(db):\n    rows = db.query(Order).all()\n    return rows\n"  # 20-22


def test_a_real_prose_suggestion_reaches_no_reporter_as_replacement_text(repo, model_server, run_cli):
    repo.write("app/orders.py", ORDERS_BEFORE)
    repo.add("app/orders.py")
    repo.commit("base")
    repo.write("app/orders.py", ORDERS_AFTER)
    repo.add("app/orders.py")
    answer = [
        {"path": "app/orders.py", "line": 20, "end_line": 22, "severity": "warning", "category": "performance",
         "message": "Unbounded query", "suggestion": "Add pagination and limits to the query.",
         "quote": "def list_orders(db):"},
        # Cited at line 20 but quoting line 21: reviewbot moves it, so its code is not offered as a replacement.
        {"path": "app/orders.py", "line": 20, "severity": "warning", "category": "performance",
         "message": "No limit", "suggestion": "    rows = db.query(Order).limit(100).all()",
         "quote": "rows = db.query(Order).all()"},
    ]
    for fmt in ("rdjson", "sarif"):
        model_server.answer_findings(answer)
        result = run_cli("diff", "--staged", "--no-cache", "--format", fmt)
        assert result.exit_code == 0, result.stderr
        doc = json.loads(result.stdout)
        items = doc["diagnostics"] if fmt == "rdjson" else doc["runs"][0]["results"]
        assert len(items) == 2
        assert not any("suggestions" in d or "fixes" in d for d in items)
        text = json.dumps(items)
        assert "Advice:" in text and "Suggested code (written for line 20" in text
