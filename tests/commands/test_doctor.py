"""`reviewbot doctor` against the loopback server: each failure class named (config: exit 2, endpoint or model:
exit 3), inside a repository or outside one."""

from __future__ import annotations

from reviewbot.commands.doctor import run_doctor
from tests.helpers import TEST_API_KEY, TEST_MODEL
from tests.helpers.model_server import error_body
from tests.helpers.ports import closed_port


def test_doctor_all_good(repo, model_server, run_cli):
    result = run_cli("doctor")
    assert result.exit_code == 0, result.stdout
    lines = result.stdout.splitlines()
    assert [ln.split(":")[0].split()[-1] for ln in lines[:4]] == ["config", "endpoint", "model", "answer"]
    assert all(ln.startswith("ok ") for ln in lines[:4])
    assert "format: json_schema" in lines[3]
    assert lines[-1].startswith("all good")
    # one tiny request, with the answer schema
    assert model_server.request_count == 1
    request = model_server.requests[0]
    assert request["model"] == TEST_MODEL and request["response_format"]["type"] == "json_schema"
    assert request["max_tokens"] <= 300
    assert model_server.headers[0]["authorization"] == f"Bearer {TEST_API_KEY}"


def test_doctor_works_outside_a_repository(tmp_path, monkeypatch, model_server, run_cli):
    monkeypatch.chdir(tmp_path)
    assert run_cli("doctor").exit_code == 0


def test_doctor_no_model_is_a_config_problem(repo, run_cli):
    result = run_cli("doctor", env={"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"})
    assert result.exit_code == 2
    assert result.stdout.startswith("PROBLEM  config: no model configured")
    assert "fix:" in result.stdout


def test_doctor_unknown_agent_is_a_config_problem(repo, model_server, run_cli):
    result = run_cli("doctor", "--agent", "nobody")
    assert result.exit_code == 2
    assert "unknown agent 'nobody'" in result.stdout and "reviewbot agents" in result.stdout
    assert model_server.request_count == 0


def test_doctor_untrusted_repository_endpoint_is_a_config_problem(repo, run_cli):
    repo.write(".reviewbot.toml", 'base_url = "https://llm.example.net/v1"\nmodel = "m"\n')
    result = run_cli("doctor", env={"OPENAI_API_KEY": TEST_API_KEY})
    assert result.exit_code == 2
    assert "which you have not trusted" in result.stdout


def test_doctor_refused_connection_is_an_endpoint_problem(repo, run_cli):
    result = run_cli("doctor", env={"OPENAI_BASE_URL": f"http://127.0.0.1:{closed_port()}/v1", "REVIEWBOT_MODEL": "m"})
    assert result.exit_code == 3
    assert "PROBLEM  endpoint: cannot connect to" in result.stdout
    assert "Connection refused" in result.stdout
    assert "fix: start the server" in result.stdout


def test_doctor_wrong_model_name_lists_the_served_models(repo, model_server, run_cli):
    """As OpenAI or Ollama do: the name is not listed, and a request naming it is answered 404."""
    model_server.models = ["qwen2.5-coder:7b", "llama3.1:8b"]
    model_server.fail(404, error_body(404, "model 'gpt-4o' not found"))
    result = run_cli("doctor", "--model", "gpt-4o")
    assert result.exit_code == 3
    assert "PROBLEM  model: 'gpt-4o' is not among the models" in result.stdout
    assert "qwen2.5-coder:7b, llama3.1:8b" in result.stdout
    assert "fix: set REVIEWBOT_MODEL" in result.stdout
    assert "PROBLEM  answer:" in result.stdout and "404" in result.stdout


def test_doctor_accepts_a_server_that_answers_to_any_name(repo, model_server, run_cli):
    """As llama.cpp's server does: it lists its file name and answers whatever model is asked for."""
    model_server.models = ["/models/qwen2.5-coder-7b-instruct-q4_k_m.gguf"]
    result = run_cli("doctor", "--model", "qwen")
    assert result.exit_code == 0, result.stdout
    assert "ok       model: 'qwen' is not in the list" in result.stdout and "answers to it" in result.stdout


def test_doctor_rejected_key_is_an_endpoint_problem(repo, model_server, run_cli):
    model_server.models_status = 401
    result = run_cli("doctor")
    assert result.exit_code == 3
    assert "rejected the API key" in result.stdout and "OPENAI_API_KEY" in result.stdout


def test_doctor_without_a_model_list_still_proves_the_model_answers(repo, model_server, run_cli):
    model_server.models_status = 404
    result = run_cli("doctor")
    assert result.exit_code == 0, result.stdout
    assert "GET /models answered HTTP 404" in result.stdout
    assert model_server.request_count == 1


def test_doctor_unknown_model_found_by_the_request(repo, model_server, run_cli):
    model_server.models_status = 404
    model_server.fail(404, times=3)
    result = run_cli("doctor")
    assert result.exit_code == 3
    assert "PROBLEM  answer:" in result.stdout and "404" in result.stdout


def test_doctor_answer_that_is_not_json(repo, model_server, run_cli):
    model_server.answer("Looks fine to me!")
    result = run_cli("doctor")
    assert result.exit_code == 3
    assert "PROBLEM  answer:" in result.stdout and "not with the findings JSON" in result.stdout


def test_doctor_a_wordy_answer_cut_at_the_probes_allowance_is_judged_by_what_it_holds(repo, model_server, run_cli):
    # Found on llama-server with Qwen2.5-Coder-1.5B: one long finding ran past the probe's 300 tokens, and doctor
    # called the model unable to write findings JSON although reviews (4,096 tokens of room) worked.
    finding = ('{"path": "app.py", "line": 2, "severity": "info", "category": "comments", "message": "The comment '
               'repeats the code.", "quote": "    # sum the prices", "confidence": 0.5}')
    model_server.answer('{"findings": [' + finding + ', {"path": "app.py", "line": 2, "message": "Also',
                        finish_reason="length")
    result = run_cli("doctor")
    assert result.exit_code == 0, result.stdout
    assert "ok       answer: a review request was answered" in result.stdout
    assert "cut off after 1 complete finding(s): the probe allows 300 answer tokens" in result.stdout

    model_server.answer('{"findings": [{"path": "app.py", "line": 2, "message": "The comment', finish_reason="length")
    result = run_cli("doctor")
    assert result.exit_code == 3
    assert "PROBLEM  answer:" in result.stdout and "cut off before one finding was complete" in result.stdout


# --- run_doctor: the command below click, called with plain values ----------------------------------------------------


def test_run_doctor_checks_the_settings_it_is_given(repo, model_server, capsys):
    assert run_doctor({"model": "other-model", "timeout": None}) == 0
    out = capsys.readouterr().out
    assert "model other-model (command line)" in out and out.splitlines()[-1].startswith("all good")
    assert model_server.requests[-1]["model"] == "other-model"
    assert run_doctor({"agent": "nobody"}) == 2
    assert "unknown agent 'nobody'" in capsys.readouterr().out
    assert model_server.request_count == 1
