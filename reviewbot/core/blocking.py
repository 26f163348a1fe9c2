"""The blocking rule, written once: a finding blocks when its severity reaches fail_on (None: nothing blocks)."""

from __future__ import annotations
from reviewbot.core.models import Finding, Severity


def is_blocking(finding: Finding, fail_on: Severity | None) -> bool:
    return fail_on is not None and finding.severity >= fail_on
