"""reviewdog's rdjson and rdjsonl: valid diagnostics with line-wise ranges."""

from __future__ import annotations

import json

import jsonschema

from reviewbot.reporters import ReportOptions, render
from tests.reporters.support import (
    HOSTILE,
    HOSTILE_SUGGESTION,
    result,
    sample,
    schema,
)


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
