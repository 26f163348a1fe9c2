"""JUnit XML for CI test-report views: one test case per file, so a clean file shows as a passing test.

A file's blocking findings are its `<failure>` elements (one each); its other findings are listed in
`<system-out>`. Skipped files are skipped tests and files whose review failed are errors. Testsuite counts follow
the usual convention: `tests`, `failures`, `errors` and `skipped` count test cases. Text is stripped of
characters XML 1.0 cannot hold, so hostile model output still yields a well-formed document.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from reviewbot.core.models import Finding, ReviewResult
from reviewbot.reporters.base import (
    TOOL_NAME,
    ReportOptions,
    blocking_findings,
    defuse_ci_commands,
    is_blocking,
    plural,
)
from reviewbot.reporters.text import detail_notes, tag

_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
CLASSNAME = TOOL_NAME
HELD_BACK_CASE = "(findings held back by the budget)"


def xml_text(text: str) -> str:
    return _XML_INVALID.sub("\ufffd", text)


def _describe(finding: Finding) -> str:
    lines = [f"{finding.path}:{finding.line}: {finding.severity.label}: {finding.message.strip()} {tag(finding)}"]
    if notes := detail_notes(finding):
        lines.append(notes)
    if finding.suggestion and finding.suggestion.strip():
        lines += ["suggestion:", finding.suggestion.strip("\n")]
    return xml_text("\n".join(lines))


def _first_line(text: str) -> str:
    stripped = text.strip()
    return stripped.splitlines()[0] if stripped else ""


def _case(suite: ET.Element, name: str) -> ET.Element:
    return ET.SubElement(suite, "testcase", {"name": xml_text(name), "classname": CLASSNAME})


def render_junit(result: ReviewResult, options: ReportOptions) -> str:
    by_path: dict[str, list[Finding]] = {}
    for finding in result.findings:
        by_path.setdefault(finding.path, []).append(finding)
    skipped = {s.path: s.reason for s in result.skipped}
    failed = {s.path: s.reason for s in result.failed}
    # Every reviewed file, then any other file a finding or a failure names (e.g. a local secrets finding).
    paths = list(dict.fromkeys([*result.files_reviewed, *by_path, *failed, *skipped]))

    suite = ET.Element("testsuite", {"name": TOOL_NAME})
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for path in paths:
        case = _case(suite, path)
        counts["tests"] += 1
        findings = by_path.get(path, [])
        blocking = [f for f in findings if is_blocking(f, options)]
        for finding in blocking:
            ET.SubElement(
                case,
                "failure",
                {
                    "message": xml_text(
                        f"{finding.path}:{finding.line}: {finding.severity.label}: {_first_line(finding.message)}"
                    ),
                    "type": xml_text(finding.category),
                },
            ).text = _describe(finding)
        if path in failed:
            ET.SubElement(case, "error", {"message": xml_text(f"could not review: {failed[path]}")})
        elif path in skipped and not findings:
            ET.SubElement(case, "skipped", {"message": xml_text(skipped[path])})
        others = [f for f in findings if not is_blocking(f, options)]
        if others:
            ET.SubElement(case, "system-out").text = "\n".join(_describe(f) for f in others)
        counts["failures"] += bool(blocking)
        counts["errors"] += path in failed
        counts["skipped"] += path in skipped and not findings and path not in failed

    held = blocking_findings(result.held_back, options)
    if held:
        case = _case(suite, HELD_BACK_CASE)
        ET.SubElement(
            case, "failure", {"message": f"{plural(len(held), 'blocking finding')} held back by the findings budget"}
        )
        counts["tests"] += 1
        counts["failures"] += 1

    for key, value in counts.items():
        suite.set(key, str(value))
    root = ET.Element("testsuites", {"name": TOOL_NAME, **{k: str(v) for k, v in counts.items()}})
    root.append(suite)
    ET.indent(root)
    return defuse_xml('<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n")


def defuse_xml(document: str) -> str:
    """Write `::` at a line start and `##[` as character references: same XML, but a CI runner printing the
    report cannot read a line of it as a workflow command. Only text content can produce either pattern (tags
    never start with `:` and attribute values have their newlines escaped)."""
    return defuse_ci_commands(document, bracket="&#91;", colon="&#58;")
