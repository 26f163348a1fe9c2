"""Plain typed data that flows between the pipeline's stages.

Nothing here imports a third-party library: unidiff, openai and GitPython objects are converted at the
boundary modules (diffparse, llm, gitio) and never travel further.
"""

from __future__ import annotations

import bisect
import enum
from dataclasses import dataclass, field, fields
from typing import Literal, cast


class Severity(enum.IntEnum):
    """Ordered so that `finding.severity >= threshold` decides blocking."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: object) -> Severity | None:
        """Map the many words models use for severity onto three levels; None when unrecognisable."""
        if isinstance(value, Severity):
            return value
        if not isinstance(value, str):
            return None
        return _SEVERITY_WORDS.get(value.strip().lower())


_SEVERITY_WORDS = {
    **dict.fromkeys(("error", "critical", "blocker", "high", "fatal", "major", "severe", "bug"), Severity.ERROR),
    **dict.fromkeys(("warning", "warn", "medium", "moderate", "minor"), Severity.WARNING),
    **dict.fromkeys(("info", "note", "low", "suggestion", "nit", "style", "information", "trivial"), Severity.INFO),
}

LineKind = Literal["+", "-", " "]
FileStatus = Literal["added", "modified", "deleted", "renamed", "copied"]


@dataclass(frozen=True, slots=True)
class Line:
    kind: LineKind
    text: str  # without the leading diff marker and without the line ending
    old_no: int | None  # None for added lines
    new_no: int | None  # None for removed lines


@dataclass(frozen=True, slots=True)
class Hunk:
    old_start: int
    old_len: int
    new_start: int
    new_len: int
    section: str  # the text git prints after the @@ (enclosing function), may be empty
    lines: tuple[Line, ...]

    @property
    def added_lines(self) -> tuple[int, ...]:
        return tuple(ln.new_no for ln in self.lines if ln.kind == "+" and ln.new_no is not None)

    @property
    def new_lines(self) -> tuple[int, ...]:
        """Every new-side line number this hunk shows: added and context lines."""
        return tuple(ln.new_no for ln in self.lines if ln.new_no is not None)


@dataclass(frozen=True, slots=True)
class FileDiff:
    path: str  # new path; for a deletion the old path
    old_path: str | None  # None for an added file
    status: FileStatus
    hunks: tuple[Hunk, ...] = ()
    is_binary: bool = False
    old_mode: str | None = None
    new_mode: str | None = None
    is_symlink: bool = False
    is_submodule: bool = False
    similarity: int | None = None  # rename/copy similarity in percent

    @property
    def mode_changed(self) -> bool:
        return self.old_mode is not None and self.new_mode is not None and self.old_mode != self.new_mode

    @property
    def has_text_changes(self) -> bool:
        return bool(self.hunks) and not self.is_binary

    # Built on first use and kept with the file: every per-finding question (a line's text, is it changed, the
    # nearest changed line holding a quote) is then a lookup, so a review's local work stays linear in the diff.
    _index: LineIndex | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def index(self) -> LineIndex:
        index = self._index
        if index is None:
            index = LineIndex.build(self.hunks)
            object.__setattr__(self, "_index", index)
        return index

    @property
    def added_lines(self) -> frozenset[int]:
        return self.index.added

    @property
    def diff_lines(self) -> frozenset[int]:
        return self.index.shown

    def new_line_text(self, number: int) -> str | None:
        return self.index.text.get(number)

    def __getstate__(self) -> list[object]:
        # The index is rebuilt on demand; a pickled FileDiff (the plan cache) does not carry it.
        return [getattr(self, f) for f in _FILE_DIFF_STATE]

    def __setstate__(self, state: list[object]) -> None:
        for name, value in zip(_FILE_DIFF_STATE, state):
            object.__setattr__(self, name, value)
        object.__setattr__(self, "_index", None)


def squash(text: str) -> str:
    """Text without any whitespace: how quotes and lines are compared (models re-indent what they quote)."""
    return "".join(text.split())


@dataclass(frozen=True, slots=True)
class LineIndex:
    """One file's new-side lines, indexed once: text by number, the changed and shown line sets (also sorted), and,
    built on first use by anchoring only, the whitespace-free texts and the line numbers of each."""

    text: dict[int, str]
    added: frozenset[int]
    shown: frozenset[int]  # added and context lines
    added_sorted: tuple[int, ...]
    shown_sorted: tuple[int, ...]
    _memo: dict[object, object] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def build(cls, hunks: tuple[Hunk, ...]) -> LineIndex:
        text: dict[int, str] = {}
        added: list[int] = []
        for h in hunks:
            for ln in h.lines:
                if ln.new_no is not None:
                    text[ln.new_no] = ln.text
                    if ln.kind == "+":
                        added.append(ln.new_no)
        added.sort()
        return cls(text=text, added=frozenset(added), shown=frozenset(text), added_sorted=tuple(added),
                   shown_sorted=tuple(sorted(text)))

    @property
    def squashed(self) -> dict[int, str]:
        if "squashed" not in self._memo:
            self._memo["squashed"] = {n: squash(t) for n, t in self.text.items()}
        return cast("dict[int, str]", self._memo["squashed"])

    @property
    def by_squashed(self) -> dict[str, tuple[int, ...]]:
        """squashed text -> shown line numbers holding it, ascending."""
        if "by_squashed" not in self._memo:
            by: dict[str, list[int]] = {}
            squashed = self.squashed
            for n in self.shown_sorted:
                by.setdefault(squashed[n], []).append(n)
            self._memo["by_squashed"] = {k: tuple(v) for k, v in by.items()}
        return cast("dict[str, tuple[int, ...]]", self._memo["by_squashed"])

    def changed(self, mode: str) -> tuple[int, ...]:
        """The sorted lines a finding may sit on: added lines, or in diff_context mode every shown line."""
        return self.added_sorted if mode == "added" else self.shown_sorted

    def joined(self, mode: str) -> tuple[str, list[int]]:
        """The squashed texts of `changed(mode)` joined by newlines (no squashed text holds one), and where each
        starts: a substring search over a window of lines is then one C-level `str.find`."""
        key = ("joined", mode)
        if key not in self._memo:
            squashed = self.squashed
            numbers = self.changed(mode)
            starts, at = [], 0
            for n in numbers:
                starts.append(at)
                at += len(squashed[n]) + 1
            self._memo[key] = ("\n".join(squashed[n] for n in numbers), starts)
        return cast("tuple[str, list[int]]", self._memo[key])

    @staticmethod
    def any_between(lines: tuple[int, ...], first: int, last: int) -> bool:
        at = bisect.bisect_left(lines, first)
        return at < len(lines) and lines[at] <= last

    @staticmethod
    def last_between(lines: tuple[int, ...], first: int, last: int) -> int | None:
        at = bisect.bisect_right(lines, last)
        return lines[at - 1] if at and lines[at - 1] >= first else None


@dataclass(frozen=True, slots=True)
class Diff:
    files: tuple[FileDiff, ...]
    description: str = ""  # what was compared, e.g. "staged changes" or "main...HEAD"

    _by_path: dict[str, FileDiff] | None = field(default=None, init=False, repr=False, compare=False)

    def file(self, path: str) -> FileDiff | None:
        by_path = self._by_path
        if by_path is None:
            by_path = {}
            for f in self.files:
                by_path.setdefault(f.path, f)  # the first wins, as the scan this replaces did
            object.__setattr__(self, "_by_path", by_path)
        return by_path.get(path)

    def __getstate__(self) -> list[object]:
        return [self.files, self.description]

    def __setstate__(self, state: list[object]) -> None:
        object.__setattr__(self, "files", state[0])
        object.__setattr__(self, "description", state[1])
        object.__setattr__(self, "_by_path", None)


_FILE_DIFF_STATE = tuple(f.name for f in fields(FileDiff) if f.init)  # every field but the index


class SideKind(enum.StrEnum):
    """Which state of the repository a diff's new side is."""

    REVISION = "revision"  # a commit: B of `A..B`, `A...B` or `A B`; the pushed revision; the pull request's head
    INDEX = "index"  # what is staged: `--staged` and the pre-commit hook
    WORKTREE = "worktree"  # the files on disk: `diff` with no revision, or one revision against the work tree


@dataclass(frozen=True, slots=True)
class ReviewedSide:
    """The side of a diff under review, and so where everything about the change is read from: rules (config,
    agents, standards), suppression comments, file heads, context and the model's tools. Reading the old side, or
    the work tree while the index is reviewed, would judge a change by text it does not contain."""

    kind: SideKind
    revision: str = ""  # as the user or the CI named it (kind REVISION only); resolved when it is read

    @classmethod
    def at(cls, revision: str) -> ReviewedSide:
        return cls(SideKind.REVISION, revision)

    @classmethod
    def index(cls) -> ReviewedSide:
        return cls(SideKind.INDEX)

    @classmethod
    def worktree(cls) -> ReviewedSide:
        return cls(SideKind.WORKTREE)


@dataclass(frozen=True, slots=True)
class Skipped:
    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class Coverage:
    """How much of the diff reached the model: changed files, and added lines sent whole in some request."""

    files_changed: int
    files_sent: int  # files with at least one line in a request
    added_total: int  # added lines of every changed file, skipped ones included
    added_reviewable: int  # of those, in files chosen for review (skipped files are listed with their reasons)
    added_sent: int  # of those, sent whole in some request (for the agent that saw least)
    not_sent: tuple[Skipped, ...] = ()  # reviewed files with added lines that were not sent whole, and why

    @property
    def complete(self) -> bool:
        return self.added_sent >= self.added_reviewable


@dataclass(frozen=True, slots=True)
class Chunk:
    """One request's worth of diff: whole files or some hunks of a file, under the token budget."""

    files: tuple[FileDiff, ...]
    notes: tuple[str, ...] = ()  # visible notes such as "hunk clipped to fit the budget"

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(f.path for f in self.files)


class DropReason(enum.StrEnum):
    """Why a finding the model wrote is not shown. A StrEnum: the value is what reports print and JSON holds."""

    UNKNOWN_FILE = "unknown file"
    UNANCHORED = "unanchored"
    OFF_DIFF = "off-diff"
    INVALID = "invalid"
    OUTVOTED = "outvoted"
    DUPLICATE = "duplicate"
    LOW_CONFIDENCE = "low-confidence"
    REJECTED = "rejected"
    SUPPRESSED = "suppressed"
    BASELINE = "baseline"
    ECHOED_PROMPT = "echoed prompt"

    @property
    def phrase(self) -> str:
        """How the reason reads after its count in the summary line."""
        return _DROP_PHRASES.get(self, f"dropped {self.value}")


_DROP_PHRASES = {
    DropReason.OUTVOTED: "outvoted by other samples",
    DropReason.LOW_CONFIDENCE: "below min_confidence",
    DropReason.REJECTED: "rejected by verification",
    DropReason.SUPPRESSED: "suppressed by comments",
    DropReason.BASELINE: "accepted by the baseline",
}


class FindingSource(enum.StrEnum):
    """Who found it: the model, or reviewbot's own secret scan (no model involved)."""

    MODEL = "model"
    SECRETS = "secrets"


@dataclass(frozen=True, slots=True)
class Finding:
    path: str
    line: int
    severity: Severity
    category: str
    message: str
    end_line: int | None = None
    suggestion: str | None = None
    agent: str = ""
    quote: str | None = None
    confidence: float | None = None
    reanchored_from: int | None = None  # the line the model cited, when reviewbot moved the finding
    clipped_from: int | None = None  # the last line the model cited, when reviewbot cut the range to changed lines
    source: FindingSource = FindingSource.MODEL

    @property
    def last_line(self) -> int:
        return self.end_line if self.end_line and self.end_line >= self.line else self.line


@dataclass(frozen=True, slots=True)
class Usage:
    requests: int = 0  # attempts sent to the model, failed ones included
    cached: int = 0  # answers read from reviewbot's own cache (nothing sent)
    tokens_in: int = 0
    tokens_out: int = 0
    failed: int = 0  # of `requests`, attempts that got no answer (HTTP errors, refused connections, timeouts)
    cached_tokens: int = 0  # of `tokens_in`, prompt tokens the server read from its prompt cache

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.requests + other.requests,
            self.cached + other.cached,
            self.tokens_in + other.tokens_in,
            self.tokens_out + other.tokens_out,
            self.failed + other.failed,
            self.cached_tokens + other.cached_tokens,
        )


@dataclass(frozen=True, slots=True)
class RequestFlow:
    """How a run's requests went on the wire (reviewbot/adapters/request_gate.py):
    concurrency and the circuit breaker."""

    sent: int = 0  # attempts put on the wire
    failed: int = 0  # of those, attempts that got no answer
    peak: int = 0  # most attempts in flight at once
    limit: int = 0  # the concurrency limit at the end of the run
    lowest: int = 0  # the lowest limit after backing off on 429/503 (0: never backed off)
    backoffs: int = 0  # times the limit was halved
    cap: int = 0  # the user's cap (concurrency)
    stopped: str | None = None  # why the circuit breaker stopped the run, if it did


@dataclass(frozen=True, slots=True)
class ReviewResult:
    """Everything a reporter needs; `findings` are the ones to show, in a stable order."""

    findings: tuple[Finding, ...]
    files_reviewed: tuple[str, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    failed: tuple[Skipped, ...] = ()  # files whose review request failed, with the reason
    dropped: tuple[tuple[DropReason, int], ...] = ()
    held_back: tuple[Finding, ...] = ()  # over the findings budget: not shown, still counted for blocking
    usage: Usage = field(default_factory=Usage)
    model: str = ""
    agents: tuple[str, ...] = ()
    description: str = ""
    chunks: int = 0
    summaries: tuple[str, ...] = ()  # the model's own one-line summaries, if any
    notes: tuple[str, ...] = ()  # warnings about the run for the user, e.g. a verification request that failed
    coverage: Coverage | None = None  # what reached the model (None when no plan was made)
    flow: RequestFlow | None = None  # concurrency and breaker figures, when requests were sent

    def dropped_count(self, reason: DropReason) -> int:
        return sum(n for r, n in self.dropped if r == reason)

    @property
    def all_findings(self) -> tuple[Finding, ...]:
        """Shown and held-back findings together: what blocking is decided on."""
        return self.findings + self.held_back
