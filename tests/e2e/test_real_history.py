"""Real history, end to end: real upstream commits (tests/fixtures/real_history, see its README for the source and
licences) rebuilt as a git repository, reviewed through the CLI against the loopback server answering like an
imperfect model (tests/helpers/real_history.py). Checked for each commit: every added line of every file not
skipped reaches some request (and the JSON coverage block says so), every reported finding sits on a line holding
its quote and right/off-by-one findings land on their quoted line, and the per-file line index is built once per
file, not once per finding (the work stays linear)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.helpers.real_history import ImperfectModel, check_commit, parse_report, review_args

SAMPLE = Path(__file__).parents[1] / "fixtures" / "real_history" / "sample.fi"
NAMES = ("flask-sansio-split", "flask-json-package", "requests-help-module", "httpx-cookie-tests",
         "curl-crlf-test-data", "curl-latin1-test-data")


@pytest.fixture
def history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    repo = tmp_path / "real-history"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    with SAMPLE.open("rb") as stream:
        subprocess.run(["git", "-C", str(repo), "fast-import", "--quiet"], stdin=stream, check=True)
    monkeypatch.chdir(repo)
    return repo


def test_the_sample_holds_what_it_is_kept_for(history):
    tags = subprocess.run(["git", "tag"], capture_output=True, text=True, check=True).stdout.split()
    assert sorted(tags) == sorted(f"sample/{n}" for n in NAMES)
    crlf = subprocess.run(["git", "diff", "sample/curl-crlf-test-data^!"], capture_output=True, check=True).stdout
    assert b"\r\n+" in crlf or b"\r\n" in crlf
    latin1 = subprocess.run(["git", "diff", "sample/curl-latin1-test-data^!"], capture_output=True, check=True).stdout
    with pytest.raises(UnicodeDecodeError):
        latin1.decode("utf-8")
    stat = subprocess.run(["git", "diff", "-M", "--summary", "sample/flask-json-package^!"], capture_output=True,
                          text=True, check=True).stdout
    assert "rename flask/{json.py => json/__init__.py}" in stat


@pytest.mark.parametrize("budget", [None, 8000], ids=["default-budget", "small-budget"])
@pytest.mark.parametrize("name", NAMES)
def test_every_line_sent_and_every_finding_on_its_line(history, model_server, run_cli, monkeypatch, name, budget):
    from reviewbot.core import models

    builds: list[int] = []
    real_build = models.LineIndex.build.__func__
    monkeypatch.setattr(models.LineIndex, "build",
                        classmethod(lambda cls, hunks: builds.append(1) or real_build(cls, hunks)))
    model = ImperfectModel()
    model_server.default = model
    tag = f"sample/{name}"
    extra = ("--max-request-tokens", str(budget)) if budget else ()
    result = run_cli(*review_args(f"{tag}^", tag, *extra))
    assert result.exit_code == 0, result.stderr
    report = parse_report(result.stdout)
    check = check_commit(name, history, f"{tag}^", tag, report, model_server.requests, model)
    assert check.problems == []
    assert check.added_total > 0 and check.added_sent == check.added_total
    assert check.expected_kept > 0 and check.on_right_line == check.expected_kept
    assert report["summary"]["coverage"]["complete"] is True
    # Linear work: one index per file (and one per redacted copy), however many findings came back.
    files = len(report["summary"]["files_reviewed"]) + len(report["summary"]["skipped"])
    assert 0 < len(builds) <= 2 * files


def test_the_large_new_file_is_split_over_requests_and_sent_whole(history, model_server, run_cli):
    model_server.default = ImperfectModel()
    tag = "sample/flask-sansio-split"
    result = run_cli(*review_args(f"{tag}^", tag, "--max-request-tokens", "8000"))
    report = parse_report(result.stdout)
    # The requests whose diff holds the file (others may show a definition from it as context).
    parts = [r for r in model_server.requests if "\n## File: src/flask/app.py" in r["messages"][1]["content"]]
    assert len(parts) >= 8
    assert all("is split over" in r["messages"][1]["content"] for r in parts)
    coverage = report["summary"]["coverage"]
    assert coverage["added_lines"]["sent"] == coverage["added_lines"]["in_reviewed_files"] >= 1478
    assert "src/flask/app.py" in report["summary"]["files_reviewed"]


def test_a_line_too_long_for_any_request_is_reported_as_not_sent(repo, model_server, run_cli):
    import json

    long_line = "DATA = [" + ", ".join(str(n) for n in range(12_000)) + "]"
    repo.write("pkg/table.py", "import os\n" + long_line + "\nprint(os.sep)\n")
    repo.add("pkg/table.py")
    result = run_cli("diff", "--staged", "--format", "json", "--max-request-tokens", "8000", "--fail-on", "never")
    assert result.exit_code == 0, result.stderr
    coverage = json.loads(result.stdout)["summary"]["coverage"]
    assert coverage["complete"] is False
    assert coverage["added_lines"] == {"total": 3, "in_reviewed_files": 3, "sent": 2}
    assert coverage["not_sent"] == [{
        "path": "pkg/table.py",
        "reason": "1 of 3 added lines not sent whole (a line longer than a request was cut)",
    }]
    assert "1 of 3 added lines not sent (pkg/table.py: 1 of 3 added lines not sent whole" in result.stderr
    sent = "".join(r["messages"][1]["content"] for r in model_server.requests)
    assert "print(os.sep)" in sent and "DATA = [0, 1, 2" in sent and "11999]" not in sent
