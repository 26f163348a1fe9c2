"""Evaluation corpus and scoring: how many known defects a model + agent finds, and how much noise it adds.

A case is a directory holding:
  diff.patch     a unified diff as `git diff` prints it (with `diff --git` headers)
  expected.json  {"description": "...", "issues": [{"path", "lines": [start, end], "category", "severity"}]}
  base/          optional: the files the patch applies to (otherwise it applies to an empty repository)
Line numbers in expected.json are new-file line numbers. An empty `issues` list is a clean case.

Scoring (see `match_findings`; docs/eval.md explains it with examples). Two rules are scored side by side:
- strict (the headline): the finding's anchored line lies inside the expected range widened by `slack` lines
  (2), and the span it cites (line..end_line) is at most `span_margin` (3) lines wider than the expected range;
  a finding citing a whole function around a one-line defect is a false positive.
- loose (the rule before issue 17): the finding's range overlaps the expected range widened by `slack` lines.
Each expected issue is matched at most once; unmatched findings are false positives, unmatched issues false
negatives. With a judge (`--judge`), a strict match whose message the judge says does not describe the expected
defect counts as a false positive and a miss ("judged" scores).
A ratio with nothing to divide by is undefined (None, shown as "—"): precision when nothing was reported,
recall when nothing was expected; F1 is 2tp / (2tp + fp + fn), undefined only when both are empty.
A review that failed (model error, unusable answer) is not scored at all: its row says why, it adds nothing to
the totals or the verdict counts, and the report counts the failed cases.

This module prints nothing and knows nothing about models: the caller reviews each materialized case with
the normal pipeline and hands the findings to `score_case`, then `aggregate` and a renderer.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from reviewbot.core.errors import ConfigError, GitError
from reviewbot.core.models import Finding, Severity, Usage

DEFAULT_SLACK = 2
# Strict rule: how many lines wider than the expected range a finding's cited span may be. A defect on one line
# is often one statement over two to four lines (a call with its arguments wrapped), so 3 lets a model cite the
# whole statement but not the whole function around it.
SPAN_MARGIN = 3
MATCH_RULES = ("strict", "loose")
CORPUS_PACKAGE_DIR = "eval_corpus"

# Fixed identity and dates make a materialized case byte-identical on every run, so request caching and
# determinism checks see the same repository each time.
_GIT_IDENTITY = ("-c", "user.name=reviewbot eval", "-c", "user.email=eval@reviewbot.invalid")
_GIT_DATE = "2024-01-01T00:00:00+00:00"


# --- cases ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExpectedIssue:
    path: str
    start: int
    end: int
    category: str
    severity: Severity = Severity.ERROR


@dataclass(frozen=True, slots=True)
class Evidence:
    """Lines outside the diff that a reviewer needs to see the defect (new-revision numbers)."""

    path: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class EvalCase:
    name: str
    directory: Path
    patch: str
    base_dir: Path | None
    expected: tuple[ExpectedIssue, ...]
    description: str = ""
    evidence: tuple[Evidence, ...] = ()

    @property
    def is_clean(self) -> bool:
        return not self.expected


def bundled_corpus_dir() -> Path:
    """The corpus shipped inside the package, used when `reviewbot eval` is given no directory."""
    return Path(__file__).resolve().parents[1] / CORPUS_PACKAGE_DIR


def load_cases(corpus_dir: Path) -> list[EvalCase]:
    """Every case under `corpus_dir`, sorted by name; `corpus_dir` may also be a single case directory."""
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise ConfigError(f"The evaluation corpus {corpus_dir} is not a directory.")
    if (corpus_dir / "diff.patch").is_file():
        return [load_case(corpus_dir)]
    case_dirs = sorted(
        (d for d in corpus_dir.iterdir() if d.is_dir() and not d.name.startswith((".", "_"))),
        key=lambda d: d.name,
    )
    if not case_dirs:
        raise ConfigError(f"The evaluation corpus {corpus_dir} holds no case directories.")
    return [load_case(d) for d in case_dirs]


def load_case(case_dir: Path) -> EvalCase:
    name = case_dir.name
    patch_file = case_dir / "diff.patch"
    if not patch_file.is_file():
        raise ConfigError(f"Evaluation case {name} has no diff.patch in {case_dir}.")
    # surrogateescape keeps odd bytes intact so that the patch is handed to git exactly as written.
    patch = patch_file.read_bytes().decode("utf-8", errors="surrogateescape")
    if not patch.strip():
        raise ConfigError(f"Evaluation case {name} has an empty diff.patch.")
    description, expected = _read_expected(name, case_dir / "expected.json")
    base_dir = case_dir / "base"
    return EvalCase(
        name=name,
        directory=case_dir,
        patch=patch,
        base_dir=base_dir if base_dir.is_dir() else None,
        expected=expected,
        description=description,
        evidence=_read_evidence(name, case_dir / "expected.json"),
    )


def _read_evidence(name: str, path: Path) -> tuple[Evidence, ...]:
    """The optional "evidence" list of expected.json: [{"path": ..., "lines": [start, end]}, ...]."""
    def invalid(why: str) -> ConfigError:
        return ConfigError(f"Evaluation case {name} has an invalid expected.json: {why}.")

    data = json.loads(path.read_text(encoding="utf-8"))  # _read_expected has checked it is readable
    raw_list = data.get("evidence", [])
    if not isinstance(raw_list, list):
        raise invalid('"evidence" must be a list')
    out = []
    for index, raw in enumerate(raw_list):
        where = f"evidence {index + 1}"
        if not isinstance(raw, dict) or not isinstance(raw.get("path"), str) or not raw["path"].strip():
            raise invalid(f'{where} needs a non-empty "path"')
        start, end = _parse_lines(raw.get("lines"), lambda why: invalid(f"{where} {why}"))
        out.append(Evidence(_normalise_path(raw["path"]), start, end))
    return tuple(out)


def _read_expected(name: str, path: Path) -> tuple[str, tuple[ExpectedIssue, ...]]:
    def invalid(why: str) -> ConfigError:
        return ConfigError(f"Evaluation case {name} has an invalid expected.json: {why}.")

    if not path.is_file():
        raise invalid("the file is missing")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise invalid(f"it is not readable JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("issues"), list):
        raise invalid('it must be an object with an "issues" list')
    description = data.get("description", "")
    if not isinstance(description, str):
        raise invalid('"description" must be a string')
    issues = []
    for index, raw in enumerate(data["issues"]):
        where = f"issue {index + 1}"
        if not isinstance(raw, dict):
            raise invalid(f"{where} is not an object")
        path_value = raw.get("path")
        if not isinstance(path_value, str) or not path_value.strip():
            raise invalid(f'{where} needs a non-empty "path"')
        start, end = _parse_lines(raw.get("lines"), lambda why: invalid(f"{where} {why}"))
        category = raw.get("category")
        if not isinstance(category, str) or not category.strip():
            raise invalid(f'{where} needs a non-empty "category"')
        severity = Severity.parse(raw.get("severity", "error"))
        if severity is None:
            raise invalid(f'{where} has an unknown "severity" {raw.get("severity")!r}')
        issues.append(ExpectedIssue(_normalise_path(path_value), start, end, category.strip(), severity))
    return description.strip(), tuple(issues)


def _parse_lines(value: object, invalid) -> tuple[int, int]:
    """`[start, end]`, `[line]` or a bare line number; 1-based and ordered."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list) or len(value) not in (1, 2):
        raise invalid('needs "lines": [start, end]')
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in value):
        raise invalid('has non-integer "lines"')
    start, end = value[0], value[-1]
    if start < 1 or end < start:
        raise invalid(f'has "lines" {value} that are not 1-based and ordered')
    return start, end


# --- materializing a case as a real repository -------------------------------------------------------


def materialize_case(case: EvalCase, workdir: Path) -> Path:
    """Build `workdir/<case name>` as a git repository with the case's change staged, and return it.

    The base files (if any) are committed as "base"; the patch is then applied with `git apply --index`, so
    reviewing the staged diff there reviews exactly the case's change.
    """
    repo = Path(workdir) / case.name
    if repo.exists() and any(repo.iterdir()):
        raise ConfigError(f"Cannot set up evaluation case {case.name}: {repo} already exists and is not empty.")
    repo.mkdir(parents=True, exist_ok=True)
    if case.base_dir is not None:
        shutil.copytree(
            case.base_dir,
            repo,
            dirs_exist_ok=True,
            symlinks=True,
            ignore=shutil.ignore_patterns(".git", "__pycache__", "*.pyc"),
        )
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "--allow-empty", "--no-verify", "-m", "base")
    applied = _git(
        repo,
        "apply",
        "--index",
        "--whitespace=nowarn",
        "-",
        stdin=case.patch.encode("utf-8", errors="surrogateescape"),
        check=False,
    )
    if applied.returncode != 0:
        reason = _first_line(applied.stderr) or "git apply failed"
        raise ConfigError(f"The diff.patch of evaluation case {case.name} does not apply to its base ({reason}).")
    return repo


def _git(repo: Path, *args: str, stdin: bytes | None = None, check: bool = True) -> subprocess.CompletedProcess:
    # Variables such as GIT_DIR or GIT_INDEX_FILE (set when running inside a hook) would point git at the
    # user's repository; the user's global config (gpg signing, hooks) must not apply to a scratch repo.
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_AUTHOR_DATE=_GIT_DATE,
        GIT_COMMITTER_DATE=_GIT_DATE,
        GIT_TERMINAL_PROMPT="0",
    )
    command = [
        "git",
        *_GIT_IDENTITY,
        "-c", "commit.gpgsign=false",
        "-c", "init.defaultBranch=main",
        "-c", "core.autocrlf=false",
        *args,
    ]  # fmt: skip
    try:
        result = subprocess.run(command, cwd=repo, env=env, input=stdin, capture_output=True, check=False)
    except FileNotFoundError:
        raise GitError("git was not found on PATH; evaluation cases need git to build their repositories.") from None
    if check and result.returncode != 0:
        reason = _first_line(result.stderr) or f"exit code {result.returncode}"
        raise GitError(f"git {args[0]} failed while setting up an evaluation case in {repo} ({reason}).")
    return result


def _first_line(data: bytes) -> str:
    for line in data.decode("utf-8", errors="replace").splitlines():
        if line.strip():
            return line.strip()
    return ""


# --- matching and scoring ----------------------------------------------------------------------------


def _normalise_path(path: str) -> str:
    path = path.strip().replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path


def normalise_category(category: str) -> str:
    """Models write "Security", "security " or "data_integrity"; count them as one category."""
    words = category.strip().lower().replace("_", " ").replace("-", " ").split()
    return "-".join(words) or "uncategorised"


def _gap(first: int, last: int, start: int, end: int) -> int:
    """Lines between two ranges; 0 when they overlap."""
    if last < start:
        return start - last
    if first > end:
        return first - end
    return 0


def _fits(finding: Finding, issue: ExpectedIssue, *, rule: str, slack: int, span_margin: int) -> bool:
    if rule == "loose":
        return not _gap(finding.line, finding.last_line, issue.start - slack, issue.end + slack)
    inside = issue.start - slack <= finding.line <= issue.end + slack
    return inside and finding.last_line - finding.line <= issue.end - issue.start + span_margin


def match_findings(
    expected: Sequence[ExpectedIssue],
    findings: Sequence[Finding],
    *,
    slack: int = DEFAULT_SLACK,
    rule: str = "strict",
    span_margin: int = SPAN_MARGIN,
) -> tuple[list[tuple[ExpectedIssue, Finding]], list[Finding], list[ExpectedIssue]]:
    """Pair findings with expected issues; returns (matches, false positives, false negatives).

    `rule` is "strict" or "loose" (module docstring). Greedy and deterministic: findings are taken in
    (path, line) order and each takes the nearest unmatched issue in the same file that it fits. Ties go to the
    issue of the same category, then the earlier one.
    """
    if rule not in MATCH_RULES:
        raise ValueError(f"unknown match rule {rule!r}")
    unmatched = list(expected)
    matches: list[tuple[ExpectedIssue, Finding]] = []
    false_positives: list[Finding] = []
    ordered = sorted(
        findings,
        key=lambda f: (_normalise_path(f.path), f.line, f.last_line, -int(f.severity), f.category, f.message),
    )
    for finding in ordered:
        path, first, last = _normalise_path(finding.path), finding.line, finding.last_line
        best_index, best_key = None, None
        for index, issue in enumerate(unmatched):
            if issue.path != path or not _fits(finding, issue, rule=rule, slack=slack, span_margin=span_margin):
                continue
            key = (
                _gap(first, last, issue.start, issue.end),
                normalise_category(issue.category) != normalise_category(finding.category),
                issue.start,
                issue.end,
            )
            if best_key is None or key < best_key:
                best_index, best_key = index, key
        if best_index is None:
            false_positives.append(finding)
        else:
            matches.append((unmatched.pop(best_index), finding))
    return matches, false_positives, unmatched


def ratios(tp: int, fp: int, fn: int) -> tuple[float | None, float | None, float | None]:
    """(precision, recall, F1); None where undefined (nothing reported, nothing expected, neither)."""
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None
    return precision, recall, f1


@dataclass(frozen=True, slots=True)
class Counts:
    """True positives, false positives and misses under one scoring rule."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    @property
    def ratios(self) -> tuple[float | None, float | None, float | None]:
        return ratios(self.tp, self.fp, self.fn)


# A judge tells whether a finding's message describes the expected issue: True, False, or None (no answer).
Judge = Callable[[ExpectedIssue, Finding], "bool | None"]


@dataclass(frozen=True, slots=True)
class CaseScore:
    name: str
    tp: int  # tp/fp/fn: the strict rule
    fp: int
    fn: int
    findings: int
    expected: int
    per_category: dict[str, dict[str, int]]  # category -> {"tp", "fp", "fn"} under the strict rule
    blocking: bool  # did the findings reach the fail-on threshold (any run, when merged over repeats)
    expected_blocking: bool = False  # should they have (an expected issue at or above the threshold)
    runs: int = 1
    error: str | None = None  # why the review failed (or "k of n runs failed: ..." when merged)
    loose: Counts = Counts()
    judged: Counts | None = None  # only with a judge
    judge_unanswered: int = 0  # strict matches the judge gave no answer for (counted as not describing it)
    matches: tuple[tuple[ExpectedIssue, Finding], ...] = ()  # the strict matches, for a judge
    failed_runs: int = 0

    @property
    def strict(self) -> Counts:
        return Counts(self.tp, self.fp, self.fn)

    @property
    def failed(self) -> bool:
        """Every run of this case failed: it is not scored."""
        return self.failed_runs >= self.runs


def _blocks(severities: Sequence[Severity], fail_on: Severity | None) -> bool:
    return fail_on is not None and any(s >= fail_on for s in severities)


def score_case(
    case: EvalCase,
    findings: Sequence[Finding],
    *,
    slack: int = DEFAULT_SLACK,
    span_margin: int = SPAN_MARGIN,
    fail_on: Severity | None = Severity.ERROR,
    error: str | None = None,
    judge: Judge | None = None,
) -> CaseScore:
    """Score one review of one case. `fail_on=None` means nothing ever blocks (`--fail-on never`).

    A review that failed (`error`) is not scored: all its counts are zero and it is marked failed.
    """
    expected_blocking = _blocks([i.severity for i in case.expected], fail_on)
    if error is not None:
        return CaseScore(
            name=case.name, tp=0, fp=0, fn=0, findings=len(findings), expected=len(case.expected), per_category={},
            blocking=False, expected_blocking=expected_blocking, error=error, failed_runs=1,
            judged=Counts() if judge is not None else None,
        )
    matches, false_positives, false_negatives = match_findings(
        case.expected, findings, slack=slack, rule="strict", span_margin=span_margin
    )
    loose = match_findings(case.expected, findings, slack=slack, rule="loose")
    per_category: dict[str, dict[str, int]] = {}

    def bump(category: str, key: str) -> None:
        counts = per_category.setdefault(normalise_category(category), {"tp": 0, "fp": 0, "fn": 0})
        counts[key] += 1

    for issue, _ in matches:
        bump(issue.category, "tp")
    for finding in false_positives:
        bump(finding.category, "fp")
    for issue in false_negatives:
        bump(issue.category, "fn")
    judged, unanswered = None, 0
    if judge is not None:
        answers = [judge(issue, finding) for issue, finding in matches]
        confirmed = sum(1 for a in answers if a is True)
        unanswered = sum(1 for a in answers if a is None)
        rejected = len(matches) - confirmed
        judged = Counts(confirmed, len(false_positives) + rejected, len(false_negatives) + rejected)
    return CaseScore(
        name=case.name,
        tp=len(matches),
        fp=len(false_positives),
        fn=len(false_negatives),
        findings=len(findings),
        expected=len(case.expected),
        per_category=dict(sorted(per_category.items())),
        blocking=_blocks([f.severity for f in findings], fail_on),
        expected_blocking=expected_blocking,
        loose=Counts(len(loose[0]), len(loose[1]), len(loose[2])),
        judged=judged,
        judge_unanswered=unanswered,
        matches=tuple(matches),
    )


# --- aggregating -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Stability:
    """How steady the blocking verdict is when each case is reviewed `repeats` times."""

    repeats: int
    verdicts: dict[str, tuple[bool, ...]]  # case -> blocking verdict of each run, in run order
    flips: dict[str, int]  # case -> how many times the verdict changed from one run to the next

    @property
    def unstable_cases(self) -> tuple[str, ...]:
        return tuple(name for name, flips in self.flips.items() if flips)

    @property
    def flip_rate(self) -> float:
        """Flips per chance to flip: 0.0 is perfectly stable, 1.0 alternates every run."""
        chances = len(self.flips) * (self.repeats - 1)
        return sum(self.flips.values()) / chances if chances > 0 else 0.0


@dataclass(frozen=True, slots=True)
class EvalReport:
    cases: tuple[CaseScore, ...]  # one per case; counts summed over repeated runs
    tp: int  # tp/fp/fn and the ratios: the strict rule, over the runs that did not fail
    fp: int
    fn: int
    precision: float | None  # None: undefined (nothing reported / nothing expected)
    recall: float | None
    f1: float | None
    per_category: dict[str, dict[str, float | int | None]]  # category -> tp, fp, fn, precision, recall, f1
    tokens_in: int
    tokens_out: int
    requests: int
    wall_seconds: float
    repeats: int = 1
    verdicts_correct: int = 0  # runs whose blocking verdict matched the case's expectation (failed runs left out)
    verdicts_total: int = 0
    failed_runs: int = 0
    stability: Stability | None = None  # only when repeats > 1
    model: str = ""
    agent: str = ""
    labels: dict[str, str] = field(default_factory=dict)  # free-form settings worth printing (e.g. verify=on)
    loose: Counts = Counts()
    judged: Counts | None = None
    judge_unanswered: int = 0
    slack: int = DEFAULT_SLACK
    span_margin: int = SPAN_MARGIN

    @property
    def strict(self) -> Counts:
        return Counts(self.tp, self.fp, self.fn)

    @property
    def failed_cases(self) -> int:
        return sum(1 for c in self.cases if c.failed)

    @property
    def total_runs(self) -> int:
        return sum(c.runs for c in self.cases)


def count_flips(verdicts: Sequence[bool]) -> int:
    """How many times a sequence of blocking verdicts changes from one run to the next."""
    return sum(1 for a, b in zip(verdicts, verdicts[1:]) if a != b)


def aggregate(
    scores: Sequence[CaseScore],
    *,
    usage: Usage | None = None,
    wall_seconds: float = 0.0,
    verdict_flips: Mapping[str, int] | None = None,
    repeats: int = 1,
    model: str = "",
    agent: str = "",
    labels: Mapping[str, str] | None = None,
    slack: int = DEFAULT_SLACK,
    span_margin: int = SPAN_MARGIN,
) -> EvalReport:
    """Combine per-run scores into one report.

    With `--repeat N`, pass every run's CaseScore (in run order); runs of the same case are merged into one
    row and their verdicts feed the stability figures. `verdict_flips` overrides the computed flip counts.
    Failed runs add nothing to the totals, the verdict counts or the stability figures.
    """
    usage = usage or Usage()
    runs_by_name: dict[str, list[CaseScore]] = {}
    for score in scores:
        runs_by_name.setdefault(score.name, []).append(score)
    repeats = max([repeats, *(len(runs) for runs in runs_by_name.values())])

    merged = tuple(_merge_runs(runs) for runs in runs_by_name.values())
    strict = sum((c.strict for c in merged), Counts())
    loose = sum((c.loose for c in merged), Counts())
    judged = sum((c.judged for c in merged if c.judged is not None), Counts()) \
        if any(c.judged is not None for c in merged) else None
    precision, recall, f1 = strict.ratios
    reviewed = [s for s in scores if not s.error]

    stability = None
    if repeats > 1:
        verdicts = {name: tuple(s.blocking for s in runs if not s.error) for name, runs in runs_by_name.items()}
        flips = {name: count_flips(v) for name, v in verdicts.items()}
        if verdict_flips is not None:
            flips.update({name: int(n) for name, n in verdict_flips.items()})
        stability = Stability(repeats=repeats, verdicts=verdicts, flips=flips)

    return EvalReport(
        cases=merged,
        tp=strict.tp,
        fp=strict.fp,
        fn=strict.fn,
        precision=precision,
        recall=recall,
        f1=f1,
        per_category=_category_table(merged),
        tokens_in=usage.tokens_in,
        tokens_out=usage.tokens_out,
        requests=usage.requests,
        wall_seconds=wall_seconds,
        repeats=repeats,
        verdicts_correct=sum(1 for s in reviewed if s.blocking == s.expected_blocking),
        verdicts_total=len(reviewed),
        failed_runs=sum(1 for s in scores if s.error),
        stability=stability,
        model=model,
        agent=agent,
        labels=dict(labels or {}),
        loose=loose,
        judged=judged,
        judge_unanswered=sum(c.judge_unanswered for c in merged),
        slack=slack,
        span_margin=span_margin,
    )


def _merge_runs(runs: Sequence[CaseScore]) -> CaseScore:
    if len(runs) == 1:
        return runs[0]
    per_category: dict[str, dict[str, int]] = {}
    for run in runs:
        for category, counts in run.per_category.items():
            total = per_category.setdefault(category, {"tp": 0, "fp": 0, "fn": 0})
            for key, value in counts.items():
                total[key] += value
    errors = [r.error for r in runs if r.error]
    reviewed = [r for r in runs if not r.error]
    judged = [r.judged for r in runs if r.judged is not None]
    return replace(
        runs[0],
        tp=sum(r.tp for r in runs),
        fp=sum(r.fp for r in runs),
        fn=sum(r.fn for r in runs),
        findings=sum(r.findings for r in runs),
        expected=sum(r.expected for r in runs),
        per_category=dict(sorted(per_category.items())),
        blocking=any(r.blocking for r in reviewed),
        runs=sum(r.runs for r in runs),
        error=f"{len(errors)} of {len(runs)} runs failed: {errors[0]}" if errors else None,
        loose=sum((r.loose for r in runs), Counts()),
        judged=sum(judged, Counts()) if judged else None,
        judge_unanswered=sum(r.judge_unanswered for r in runs),
        matches=tuple(m for r in runs for m in r.matches),
        failed_runs=sum(r.failed_runs for r in runs),
    )


def _category_table(cases: Sequence[CaseScore]) -> dict[str, dict[str, float | int | None]]:
    totals: dict[str, dict[str, int]] = {}
    for case in cases:
        for category, counts in case.per_category.items():
            total = totals.setdefault(category, {"tp": 0, "fp": 0, "fn": 0})
            for key, value in counts.items():
                total[key] += value
    table: dict[str, dict[str, float | int | None]] = {}
    for category, counts in sorted(totals.items()):
        precision, recall, f1 = ratios(counts["tp"], counts["fp"], counts["fn"])
        table[category] = {**counts, "precision": precision, "recall": recall, "f1": f1}
    return table


# --- rendering ---------------------------------------------------------------------------------------

UNDEFINED = "\u2014"  # an em dash: a ratio with nothing to divide by


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _ratio_text(value: float | None, width: int = 0) -> str:
    return f"{UNDEFINED if value is None else f'{value:.3f}':>{width}}"


def _counts_dict(counts: Counts) -> dict:
    precision, recall, f1 = counts.ratios
    return {"tp": counts.tp, "fp": counts.fp, "fn": counts.fn,
            "precision": _r(precision), "recall": _r(recall), "f1": _r(f1)}


def report_to_dict(report: EvalReport) -> dict:
    cases = []
    for case in report.cases:
        precision, recall, f1 = ratios(case.tp, case.fp, case.fn)
        row: dict = {
            "name": case.name,
            "tp": case.tp,
            "fp": case.fp,
            "fn": case.fn,
            "findings": case.findings,
            "expected": case.expected,
            "precision": _r(precision),
            "recall": _r(recall),
            "f1": _r(f1),
            "loose": _counts_dict(case.loose),
            "blocking": case.blocking,
            "expected_blocking": case.expected_blocking,
            "runs": case.runs,
            "failed": case.failed,
            "per_category": case.per_category,
        }
        if case.judged is not None:
            row["judged"] = _counts_dict(case.judged)
        if report.stability is not None:
            row["verdicts"] = list(report.stability.verdicts.get(case.name, ()))
            row["flips"] = report.stability.flips.get(case.name, 0)
        if case.error:
            row["error"] = case.error
        cases.append(row)
    stability = None
    if report.stability is not None:
        stability = {
            "repeats": report.stability.repeats,
            "flip_rate": _r(report.stability.flip_rate),
            "unstable_cases": list(report.stability.unstable_cases),
            "flips": dict(report.stability.flips),
        }
    return {
        "precision": _r(report.precision),
        "recall": _r(report.recall),
        "f1": _r(report.f1),
        "tp": report.tp,
        "fp": report.fp,
        "fn": report.fn,
        "scoring": {"rule": "strict", "slack": report.slack, "span_margin": report.span_margin},
        "loose": _counts_dict(report.loose),
        "judged": _counts_dict(report.judged) if report.judged is not None else None,
        "judge_unanswered": report.judge_unanswered,
        "model": report.model,
        "agent": report.agent,
        "labels": report.labels,
        "repeats": report.repeats,
        "verdicts": {"correct": report.verdicts_correct, "total": report.verdicts_total},
        "failed_cases": report.failed_cases,
        "failed_runs": report.failed_runs,
        "per_category": {
            category: {k: (_r(v) if isinstance(v, float) or v is None else v) for k, v in counts.items()}
            for category, counts in report.per_category.items()
        },
        "tokens": {"in": report.tokens_in, "out": report.tokens_out, "requests": report.requests},
        "wall_seconds": _r(report.wall_seconds),
        "stability": stability,
        "cases": cases,
    }


def render_json(report: EvalReport) -> str:
    return json.dumps(report_to_dict(report), indent=2) + "\n"


def _score_lines(report: EvalReport) -> list[str]:
    """The totals, one row per scoring rule, and which cases they cover."""
    total, failed = len(report.cases), report.failed_cases
    scored = f"scores over {total - failed} of {total} cases" if failed else f"scores over {total} cases"
    if report.failed_runs and report.repeats > 1:
        scored += f" ({report.failed_runs} of {report.total_runs} runs failed and are left out)"
    rows = [("strict", report.strict), ("loose", report.loose)]
    if report.judged is not None:
        rows.append(("judged", report.judged))
    lines = [scored, f"{'rule':<8}  precision  recall     f1    tp    fp    fn"]
    for name, counts in rows:
        precision, recall, f1 = counts.ratios
        lines.append(
            f"{name:<8}  {_ratio_text(precision, 9)}  {_ratio_text(recall, 6)}  {_ratio_text(f1, 5)}"
            f"  {counts.tp:>4}  {counts.fp:>4}  {counts.fn:>4}"
        )
    lines.append(
        f"strict: the finding's line within {report.slack} lines of the expected range and its span at most "
        f"{report.span_margin} lines wider; loose: the ranges overlap within {report.slack} lines"
        + ("; judged: strict, and the judge says the message describes the defect" if report.judged else "")
    )
    if report.judge_unanswered:
        lines.append(f"the judge gave no answer for {report.judge_unanswered} matches (counted as not describing it)")
    return lines


def render_text(report: EvalReport) -> str:
    lines = []
    setting = ", ".join(
        part
        for part in (
            f"model {report.model}" if report.model else "",
            f"agent {report.agent}" if report.agent else "",
            *(f"{k} {v}" for k, v in report.labels.items()),
            f"{report.repeats} runs per case" if report.repeats > 1 else "",
        )
        if part
    )
    lines.append(f"reviewbot eval: {len(report.cases)} cases" + (f" ({setting})" if setting else ""))
    lines.append("")
    width = max([len("case"), *(len(c.name) for c in report.cases)])
    lines.append(f"{'case':<{width}}  expected  found   tp   fp   fn  verdict")
    for case in report.cases:
        if case.failed:
            lines.append(f"{case.name:<{width}}  {case.expected:>8}  {'-':>5}  {'-':>3}  {'-':>3}  {'-':>3}  failed")
            continue
        if case.runs > 1 and report.stability is not None:
            blocked = sum(report.stability.verdicts.get(case.name, ()))
            verdict = f"block {blocked}/{len(report.stability.verdicts.get(case.name, ()))}"
        else:
            verdict = "block" if case.blocking else "pass"
        if case.blocking != case.expected_blocking and case.runs == 1:
            verdict += " (expected block)" if case.expected_blocking else " (expected pass)"
        lines.append(
            f"{case.name:<{width}}  {case.expected:>8}  {case.findings:>5}  "
            f"{case.tp:>3}  {case.fp:>3}  {case.fn:>3}  {verdict}"
        )
    failed = [c for c in report.cases if c.error]
    if report.failed_cases:
        lines.append("")
        lines.append(f"{report.failed_cases} of {len(report.cases)} cases failed and are left out of the scores:")
    for case in failed:
        lines.append(f"  {case.name}: review failed: {case.error}")
    lines.append("")
    lines.extend(_score_lines(report))
    lines.append(f"blocking verdicts correct: {report.verdicts_correct}/{report.verdicts_total}")
    if report.per_category:
        cat_width = max([len("category"), *(len(c) for c in report.per_category)])
        lines.append("")
        lines.append(f"{'category':<{cat_width}}   tp   fp   fn  precision  recall     f1  (strict)")
        for category, c in report.per_category.items():
            lines.append(
                f"{category:<{cat_width}}  {c['tp']:>3}  {c['fp']:>3}  {c['fn']:>3}"
                f"  {_ratio_text(c['precision'], 9)}  {_ratio_text(c['recall'], 6)}  {_ratio_text(c['f1'], 5)}"
            )
    lines.append("")
    lines.append(
        f"tokens in {report.tokens_in}, out {report.tokens_out}, requests {report.requests}; "
        f"wall time {report.wall_seconds:.1f} s"
    )
    if report.stability is not None:
        unstable = report.stability.unstable_cases
        lines.append(
            f"verdict stability over {report.stability.repeats} runs: {len(unstable)} of {len(report.cases)} "
            f"cases flipped (flip rate {report.stability.flip_rate:.3f})"
            + (": " + ", ".join(f"{n} ({report.stability.flips[n]})" for n in unstable) if unstable else "")
        )
    return "\n".join(lines) + "\n"
