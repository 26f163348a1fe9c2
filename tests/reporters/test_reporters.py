"""The reporter registry (reporters/__init__.py): every format known, format modules imported lazily, and no format's
output readable as a CI workflow command. Each format's own tests are in test_<format module>.py."""

from __future__ import annotations

import subprocess
import sys

import pytest

from reviewbot.core.errors import ConfigError
from reviewbot.reporters import REPORTERS, ReportOptions, render
from tests.reporters.support import (
    ALL_FORMATS,
    finding,
    result,
    sample,
)


def test_registry_has_every_format_and_rejects_unknown_ones():
    assert set(REPORTERS) == set(ALL_FORMATS)
    with pytest.raises(ConfigError, match="Unknown report format 'yaml'"):
        render("yaml", sample(), ReportOptions())


def test_importing_the_package_loads_no_format_module_nor_jsonschema():
    code = (
        "import sys, reviewbot.reporters as r; "
        "print(sorted(m for m in sys.modules if m.startswith(('reviewbot.reporters.', 'jsonschema', 'xml'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['reviewbot.reporters.base']"


def test_rendering_every_format_never_imports_jsonschema():
    code = (
        "import sys\nfrom reviewbot.reporters import REPORTERS, ReportOptions\n"
        "from reviewbot.core.models import ReviewResult\n"
        "for r in REPORTERS.values(): r(ReviewResult(findings=()), ReportOptions())\n"
        "print('jsonschema' in sys.modules, 'openai' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False False"


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_every_format_survives_undecodable_path_bytes(fmt):
    # Paths read with surrogateescape can carry lone surrogates; the report must still encode as UTF-8.
    res = result(finding("bad\udcff\udc80name.py", 2, message="x\udcffy"), finding("ok.py", 1))
    out = render(fmt, res, ReportOptions())
    out.encode("utf-8")
    assert out.endswith("\n")


@pytest.mark.parametrize("fmt", [f for f in ALL_FORMATS if f != "github"])
def test_no_report_line_can_be_read_as_a_ci_workflow_command(fmt):
    out = render(fmt, sample(), ReportOptions())
    for line in out.splitlines():
        assert not line.lstrip().startswith("::"), line
    assert "##[" not in out
    assert "##vso[" not in out.lower()
