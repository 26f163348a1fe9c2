"""`reviewbot --version` and `--help` must stay fast: no openai, no GitPython, no git process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.helpers import PROJECT_ROOT

PROBE = """
import json, subprocess, sys
spawned = []
real_popen = subprocess.Popen.__init__
def spy(self, *args, **kwargs):
    spawned.append(str(args[0] if args else kwargs.get("args")))
    return real_popen(self, *args, **kwargs)
subprocess.Popen.__init__ = spy
from reviewbot.cli import main
try:
    main(sys.argv[1:], standalone_mode=False)
except SystemExit:
    pass
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("openai", "git", "httpx", "httpx2", "pydantic", "unidiff",
                                                           "detect_secrets", "yaml", "sqlite3"))
print("\\n" + json.dumps({"heavy": heavy, "spawned": spawned}))
"""


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["diff", "--help"], ["hook", "--help"]])
def test_help_and_version_import_nothing_heavy(args, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=tmp_path,
                          env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["heavy"] == []
    assert report["spawned"] == []
    assert proc.stdout.strip()


def test_python_dash_m_works(run_reviewbot, tmp_path):
    proc = run_reviewbot("--version", cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stdout.startswith("reviewbot, version ")
