"""The records a plan is made of: a planned request's estimate is its messages' tokens plus its answer allowance,
worked out once."""

from __future__ import annotations

from reviewbot.core.models import Chunk, Diff
from reviewbot.pipeline.plan_records import Plan, PlannedRequest
from reviewbot.pipeline.tokens import estimate_tokens


def test_estimated_tokens_are_the_messages_plus_the_answer_allowance_and_are_remembered():
    messages = ({"role": "system", "content": "Review the diff."}, {"role": "user", "content": "x = 1\n" * 50})
    request = PlannedRequest(agent="general", model="m", chunk=Chunk(files=()), messages=messages, answer_tokens=700)
    expected = estimate_tokens("Review the diff.") + estimate_tokens("x = 1\n" * 50) + 700
    assert request.estimated_tokens == expected > 700
    assert "estimated_tokens" in request.__dict__  # cached on first use, not estimated again


def test_a_plan_defaults_to_no_redactions_notes_agents_or_coverage():
    plan = Plan(diff=Diff(files=()), reviewable=(), skipped=(), local_findings=(), requests=())
    assert (plan.redactions, plan.notes, plan.agents, plan.path_aliases, plan.coverage) == (0, (), (), (), None)
