"""The blocking rule: a finding blocks when its severity reaches fail_on; with no threshold nothing blocks."""

from __future__ import annotations

import pytest

from reviewbot.core.blocking import is_blocking, severity_blocks
from reviewbot.core.models import Finding, Severity


@pytest.mark.parametrize(("severity", "fail_on", "blocks"), [
    (Severity.ERROR, Severity.ERROR, True),
    (Severity.WARNING, Severity.ERROR, False),
    (Severity.WARNING, Severity.WARNING, True),
    (Severity.ERROR, Severity.WARNING, True),
    (Severity.INFO, Severity.WARNING, False),
    (Severity.INFO, Severity.INFO, True),
    (Severity.ERROR, None, False),
])
def test_a_severity_blocks_at_or_above_the_threshold(severity, fail_on, blocks):
    assert severity_blocks(severity, fail_on) is blocks
    finding = Finding(path="a.py", line=1, severity=severity, category="bug", message="m")
    assert is_blocking(finding, fail_on) is blocks
