"""SARIF: valid against both schemas, rules, results and locations, and fingerprints that survive line shifts."""

from __future__ import annotations

import json
from dataclasses import replace

import jsonschema
import pytest

from reviewbot.reporters import ReportOptions, render
from tests.reporters.support import (
    HOSTILE,
    finding,
    result,
    sample,
    schema,
)


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
