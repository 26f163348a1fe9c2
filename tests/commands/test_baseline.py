"""`reviewbot baseline`: recording replaces the file, nothing to review leaves it alone, and a failed review exits 3
and writes nothing."""

from __future__ import annotations

import json

import pytest

from reviewbot.adapters.git import DiffSpec
from reviewbot.commands.baseline import run_baseline
from reviewbot.commands.options import RunOptions
from tests.helpers import Fail
from tests.helpers.baseline_service import BASE, SLEEP, finding as _finding, stage as _stage


@pytest.fixture
def service(repo):
    repo.commit_files({"app/service.py": BASE}, "base")
    return repo


def test_rerecording_replaces_the_file(service, model_server, run_cli):
    _stage(service, BASE + SLEEP + "\n")
    model_server.answer_findings([_finding(21)])
    run_cli("baseline", "--staged")
    model_server.answer_findings([_finding(21, "style")])
    assert run_cli("baseline", "--staged", "--no-cache").exit_code == 0
    entries = json.loads((service.path / ".reviewbot-baseline.json").read_text())["findings"]
    assert [e["category"] for e in entries] == ["style"]



def test_baseline_with_nothing_to_review_leaves_the_file(service, model_server, run_cli):
    (service.path / ".reviewbot-baseline.json").write_text("keep me")
    result = run_cli("baseline", "--staged")
    assert result.exit_code == 0
    assert "left as it is" in result.stderr
    assert (service.path / ".reviewbot-baseline.json").read_text() == "keep me"
    assert model_server.requests == []



def test_failed_review_exits_3_and_writes_nothing(service, model_server, run_cli):
    _stage(service, BASE + SLEEP + "\n")
    model_server.default = lambda body: Fail(500)
    result = run_cli("baseline", "--staged", env={"REVIEWBOT_RETRIES": "0"})
    assert result.exit_code == 3, result.stdout + result.stderr
    assert not (service.path / ".reviewbot-baseline.json").exists()


# --- run_baseline: the command below click, called with plain values --------------------------------------------------


def test_run_baseline_records_what_the_review_finds(service, model_server, capsys):
    _stage(service, BASE + SLEEP + "\n")
    model_server.answer_findings([_finding(21)])
    assert run_baseline(DiffSpec(staged=True), RunOptions()) == 0
    entries = json.loads((service.path / ".reviewbot-baseline.json").read_text())["findings"]
    assert [e["category"] for e in entries] == ["async"]
    assert "recorded 1 finding in .reviewbot-baseline.json (a new file)" in capsys.readouterr().out


def test_run_baseline_dry_run_sends_and_writes_nothing(service, model_server, capsys):
    _stage(service, BASE + SLEEP + "\n")
    assert run_baseline(DiffSpec(staged=True), RunOptions(dry_run=True)) == 0
    assert model_server.requests == []
    assert not (service.path / ".reviewbot-baseline.json").exists()
    assert "time.sleep(5)" in capsys.readouterr().out  # the request it would have sent
