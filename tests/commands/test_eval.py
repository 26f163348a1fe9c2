"""`reviewbot eval` end to end: real case repositories, the real pipeline and client, a scripted loopback model."""

from __future__ import annotations

import json
import re
import shutil
import threading
from collections import Counter
from pathlib import Path

import pytest

from reviewbot.commands.eval import EvalOptions, run_eval
from reviewbot.evaluation.cases import bundled_corpus_dir, load_cases
from tests.helpers import Fail, GitRepo

BASE = "import time\n\n\nasync def handler(request):\n    return 1\n"
DEFECT = "import time\n\n\nasync def handler(request):\n    time.sleep(5)\n    return 1\n"  # line 5


def make_case(corpus: Path, name: str, before: dict[str, str], after: dict[str, str], issues: list[dict]) -> Path:
    """A case made with real git: base files committed, the change staged, `git diff --cached` as the patch."""
    scratch = GitRepo(corpus.parent / "_scratch" / name)
    scratch.write("README.md", "scratch\n")
    for path, text in before.items():
        scratch.write(path, text)
    scratch.stage_all()
    scratch.commit("base")
    for path, text in after.items():
        scratch.write(path, text)
    scratch.stage_all()
    case = corpus / name
    (case / "base").mkdir(parents=True)
    (case / "diff.patch").write_text(scratch.git("diff", "--cached"), encoding="utf-8")
    for path, text in before.items():
        target = case / "base" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    (case / "expected.json").write_text(json.dumps({"issues": issues}), encoding="utf-8")
    return case


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """Three cases: a defect the model finds, a defect it misses, and a clean change it flags anyway."""
    root = tmp_path / "corpus"
    issue = {"lines": [5, 5], "category": "async", "severity": "error"}
    make_case(root, "found", {"app/found.py": BASE}, {"app/found.py": DEFECT}, [{"path": "app/found.py", **issue}])
    make_case(root, "missed", {"app/missed.py": BASE}, {"app/missed.py": DEFECT}, [{"path": "app/missed.py", **issue}])
    make_case(root, "clean", {"app/clean.py": BASE},
              {"app/clean.py": BASE.replace("return 1", "return 2  # documented default")}, [])
    return root


def _finding(path: str, line: int, severity: str = "error", message: str = "blocks the event loop") -> dict:
    return {"path": path, "line": line, "severity": severity, "category": "async", "message": message}


def _is_verification(body: dict) -> bool:
    return "verification pass" in body["messages"][0]["content"]


def scripted(body: dict) -> dict:
    """The model: finds the defect in `found`, misses the one in `missed`, flags the clean change."""
    prompt = body["messages"][-1]["content"]
    if "app/found.py" in prompt:
        return {"findings": [_finding("app/found.py", 5)]}
    if "app/clean.py" in prompt:
        return {"findings": [_finding("app/clean.py", 5, severity="warning", message="magic number")]}
    return {"findings": []}


def _eval_json(run_cli, *args):
    result = run_cli("eval", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return result, json.loads(result.stdout)


def test_known_findings_give_known_precision_and_recall(corpus, model_server, run_cli):
    model_server.default = scripted
    result, report = _eval_json(run_cli, corpus)
    assert (report["precision"], report["recall"], report["f1"]) == (0.5, 0.5, 0.5)
    assert (report["tp"], report["fp"], report["fn"]) == (1, 1, 1)
    rows = {c["name"]: c for c in report["cases"]}
    assert [c["name"] for c in report["cases"]] == ["clean", "found", "missed"]
    assert {n: (r["tp"], r["fp"], r["fn"]) for n, r in rows.items()} == {
        "found": (1, 0, 0), "missed": (0, 0, 1), "clean": (0, 1, 0)}
    assert rows["found"]["blocking"] is True and rows["missed"]["blocking"] is False
    assert rows["clean"]["blocking"] is False  # a warning does not block at the default threshold
    assert report["verdicts"] == {"correct": 2, "total": 3}
    assert report["tokens"]["requests"] == 3 == len(model_server.requests)
    assert report["model"] == "test-model" and report["agent"] == "senior-backend-engineer"
    assert report["per_category"]["async"]["tp"] == 1
    # The requests are the ones `reviewbot diff --staged` sends: the protocol, the persona, numbered lines.
    found = next(r for r in model_server.requests if "app/found.py" in r["messages"][-1]["content"])
    assert "5 +     time.sleep(5)" in found["messages"][-1]["content"]
    assert found["temperature"] == 0 and found["seed"] == 0


def test_text_report_lists_every_case_and_the_totals(corpus, model_server, run_cli):
    model_server.default = scripted
    result = run_cli("eval", corpus)
    assert result.exit_code == 0, result.stderr
    for name in ("found", "missed", "clean"):
        assert any(line.startswith(name + " ") for line in result.stdout.splitlines())
    assert re.search(r"^strict\s+0\.500\s+0\.500\s+0\.500\s+1\s+1\s+1$", result.stdout, re.M)
    assert re.search(r"^loose\s+0\.500\s+0\.500\s+0\.500\s+1\s+1\s+1$", result.stdout, re.M)


def test_bundled_corpus_runs_with_no_argument(tmp_path, model_server, run_cli, monkeypatch):
    monkeypatch.chdir(tmp_path)  # not a repository: bundled and user agents only
    result, report = _eval_json(run_cli)  # the server's default answer: no findings
    names = [c.name for c in load_cases(bundled_corpus_dir())]
    assert len(names) >= 26
    assert [c["name"] for c in report["cases"]] == names
    assert report["recall"] == 0.0 and report["precision"] is None  # no findings: precision undefined, not 1.0
    assert report["fp"] == 0 and report["fn"] == sum(c["expected"] for c in report["cases"]) > 0
    assert not [c for c in report["cases"] if "error" in c]
    assert len(model_server.requests) == len(names)


def test_repeat_reports_verdict_stability(corpus, model_server, run_cli):
    seen: Counter = Counter()
    lock = threading.Lock()

    def flaky(body):
        prompt = body["messages"][-1]["content"]
        if "app/found.py" in prompt:
            with lock:
                seen["found"] += 1
                first = seen["found"] == 1
            return {"findings": [_finding("app/found.py", 5)] if first else []}  # blocks, then passes
        return {"findings": []}

    model_server.default = flaky
    result, report = _eval_json(run_cli, corpus, "--repeat", "2")
    assert report["repeats"] == 2
    assert report["stability"]["flips"] == {"clean": 0, "found": 1, "missed": 0}
    assert report["stability"]["unstable_cases"] == ["found"]
    assert report["stability"]["flip_rate"] == pytest.approx(1 / 3, abs=1e-3)
    rows = {c["name"]: c for c in report["cases"]}
    assert rows["found"]["verdicts"] == [True, False] and rows["found"]["runs"] == 2
    assert len(model_server.requests) == 6  # each case reviewed twice, nothing from the cache

    text = run_cli("eval", corpus, "--repeat", "2")
    assert "verdict stability over 2 runs: " in text.stdout


def test_cache_is_off_unless_asked(corpus, model_server, run_cli):
    model_server.default = scripted
    _eval_json(run_cli, corpus)
    _eval_json(run_cli, corpus)
    assert len(model_server.requests) == 6
    _eval_json(run_cli, corpus, "--cache")
    _, report = _eval_json(run_cli, corpus, "--cache")
    assert len(model_server.requests) == 9  # the second cached run sent nothing
    assert report["tokens"]["requests"] == 0
    assert (report["precision"], report["recall"]) == (0.5, 0.5)
    assert report["labels"]["cache"] == "on"


def test_verify_option_changes_the_scores(corpus, model_server, run_cli):
    def route(body):
        if _is_verification(body):
            user = body["messages"][1]["content"]
            verdict = "reject" if "app/clean.py" in user else "confirm"
            return {"verdicts": [{"id": 1, "verdict": verdict, "reason": "checked"}]}
        return scripted(body)

    model_server.default = route
    _, report = _eval_json(run_cli, corpus, "--verify")
    assert (report["precision"], report["recall"]) == (1.0, 0.5)  # the false positive was rejected
    assert report["labels"]["verify"] == "on"
    assert sum(_is_verification(r) for r in model_server.requests) == 2  # the case without findings needs none


def test_precision_options_are_applied_and_labelled(corpus, model_server, run_cli):
    def route(body):
        prompt = body["messages"][-1]["content"]
        if "app/clean.py" in prompt:
            return {"findings": [{**_finding("app/clean.py", 5, severity="warning"), "confidence": 0.2}]}
        return scripted(body)

    model_server.default = route
    _, report = _eval_json(run_cli, corpus, "--min-confidence", "0.5", "--samples", "2", "--max-findings", "3")
    assert (report["precision"], report["recall"]) == (1.0, 0.5)
    assert report["labels"] == {"samples": "2 (share 0.5)", "min_confidence": "0.5", "max_findings": "3"}
    assert sorted(r["seed"] for r in model_server.requests) == [0, 0, 0, 1, 1, 1]


def test_a_failing_case_is_an_error_row_not_a_crash(corpus, model_server, run_cli):
    def route(body):
        if "app/missed.py" in body["messages"][-1]["content"]:
            return Fail(404)
        return scripted(body)

    model_server.default = route
    _, report = _eval_json(run_cli, corpus)
    rows = {c["name"]: c for c in report["cases"]}
    assert "404" in rows["missed"]["error"] and rows["missed"]["failed"] is True
    assert rows["missed"]["fn"] == 0  # not scored: a failure is neither a miss nor a pass
    assert "error" not in rows["found"]
    assert report["failed_runs"] == 1 and report["failed_cases"] == 1
    assert (report["precision"], report["recall"]) == (0.5, 1.0)
    assert report["verdicts"] == {"correct": 2, "total": 2}  # the failed case has no verdict


def test_a_patch_that_does_not_apply_is_an_error_row(corpus, model_server, run_cli):
    model_server.default = scripted
    (corpus / "missed" / "base" / "app" / "missed.py").write_text("something else entirely\n", encoding="utf-8")
    _, report = _eval_json(run_cli, corpus)
    rows = {c["name"]: c for c in report["cases"]}
    assert "does not apply" in rows["missed"]["error"]
    assert rows["found"]["tp"] == 1


def test_no_case_reviewed_is_exit_3(corpus, model_server, run_cli):
    model_server.default = lambda body: Fail(404)
    result = run_cli("eval", corpus, "--format", "json")
    assert result.exit_code == 3
    assert len(json.loads(result.stdout)["cases"]) == 3  # the report is still printed
    assert "no case could be reviewed" in result.stderr


def test_usage_errors_are_exit_2(corpus, tmp_path, model_server, run_cli):
    missing = run_cli("eval", tmp_path / "nowhere")
    assert missing.exit_code == 2 and "not a directory" in missing.stderr
    unknown = run_cli("eval", corpus, "--agent", "no-such-agent")
    assert unknown.exit_code == 2 and "unknown agent 'no-such-agent'" in unknown.stderr
    bad_repeat = run_cli("eval", corpus, "--repeat", "0")
    assert bad_repeat.exit_code == 2
    assert model_server.requests == []


def test_no_model_is_exit_2_before_any_request(corpus, run_cli):
    result = run_cli("eval", corpus)
    assert result.exit_code == 2
    assert "no model configured" in result.stderr
    assert "Traceback" not in result.stderr


def test_agents_come_from_the_current_repository(corpus, repo, model_server, run_cli):
    repo.write(".claude/agents/strict.md",
               "---\nname: strict-reviewer\ndescription: test agent\n---\nYou are the STRICT PERSONA for tests.\n")
    model_server.default = scripted
    _, report = _eval_json(run_cli, corpus, "--agent", "strict-reviewer")
    assert report["agent"] == "strict-reviewer"
    assert all("STRICT PERSONA" in r["messages"][0]["content"] for r in model_server.requests)
    assert len(model_server.requests) == 3


def test_single_case_directory(corpus, model_server, run_cli):
    model_server.default = scripted
    single = corpus.parent / "only"
    shutil.copytree(corpus / "found", single)
    _, report = _eval_json(run_cli, single)
    assert [c["name"] for c in report["cases"]] == ["only"]
    assert report["recall"] == 1.0


def test_a_failing_clean_case_is_not_a_correct_verdict_and_is_counted(corpus, model_server, run_cli):
    def route(body):
        if "app/clean.py" in body["messages"][-1]["content"]:
            return Fail(500, {"error": {"message": "Context size has been exceeded."}})
        return scripted(body)

    model_server.default = route
    result = run_cli("eval", corpus, "--timeout", "5")
    assert result.exit_code == 0, result.stderr
    assert re.search(r"^clean\s+0\s+-\s+-\s+-\s+-\s+failed$", result.stdout, re.M)
    assert "1 of 3 cases failed and are left out of the scores:" in result.stdout
    assert "scores over 2 of 3 cases" in result.stdout
    assert "blocking verdicts correct: 1/2" in result.stdout  # before: 2/3, the failure counted as a pass


def _is_judgement(body: dict) -> bool:
    return "You grade an automated code reviewer" in body["messages"][0]["content"]


def test_judge_checks_that_the_message_describes_the_expected_defect(corpus, model_server, run_cli):
    for name in ("found", "missed"):
        expected = corpus / name / "expected.json"
        data = json.loads(expected.read_text())
        expected.write_text(json.dumps({**data, "description": "time.sleep blocks the event loop"}))

    def route(body):
        if _is_judgement(body):
            asked = body["messages"][1]["content"]
            same = "blocks the event loop" in asked.split("reviewer's finding")[1]
            return {"verdict": "yes" if same else "no", "reason": "compared"}
        prompt = body["messages"][-1]["content"]
        if "app/found.py" in prompt:
            return {"findings": [_finding("app/found.py", 5)]}
        if "app/missed.py" in prompt:  # right line, wrong explanation
            return {"findings": [_finding("app/missed.py", 5, message="variable name is too short")]}
        return {"findings": []}

    model_server.default = route
    _, report = _eval_json(run_cli, corpus, "--judge")
    judgements = [r for r in model_server.requests if _is_judgement(r)]
    assert len(judgements) == 2  # one per strict match, none for the clean case
    assert all(r["response_format"]["type"] == "json_schema" for r in judgements)
    assert "time.sleep blocks the event loop" in judgements[0]["messages"][1]["content"]
    assert (report["tp"], report["fp"], report["fn"]) == (2, 0, 0)
    assert report["judged"] == {"tp": 1, "fp": 1, "fn": 1, "precision": 0.5, "recall": 0.5, "f1": 0.5}
    assert report["labels"]["judge"] == "test-model"
    assert report["tokens"]["requests"] == 5  # three reviews, two judgements

    text = run_cli("eval", corpus, "--judge").stdout
    assert re.search(r"^judged\s+0\.500\s+0\.500\s+0\.500\s+1\s+1\s+1$", text, re.M)


def test_a_judge_that_cannot_answer_does_not_raise_the_score(corpus, model_server, run_cli):
    def route(body):
        if _is_judgement(body):
            return "I think so, probably."  # no JSON
        return scripted(body)

    model_server.default = route
    result = run_cli("eval", corpus, "--judge", "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["judged"]["tp"] == 0 and report["judge_unanswered"] == 1
    assert "the judge (test-model) gave no usable answer" in result.stderr


# --- run_eval: the command below click, called with plain values ------------------------------------------------------


def test_run_eval_scores_the_corpus_with_the_options_it_is_given(corpus, model_server, capsys):
    model_server.default = scripted
    options = EvalOptions(settings={"cache": False, "fail_on": "warning"}, output_format="json", repeat=2)
    assert run_eval(corpus, options) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["precision"], report["recall"]) == (0.5, 0.5)
    assert report["labels"]["fail_on"] == "warning"
    rows = {c["name"]: c for c in report["cases"]}
    assert rows["clean"]["blocking"] is True  # the warning blocks at fail_on = warning
    assert len(model_server.requests) == 6  # three cases, twice each


def test_run_eval_exit_3_when_no_case_could_be_reviewed_and_dry_run_sends_nothing(corpus, model_server, capsys):
    model_server.default = lambda body: Fail(404)
    assert run_eval(corpus, EvalOptions(settings={"cache": False})) == 3
    assert "no case could be reviewed" in capsys.readouterr().err
    sent = len(model_server.requests)
    assert run_eval(corpus, EvalOptions(dry_run=True, output_format="json")) == 0
    assert len(model_server.requests) == sent
    evidence = json.loads(capsys.readouterr().out)
    assert [row["case"] for row in evidence["cases"]] == ["clean", "found", "missed"]  # a row of evidence per case
