"""The team's own say over findings: inline `reviewbot: ignore` comments and the committed baseline.

`make_filters` returns the filters the review applies after the model's findings are anchored to the diff.
Each filter takes (findings, diff) and returns (kept findings, {reason: count removed}).

Inline suppression: a comment holding `reviewbot: ignore` or `reviewbot: ignore[category, ...]`, in any common
comment syntax (#, //, --, /* */, <!-- -->, ;, %), on the flagged line itself or on a comment-only line just
above it. With categories it suppresses only findings of those categories. Secrets found locally are
suppressed only by naming them: `reviewbot: ignore[secrets]`.

Line texts come from the diff. A line the diff does not show (outside every hunk, e.g. with context_lines = 0)
is read from the file at the reviewed revision: the index for staged reviews, the right-hand revision of a
range, otherwise the work tree. That file is used only when it agrees with every line the diff shows for it,
so a wrong guess turns the fallback off rather than read the wrong line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, cast

from reviewbot.core.models import Diff, DropReason, Finding, FindingSource

if TYPE_CHECKING:
    from reviewbot.adapters.git import Repository
    from reviewbot.adapters.repository_files import FileSource
    from reviewbot.rules.baseline import Baseline
    from reviewbot.session import Context

Filter = Callable[[Sequence[Finding], Diff], "tuple[list[Finding], dict[DropReason, int]]"]

_DIRECTIVE = re.compile(r"reviewbot\s*:\s*ignore\b(?:\s*\[([^\]]*)\])?", re.IGNORECASE)
# What may open a comment before the directive on the same line.
_OPENER = re.compile(r"#|//|--|/\*|<!--|;|%|^\s*\*")
_COMMENT_ONLY = re.compile(r"^\s*(?:#|//|--|/\*|<!--|;|%|\*)")
SECRETS = "secrets"


def directive(line: str | None) -> frozenset[str] | None:
    """The categories a line's ignore comment names (empty set: all categories), or None without one."""
    if not line:
        return None
    for match in _DIRECTIVE.finditer(line):
        if not _OPENER.search(line[: match.start()]):
            continue  # the words outside a comment, e.g. in a string
        listed = match.group(1)
        if listed is None:
            return frozenset()
        return frozenset(c.strip().lower() for c in re.split(r"[,\s]+", listed) if c.strip())
    return None


def covers(categories: frozenset[str], finding: Finding) -> bool:
    if finding.source == FindingSource.SECRETS:
        return SECRETS in categories  # a committed secret needs the explicit word
    return not categories or finding.category.strip().lower() in categories


class LineTexts:
    """The text of a line at the reviewed revision: from the diff, else from `read(path)` when that agrees."""

    def __init__(self, diff: Diff, read: Callable[[str], str | None] | None = None) -> None:
        self.diff = diff
        self.read = read
        self._files: dict[str, list[str] | None] = {}

    def __call__(self, path: str, number: int) -> str | None:
        f = self.diff.file(path)
        if f is None or number < 1:
            return None  # never read a path the diff does not name (the model chose it)
        text = f.new_line_text(number)
        if text is not None:
            return text
        if path not in self._files:
            self._files[path] = self._lines(path)
        lines = self._files[path]
        if lines is None or number > len(lines):
            return None
        return lines[number - 1]

    def _lines(self, path: str) -> list[str] | None:
        text = self.read(path) if self.read is not None else None
        if text is None:
            return None
        lines = text.split("\n")
        f = self.diff.file(path)
        for hunk in f.hunks if f else ():
            for ln in hunk.lines:
                if ln.new_no is None:
                    continue
                if ln.new_no > len(lines) or lines[ln.new_no - 1].rstrip("\r") != ln.text.rstrip("\r"):
                    return None  # not the revision that was reviewed
        return lines


def line_texts(ctx: Context, diff: Diff) -> LineTexts:
    """Line texts for the filters of one review (shared with `reviewbot baseline`): files are read, when the diff
    does not show the line, from the side of the diff under review (`ctx.content`, set when the diff was collected:
    the index, revision B or the work tree; only regular files inside the repository)."""
    content = getattr(ctx, "content", None)
    return LineTexts(diff, content.read_text if content is not None else None)


def is_suppressed(finding: Finding, line_text: Callable[[str, int], str | None]) -> bool:
    own = directive(line_text(finding.path, finding.line))
    if own is not None and covers(own, finding):
        return True
    above_text = line_text(finding.path, finding.line - 1) if finding.line > 1 else None
    if above_text is None or not _COMMENT_ONLY.match(above_text):
        return False  # a trailing comment on the previous line of code is about that line
    above = directive(above_text)
    return above is not None and covers(above, finding)


def suppression_filter(line_text: Callable[[str, int], str | None]) -> Filter:
    def apply(findings: Sequence[Finding], diff: Diff) -> tuple[list[Finding], dict[DropReason, int]]:
        kept = [f for f in findings if not is_suppressed(f, line_text)]
        return kept, {DropReason.SUPPRESSED: len(findings) - len(kept)}

    return apply


def baseline_filter(baseline: Baseline, line_text: Callable[[str, int], str | None]) -> Filter:
    from reviewbot.rules.baseline import absorb

    def apply(findings: Sequence[Finding], diff: Diff) -> tuple[list[Finding], dict[DropReason, int]]:
        kept, absorbed, duplicates = absorb(findings, baseline, line_text)
        return kept, {DropReason.BASELINE: absorbed, DropReason.DUPLICATE: duplicates}

    return apply


def make_filters(ctx: Context, diff: Diff, *, use_baseline: bool) -> list[Filter]:
    """The suppression filter, then (unless disabled or absent) the baseline filter, for one review.

    The baseline is read through ctx.source: the same place the rules come from (in CI the base revision).
    A broken baseline file is a ConfigError naming it.
    """
    line_text = line_texts(ctx, diff)
    filters: list[Filter] = [suppression_filter(line_text)]
    if use_baseline:
        from reviewbot.rules.baseline import from_repository, read_baseline

        # A review runs inside a repository (prepare(require_repo=True)): both are set here.
        source, repo = cast("FileSource", ctx.source), cast("Repository", ctx.repo)
        baseline = read_baseline(source, ctx.settings.baseline, repo.root,
                                 from_repository=from_repository(ctx.settings))
        if baseline is not None and baseline.entries:
            filters.append(baseline_filter(baseline, line_text))
    return filters
