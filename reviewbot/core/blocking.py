"""The blocking rule, written once: a finding blocks when its severity reaches fail_on (None: nothing blocks)."""

from __future__ import annotations

from reviewbot.core.models import Finding, Severity


def severity_blocks(severity: Severity, fail_on: Severity | None) -> bool:
    """The blocking rule, the one place it is written: a severity at or above fail_on (None: nothing blocks)."""
    return fail_on is not None and severity >= fail_on


def is_blocking(finding: Finding, fail_on: Severity | None) -> bool:
    return severity_blocks(finding.severity, fail_on)
