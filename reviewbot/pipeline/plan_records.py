"""What a plan is made of: `Plan` (everything a review will do, computed without sending anything) and its
`PlannedRequest`s. In a module of their own so that the plan cache can read and check plans without importing the
code that makes them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from reviewbot.core.models import Chunk, Coverage, Diff, FileDiff, Finding, Skipped
from reviewbot.pipeline.prompt import PromptParts


@dataclass(frozen=True)
class PlannedRequest:
    agent: str
    model: str
    chunk: Chunk
    messages: tuple[dict[str, str], ...]
    answer_tokens: int  # the answer allowance the request reserves (max_tokens)
    seed: int | None = None
    parts: PromptParts | None = None  # what surrounds the diff: rebuilds the messages for half the chunk

    @cached_property
    def estimated_tokens(self) -> int:
        """The messages' estimated tokens plus the answer allowance; worked out on first use, since only --dry-run
        shows it and estimating every message of a large plan again costs more than the rest of building them."""
        from reviewbot.pipeline.tokens import estimate_tokens

        return sum(estimate_tokens(m["content"]) for m in self.messages) + self.answer_tokens


@dataclass(frozen=True)
class Plan:
    diff: Diff
    reviewable: tuple[FileDiff, ...]
    skipped: tuple[Skipped, ...]
    local_findings: tuple[Finding, ...]  # secrets found without a model
    requests: tuple[PlannedRequest, ...]
    redactions: int = 0
    notes: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()
    path_aliases: tuple[tuple[str, str], ...] = ()  # (redacted name sent to the model, real path)
    coverage: Coverage | None = None
