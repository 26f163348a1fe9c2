"""GitLab Code Quality report (`artifacts:reports:codequality`): one JSON array of CodeClimate-style issues.

Severity: GitLab has five levels (info, minor, major, critical, blocker). error -> critical, warning -> major,
info -> info. `blocker` stays unused: it claims the merge must not happen whatever the reviewer thinks, which a
model's judgement cannot promise; `minor` stays free so a model "warning" (likely bug or risk) does not look as
light as style nits do in the widget, which sorts and colours by these levels.
"""

from __future__ import annotations

from reviewbot.core.models import Finding, ReviewResult, Severity
from reviewbot.reporters.base import TOOL_NAME, ReportOptions, dump_json
from reviewbot.reporters.identity import is_security_category, slug, unique_fingerprints

SEVERITIES = {Severity.ERROR: "critical", Severity.WARNING: "major", Severity.INFO: "info"}

# CodeClimate categories chosen from words in the category slug; anything else is a "Bug Risk".
_CATEGORY_WORDS = (
    (("perf", "performance", "latency", "memory", "slow", "query", "queries", "blocking", "async", "concurrency"),
     "Performance"),
    (("style", "naming", "format", "formatting", "lint", "convention", "conventions", "typo"), "Style"),
    (("complexity", "complex"), "Complexity"),
    (("readability", "clarity", "docs", "documentation", "comment", "comments", "maintainability"), "Clarity"),
    (("compat", "compatibility", "portability", "deprecation", "deprecated"), "Compatibility"),
    (("duplication", "duplicate", "dry"), "Duplication"),
)


def codeclimate_category(category: str) -> str:
    if is_security_category(category):
        return "Security"
    words = set(slug(category).split("-"))
    for keys, name in _CATEGORY_WORDS:
        if words.intersection(keys):
            return name
    return "Bug Risk"


def issue(finding: Finding, fingerprint: str) -> dict[str, object]:
    description = finding.message.strip() or finding.category
    if finding.agent:
        description = f"[{finding.agent}] {description}"
    issue_dict: dict[str, object] = {
        "type": "issue",
        "description": description,
        "check_name": slug(finding.category),
        "fingerprint": fingerprint,
        "severity": SEVERITIES[finding.severity],
        "categories": [codeclimate_category(finding.category)],
        "location": {"path": finding.path, "lines": {"begin": finding.line, "end": finding.last_line}},
        "engine_name": TOOL_NAME,
    }
    if finding.suggestion and finding.suggestion.strip():
        issue_dict["content"] = {"body": "Suggestion:\n\n" + finding.suggestion}
    return issue_dict


def render_gitlab(result: ReviewResult, options: ReportOptions) -> str:
    fingerprints = unique_fingerprints(result.findings)
    issues = [issue(f, fp) for f, fp in zip(result.findings, fingerprints, strict=True)]
    return dump_json(issues) + "\n"
