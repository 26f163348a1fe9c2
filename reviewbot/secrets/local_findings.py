"""Committed secrets as findings, reported without a model (so they block even when the model is down)."""

from __future__ import annotations

import dataclasses

from reviewbot.core.models import Diff, FileDiff, Finding, FindingSource, Severity
from reviewbot.secrets.records import SecretHit
from reviewbot.secrets.redaction import _group, _scan_positions, _side
from reviewbot.secrets.sensitive_files import sensitive_reason

CATEGORY = "secrets"
_ADVICE = "remove it, load it from the environment or a secret store, and revoke it if it was ever pushed"


def file_secrets(f: FileDiff) -> list[SecretHit]:
    """Secrets on the new side of a file's diff, with new-file line numbers (one hit per line of a key block)."""
    texts = [[ln.text for ln in hunk.lines] for hunk in f.hunks]
    hits = []
    for (h, i), hit in _scan_positions(texts, _side(f, "-")):
        number = f.hunks[h].lines[i].new_no
        if number is not None:
            hits.append(dataclasses.replace(hit, line=number))
    return hits


def _secret_finding(path: str, line: int, message: str) -> Finding:
    return Finding(path=path, line=line, severity=Severity.ERROR, category=CATEGORY, message=message,
                   agent="reviewbot", source=FindingSource.SECRETS)


def secret_phrase(diff: Diff) -> str:
    """How a finding names a secret: nothing is committed yet when the hook reviews what is staged."""
    what = diff.description.split(" -- ", 1)[0]
    if what.startswith("staged changes"):
        return "Secret in staged change"
    revisions = what.removesuffix(" (staged)").split()
    if len(revisions) == 2 or any(".." in r for r in revisions):
        return "Committed secret"
    return "Secret in change"


def secret_findings(diff: Diff) -> list[Finding]:
    """Errors for committed secrets, found without a model, so a commit is blocked even when the model is down.

    One finding per secret on an added line of a file that is not deleted (a key block counts once, at its first
    added line); messages name the kind, never the value. A sensitive file (see `sensitive_reason`) that is added,
    changed, renamed or copied is one finding of its own, at its first added line (line 1 when it has none, e.g. a
    binary key store); its lines are not reported one by one.
    """
    findings: list[Finding] = []
    phrase = secret_phrase(diff)
    for f in diff.files:
        if f.status == "deleted":
            continue
        reason = sensitive_reason(f.path)
        if reason is not None:
            first = min(f.added_lines, default=1)
            verb = "added to" if f.status in ("added", "copied") else "changed in"
            findings.append(_secret_finding(
                f.path, first,
                f"{f.path.rsplit('/', 1)[-1]} is {reason}, and it is being {verb} the repository: keep it out of "
                "git (add it to .gitignore) and revoke anything it holds if it was ever pushed"))
            continue
        added = f.added_lines
        for group in _group(file_secrets(f)):
            lines = sorted({h.line for h in group if h.line in added})
            if not lines:
                continue
            findings.append(_secret_finding(f.path, lines[0], f"{phrase} ({group[0].kind}): {_ADVICE}"))
    return _unique(findings)


def _unique(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, int, str]] = set()
    out = []
    for finding in findings:
        key = (finding.path, finding.line, finding.message)
        if key not in seen:
            seen.add(key)
            out.append(finding)
    return out
