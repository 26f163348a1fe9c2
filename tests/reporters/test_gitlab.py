"""GitLab Code Quality: valid against its schema, with unique and stable fingerprints."""

from __future__ import annotations

import json
from dataclasses import replace

import jsonschema

from reviewbot.reporters import ReportOptions, render
from tests.reporters.support import (
    result,
    sample,
    schema,
)


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
