"""JUnit XML: one failure per blocking finding, the threshold, held-back findings, XML-invalid characters."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from reviewbot.core.models import Severity
from reviewbot.reporters import ReportOptions, render
from reviewbot.reporters.base import is_blocking
from tests.reporters.support import (
    finding,
    result,
    sample,
)


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
