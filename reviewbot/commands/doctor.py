"""`reviewbot doctor`: prove the set-up works before the first commit depends on it.

Four checks, each printed as one line with what to do when it fails: the settings (agents, model, key, trusted
endpoint), the endpoint (GET /models answers), the model name (listed there, where the server lists models) and one
tiny review request with the answer schema. Exit 0 when all pass, 2 for a configuration problem, 3 when the endpoint
or the model is the problem. Registers itself on the main click group when cli.py imports this module.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import click

from reviewbot.commands.common import console, handle_errors
from reviewbot.commands.options import DefaultShownOption, agent_settings
from reviewbot.core.errors import EXIT_OK, EXIT_REVIEW_FAILED, EXIT_USAGE, ReviewbotError

if TYPE_CHECKING:
    from reviewbot.adapters.model_client import ChatModel
    from reviewbot.config import Settings
    from reviewbot.session import Context

# A diff small enough to cost a few hundred tokens; the answer only has to be the findings JSON.
PROBE_DIFF = """\
--- a/app.py
+++ b/app.py
@@ -1,2 +1,3 @@
 def total(prices):
+    # sum the prices
     return sum(prices)
"""
PROBE_ANSWER_TOKENS = 300


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    exit_code: int = EXIT_OK  # what a failure of this check exits with


def _line(check: Check) -> str:
    mark = "ok     " if check.ok else "PROBLEM"
    text = f"{mark}  {check.name}: {check.detail}"
    if not check.ok and check.fix:
        text += f"\n         fix: {check.fix}"
    return text


def _origin(settings: Settings, key: str) -> str:
    return settings.origins.get(key, "default")


def check_config(overrides: Mapping[str, object]) -> tuple[Context, list[str] | None, Check]:
    """The settings (with the config keys given on the command line), the agents and the key, without any network;
    returns (context, model, Check)."""
    from reviewbot.session import check_setup, model_for_agent, prepare

    ctx = prepare(overrides, console=console(), require_repo=False)
    try:
        setup = check_setup(ctx)
    except ReviewbotError as exc:  # an unknown agent, a broken agent file
        return ctx, None, Check("config", False, str(exc), "fix the agent name (`reviewbot agents` lists them) "
                                "or the file it names", EXIT_USAGE)
    s = ctx.settings
    if setup.problem is not None:
        return ctx, None, Check("config", False, str(setup.problem),
                                "then run `reviewbot doctor` again (`reviewbot config` shows every setting and "
                                "where it came from)", EXIT_USAGE)
    models = sorted({model_for_agent(s)(a) for a in setup.agents})
    where = s.base_url or "https://api.openai.com/v1"
    detail = (f"model {', '.join(models)} ({_origin(s, 'model')}), endpoint {where} "
              f"({_origin(s, 'base_url') if s.base_url else 'the OpenAI default'}), "
              f"agent(s) {', '.join(a.name for a in setup.agents)}")
    return ctx, models, Check("config", True, detail)


def _model(settings: Settings, model: str, retries: int = 0) -> ChatModel:
    from reviewbot.adapters.model_client import ChatModel, ModelSettings
    from reviewbot.pipeline.prompt import ANSWER_SCHEMA
    from reviewbot.session import endpoint_key

    return ChatModel(ModelSettings(model=model, base_url=settings.base_url, api_key=endpoint_key(settings),
                                   timeout=settings.timeout, max_retries=retries,
                                   temperature=settings.temperature, seed=settings.seed,
                                   max_answer_tokens=PROBE_ANSWER_TOKENS),
                     use_schema=ANSWER_SCHEMA)


def check_endpoint(chat: ChatModel, models: list[str]) -> list[Check]:
    """GET /models: is the endpoint there, does it accept the key, does it serve the model?"""
    openai = chat._openai
    where = chat.settings.endpoint
    try:
        listed = [m.id for m in chat._client.models.list()]
    except openai.APIConnectionError as exc:
        return [Check("endpoint", False, f"cannot connect to {where} ({_first(exc)})",
                      "start the server, or point OPENAI_BASE_URL / --base-url at the one you use "
                      "(it ends in /v1 for most servers)", EXIT_REVIEW_FAILED)]
    except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
        return [Check("endpoint", False, f"{where} rejected the API key (HTTP {exc.status_code})",
                      "set OPENAI_API_KEY (or REVIEWBOT_API_KEY) to a key this endpoint accepts", EXIT_REVIEW_FAILED)]
    except openai.APIStatusError as exc:
        # Some servers do not list models; the tiny request below still proves the model answers.
        return [Check("endpoint", True, f"{where} is reachable (GET /models answered HTTP {exc.status_code}, "
                                        "so the model name is checked by the request below)")]
    except (openai.APIError, ValueError) as exc:
        return [Check("endpoint", True, f"{where} is reachable (its model list could not be read: {_first(exc)})")]
    checks = [Check("endpoint", True, f"{where} answers ({len(listed)} model(s) listed)")]
    for model in models:
        if model in listed:
            checks.append(Check("model", True, f"'{model}' is served there"))
        else:
            shown = ", ".join(listed[:8]) + (" ..." if len(listed) > 8 else "") if listed else "none"
            checks.append(Check("model", False, f"'{model}' is not among the models {where} serves ({shown})",
                                "set REVIEWBOT_MODEL (or --model, or model in .reviewbot.toml) to one of them",
                                EXIT_REVIEW_FAILED))
    return checks


def check_request(chat: ChatModel) -> Check:
    """One tiny review request with the answer schema; its answer must read as findings JSON."""
    from reviewbot.core.errors import ModelError
    from reviewbot.pipeline.answer import parse_answer

    messages = [
        {"role": "system", "content": "You review code changes. Answer only with JSON: "
                                      '{"findings": [...]}; an empty list when nothing is wrong.'},
        {"role": "user", "content": "Review this diff:\n" + PROBE_DIFF},
    ]
    started = time.monotonic()
    try:
        completion = chat.complete(messages)
    except ModelError as exc:
        return Check("answer", False, str(exc), "check the model name and that the server can run it; "
                     "`--timeout` waits longer for a slow server", EXIT_REVIEW_FAILED)
    took = time.monotonic() - started
    how = completion.response_format
    if how == "none":
        how = "plain text" + (" (the server refused response_format)" if chat.ladder.rejections else "")
    if completion.cut_off:
        return _cut_probe(chat, completion.text, took, how)
    try:
        parsed = parse_answer(completion.text)
    except ReviewbotError as exc:
        return Check("answer", False, f"{chat.describe()} answered in {took:.1f} s, but not with the findings "
                     f"JSON reviewbot needs ({exc})",
                     "use an instruction-tuned model that follows a JSON schema (most 7B+ chat models do)",
                     EXIT_REVIEW_FAILED)
    return Check("answer", True, f"a review request was answered in {took:.1f} s with {len(parsed.findings)} "
                                 f"finding(s), {completion.tokens_in} tokens in / {completion.tokens_out} out "
                                 f"(format: {how})")


def _cut_probe(chat: ChatModel, text: str, took: float, how: str) -> Check:
    """A probe answer that ran past PROBE_ANSWER_TOKENS. A wordy model does that on the tiny diff too, and a review
    allows far more room, so what counts is whether the answer was findings JSON as far as it went."""
    from reviewbot.config import KEYS
    from reviewbot.pipeline.answer import complete_findings

    room = (f"the probe allows {PROBE_ANSWER_TOKENS} answer tokens, a review max_answer_tokens "
            f"({KEYS['max_answer_tokens'].default} by default)")
    found = complete_findings(text).findings
    if found:
        return Check("answer", True, f"a review request was answered in {took:.1f} s with findings JSON, cut off "
                                     f"after {len(found)} complete finding(s): {room} (format: {how})")
    return Check("answer", False, f"{chat.describe()} answered in {took:.1f} s, but its answer was cut off before "
                                  f"one finding was complete: {room}",
                 "use an instruction-tuned model that follows a JSON schema and answers briefly; if `reviewbot diff` "
                 "reviews work, this probe can be ignored", EXIT_REVIEW_FAILED)


def _first(exc: Exception) -> str:
    """The innermost cause's text ("[Errno 111] Connection refused"), not the SDK's "Connection error."."""
    from reviewbot.adapters.server_errors import exception_line

    inner: BaseException = exc
    while inner.__cause__ is not None or inner.__context__ is not None:
        inner = cast("BaseException", inner.__cause__ or inner.__context__)  # one of them is set
    return exception_line(inner)


@click.command("doctor")
@click.option("--model", "-m", help="Model id to check (env REVIEWBOT_MODEL).")
@click.option("--base-url", metavar="URL", help="Endpoint to check (env OPENAI_BASE_URL).")
@click.option("--agent", "-a", "agents", multiple=True, cls=DefaultShownOption, show_default="config agent",
              help="Agent name or file; repeat for several.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="Seconds to wait for the test answer [default: config timeout, 120].")
@handle_errors
def doctor(model: str | None, base_url: str | None, agents: tuple[str, ...], timeout: float | None) -> int:
    """Check the set-up: settings, endpoint, model name and one tiny review request.

    Each check prints one line, and what to do when it fails. Exit 0 when all pass, 2 for a configuration
    problem (no model, no key, unknown agent), 3 when the endpoint or the model is the problem.
    """
    return run_doctor({"model": model, "base_url": base_url, "timeout": timeout, **agent_settings(agents)})


def run_doctor(overrides: Mapping[str, object]) -> int:
    """Run every check with the config keys given on the command line (None: not given), printing a line for each;
    the exit code is the worst failure's."""
    ctx, models, config = check_config(overrides)
    checks = [config]
    click.echo(_line(config))
    if config.ok:
        assert models is not None  # check_config names the models whenever the config is ok
        chat = _model(ctx.settings, models[0])
        listed = check_endpoint(chat, models)
        endpoint = [c for c in listed if c.name == "endpoint"]
        checks += endpoint
        for check in endpoint:
            click.echo(_line(check))
        if all(c.ok for c in endpoint):
            named_checks: list[Check | None] = [c for c in listed if c.name == "model"] or [None] * len(models)
            for name, named in zip(models, named_checks):
                answer = check_request(chat if name == models[0] else _model(ctx.settings, name))
                if named is not None and not named.ok and answer.ok:
                    # llama.cpp's server and others serve one model under any name: the answer is what counts.
                    named = Check("model", True, f"'{name}' is not in the list ({named.detail.split('(')[-1][:-1]}), "
                                                 "but the server answers to it")
                for check in (named, answer) if named is not None else (answer,):
                    checks.append(check)
                    click.echo(_line(check))
    failed = [c for c in checks if not c.ok]
    if not failed:
        click.echo("all good: the model answers reviews; in a repository, `reviewbot init` and `pre-commit install` "
                   "set the hook up")
        return EXIT_OK
    click.echo(f"{len(failed)} problem(s): reviews will not happen until fixed")
    return max(c.exit_code for c in failed)
