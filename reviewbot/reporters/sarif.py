"""SARIF 2.1.0 for GitHub code scanning (`github/codeql-action/upload-sarif`) and other SARIF viewers.

One rule per finding category. Results carry repo-relative URIs under `%SRCROOT%` and fingerprints that do not
depend on line numbers, so an alert keeps its identity when code moves. The document validates against both the
OASIS schema and the copy GitHub's upload action uses.
"""

from __future__ import annotations

from urllib.parse import quote

from reviewbot.core.models import Finding, ReviewResult, Severity
from reviewbot.reporters.base import TOOL_NAME, ReportOptions, dump_json
from reviewbot.reporters.identity import fingerprint, is_security_category, location_hash, slug
from reviewbot.reporters.suggestion import advice, advice_heading, replacement

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
# GitHub maps security-severity to Critical (>= 9.0), High (7.0-8.9), Medium (4.0-6.9) and Low (0.1-3.9).
SECURITY_SEVERITY = {Severity.ERROR: "8.0", Severity.WARNING: "5.0", Severity.INFO: "2.0"}
AUTOMATION_ID = f"{TOOL_NAME}/"  # category "reviewbot", no run id: GitHub matches alerts across runs by category


def artifact_uri(path: str) -> str:
    """A relative URI reference: spaces, `%`, `#`, `?`, `:` and non-ASCII characters percent-encoded."""
    return quote(path.encode("utf-8", "surrogateescape"), safe="/!$&'()*+,;=@-._~")


def _rule(rule_id: str, category: str, findings: list[Finding]) -> dict[str, object]:
    top = max(f.severity for f in findings)
    security = any(is_security_category(f.category) for f in findings)
    properties: dict[str, object] = {"tags": ["security"] if security else ["maintainability"]}
    if security:
        # Only security rules get a security-severity: on any other rule it would file the finding as a
        # security alert on GitHub.
        properties["security-severity"] = SECURITY_SEVERITY[top]
    return {
        "id": rule_id,
        "name": "".join(word.capitalize() for word in rule_id.split("-")),
        "shortDescription": {"text": f"{TOOL_NAME}: {category}"},
        "fullDescription": {"text": f"Problems the {TOOL_NAME} code review filed under the category '{category}'."},
        "help": {
            "text": (
                f"{TOOL_NAME} asks a language model to review the changed lines of a diff; this rule groups the "
                f"findings it reported as '{category}'. Each result's message explains the problem found there."
            )
        },
        "defaultConfiguration": {"level": LEVELS[top]},
        "properties": properties,
    }


def _message(finding: Finding) -> str:
    text = finding.message.strip() or f"{TOOL_NAME}: {finding.category}"
    code, advised = replacement(finding), advice(finding)
    if code is not None:
        text += "\n\nSuggested replacement:\n" + code.strip("\n")
    elif advised is not None:
        text += f"\n\n{advice_heading(finding)}:\n" + advised.strip("\n")
    return text


def _fixes(finding: Finding) -> list[dict[str, object]]:
    """A SARIF fix replacing the finding's whole lines, only for code written for them (see suggestion.py).

    A region with lines and no columns runs to the end of its last line, excluding the line break, so the inserted
    text carries no final newline.
    """
    code = replacement(finding)
    if code is None:
        return []
    change = {
        "artifactLocation": {"uri": artifact_uri(finding.path), "uriBaseId": "%SRCROOT%"},
        "replacements": [
            {
                "deletedRegion": {"startLine": finding.line, "endLine": finding.last_line},
                "insertedContent": {"text": code.removesuffix("\n")},
            }
        ],
    }
    return [{"description": {"text": "Replace the flagged lines"}, "artifactChanges": [change]}]


def _line_hashes(findings: tuple[Finding, ...]) -> list[str]:
    """`primaryLocationLineHash` in GitHub's own shape, `<hash>:<n>`, with n counting identical hashes."""
    seen: dict[str, int] = {}
    result = []
    for finding in findings:
        digest = location_hash(finding)[:16]
        seen[digest] = seen.get(digest, 0) + 1
        result.append(f"{digest}:{seen[digest]}")
    return result


def _result(finding: Finding, rule_index: int, rule_id: str, line_hash: str) -> dict[str, object]:
    properties: dict[str, object] = {"agent": finding.agent, "category": finding.category, "source": finding.source}
    if finding.confidence is not None:
        properties["confidence"] = finding.confidence
    if finding.reanchored_from is not None:
        properties["reanchoredFrom"] = finding.reanchored_from
    fixes = _fixes(finding)
    return {
        "ruleId": rule_id,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "message": {"text": _message(finding)},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": artifact_uri(finding.path), "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": finding.line, "endLine": finding.last_line},
                }
            }
        ],
        "partialFingerprints": {"primaryLocationLineHash": line_hash, f"{TOOL_NAME}/v1": fingerprint(finding)},
        "properties": properties,
        **({"fixes": fixes} if fixes else {}),
    }


def sarif_document(result: ReviewResult, options: ReportOptions) -> dict[str, object]:
    by_rule: dict[str, list[Finding]] = {}
    names: dict[str, str] = {}
    for finding in result.findings:
        rule_id = slug(finding.category)
        by_rule.setdefault(rule_id, []).append(finding)
        names.setdefault(rule_id, finding.category.strip() or rule_id)
    rule_ids = sorted(by_rule)  # stable rule order whatever order the findings came in
    rules = [_rule(rid, names[rid], by_rule[rid]) for rid in rule_ids]
    index = {rid: i for i, rid in enumerate(rule_ids)}

    results = [
        _result(f, index[slug(f.category)], slug(f.category), line_hash)
        for f, line_hash in zip(result.findings, _line_hashes(result.findings), strict=True)
    ]
    driver: dict[str, object] = {"name": TOOL_NAME, "version": options.tool_version}
    if options.tool_version[:1].isdigit():
        driver["semanticVersion"] = options.tool_version
    if options.project_url:
        driver["informationUri"] = options.project_url
    driver["rules"] = rules
    run: dict[str, object] = {
        "tool": {"driver": driver},
        "automationDetails": {"id": AUTOMATION_ID},
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    if result.model or result.agents or result.coverage is not None:
        properties: dict[str, object] = {"model": result.model, "agents": list(result.agents)}
        if result.coverage is not None:
            from reviewbot.reporters.jsonreport import coverage_dict

            properties["coverage"] = coverage_dict(result.coverage)
        if result.skipped:
            properties["skipped"] = [{"path": s.path, "reason": s.reason} for s in result.skipped]
        run["properties"] = properties
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render_sarif(result: ReviewResult, options: ReportOptions) -> str:
    return dump_json(sarif_document(result, options)) + "\n"
