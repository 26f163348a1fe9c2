"""Executing a plan (reviewbot/pipeline/execution.py): each model's client is built once, on its first cache miss (an
all-cached run builds none); samples are voted on and a chunk's drops counted once; refused formats are said once."""

from __future__ import annotations

import threading

from reviewbot.adapters.git import DiffSpec
from reviewbot.adapters.model_client import ChatModel
from reviewbot.adapters.result_cache import ResultCache
from reviewbot.core.models import DropReason
from reviewbot.pipeline import execution, planning
from reviewbot.session import collect_diff, load_agents, make_model_factory, model_for_agent, prepare
from tests.helpers import TEST_MODEL
from tests.helpers.service_change import PATH, stage as _stage


def _planned(repo, samples: int, concurrency: int = 4):
    """A plan of `samples` requests (one chunk, sampled with different seeds), run `concurrency` at a time."""
    _stage(repo)
    cli = {"samples": samples, "concurrency": concurrency}
    ctx = prepare(cli, cwd=repo.path)
    diff = collect_diff(ctx, DiffSpec(staged=True))
    agents = load_agents(ctx)
    return ctx, planning.plan(diff, ctx.settings, agents=agents, source=ctx.source,
                            model_for=model_for_agent(ctx.settings))


def test_execute_builds_one_client_per_model_on_the_first_miss(repo, model_server):
    ctx, the_plan = _planned(repo, 4)
    assert len(the_plan.requests) == 4
    real_factory = make_model_factory(ctx.settings)
    built: list[str] = []
    lock = threading.Lock()

    def counting_factory(name: str) -> ChatModel:
        with lock:
            built.append(name)
        return real_factory(name)

    with ResultCache() as cache:
        result = execution.execute(the_plan, ctx.settings, model_factory=counting_factory, cache=cache)
        assert result.usage.requests == 4 and not result.failed
        assert built == [TEST_MODEL]  # four concurrent misses, one client

        built.clear()
        again = execution.execute(the_plan, ctx.settings, model_factory=counting_factory, cache=cache)
    assert again.usage.cached == 4 and again.usage.requests == 0
    assert built == []  # every answer from the cache: no client at all
    assert model_server.request_count == 4


def _finding(line: int, quote: str, category: str) -> dict:
    return {"path": PATH, "line": line, "end_line": None, "severity": "error", "category": category,
            "message": f"a {category} problem", "suggestion": None, "quote": quote, "confidence": 0.9}


SLEEP = _finding(22, "time.sleep(5)", "performance")  # on an added line
RETURN = _finding(23, "return request", "correctness")  # on an added line
OLD = _finding(5, "value_5 = 5", "style")  # on a line the change did not touch


def test_samples_are_voted_on_and_a_chunks_drops_count_once(repo, model_server):
    ctx, the_plan = _planned(repo, 3, concurrency=1)  # one at a time: the samples take the answers in order
    model_server.answer_findings([SLEEP, RETURN, OLD])
    model_server.answer_findings([SLEEP, OLD])
    model_server.answer_findings([SLEEP, OLD])
    result = execution.execute(the_plan, ctx.settings, model_factory=make_model_factory(ctx.settings), cache=None)
    assert [(f.line, f.category) for f in result.findings] == [(22, "performance")]
    assert result.dropped_count(DropReason.OUTVOTED) == 1  # RETURN: one sample of three, under sample_share 0.5
    # OLD was dropped by every sample, but it is one mistake about one chunk
    assert sum(n for r, n in result.dropped if r != DropReason.OUTVOTED) == 1
    assert result.chunks == 1 and result.usage.requests == 3 and result.files_reviewed == (PATH,)


def test_a_refused_response_format_is_said_once_for_the_run(repo, model_server):
    ctx, the_plan = _planned(repo, 2)
    model_server.reject_response_format()
    result = execution.execute(the_plan, ctx.settings, model_factory=make_model_factory(ctx.settings), cache=None)
    refused = [n for n in result.notes if n.startswith("the server refused response_format")]
    assert [n.split(":")[0] for n in refused] == ["the server refused response_format json_schema",
                                                  "the server refused response_format json_object"]
    assert not result.failed
