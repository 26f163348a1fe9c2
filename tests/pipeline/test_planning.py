"""The plan does each piece of work once per run, and doing less changes nothing in what it plans.

A plan renders every file to size the chunks and then builds the messages from the same renderings; the token
estimate of a whole request is only worked out when something (--dry-run) asks for it.
"""

from __future__ import annotations

from reviewbot.adapters.git import DiffSpec
from reviewbot.pipeline import planning
from reviewbot.pipeline.prompt import fence, render_chunk
from reviewbot.pipeline.tokens import estimate_tokens
from reviewbot.session import collect_diff, load_agents, model_for_agent, prepare


def _plan(repo, **cli):
    ctx = prepare(cli, cwd=repo.path)
    diff = collect_diff(ctx, DiffSpec(staged=True))
    agents = load_agents(ctx)
    return planning.plan(diff, ctx.settings, agents=agents, source=ctx.source, model_for=model_for_agent(ctx.settings))


def _stage_files(repo, count: int) -> None:
    for i in range(count):
        repo.write(f"pkg/m{i:02d}.py", "".join(f"v{j} = {j}\n" for j in range(30)))
    repo.commit("base", all=True)
    for i in range(count):
        repo.write(f"pkg/m{i:02d}.py", "".join(f"v{j} = {j * (i + 2)}\n" for j in range(30)))
    repo.stage_all()


def test_request_estimate_is_the_messages_estimate_plus_the_answer_allowance(repo):
    repo.write("CLAUDE.md", "# Rules\nNo global state.\n")
    _stage_files(repo, 12)
    the_plan = _plan(repo, max_request_tokens=6000, samples=2, cache=False)
    assert len(the_plan.requests) >= 4
    answer = the_plan.requests[0].answer_tokens
    assert answer > 0
    for req in the_plan.requests:
        expected = sum(estimate_tokens(m["content"]) for m in req.messages) + answer
        assert req.estimated_tokens == expected
        assert req.estimated_tokens <= 6000
        # the diff each request carries is rendered exactly as without the memo
        assert req.messages[1]["content"].endswith(fence("diff", render_chunk(req.chunk)) + "\n")
