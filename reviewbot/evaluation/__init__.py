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

# Strict rule: how many lines wider than the expected range a finding's cited span may be. A defect on one line
# is often one statement over two to four lines (a call with its arguments wrapped), so 3 lets a model cite the
# whole statement but not the whole function around it.
SPAN_MARGIN = 3
MATCH_RULES = ("strict", "loose")

# The package's public names, wherever they live inside it.
from reviewbot.evaluation.aggregate import EvalReport, Stability, aggregate, count_flips  # noqa: E402
from reviewbot.evaluation.cases import (  # noqa: E402
    CORPUS_PACKAGE_DIR,
    EvalCase,
    Evidence,
    ExpectedIssue,
    bundled_corpus_dir,
    load_case,
    load_cases,
)
from reviewbot.evaluation.report import UNDEFINED, render_json, render_text, report_to_dict  # noqa: E402
from reviewbot.evaluation.scoring import (  # noqa: E402
    DEFAULT_SLACK,
    CaseScore,
    Counts,
    Judge,
    match_findings,
    normalise_category,
    ratios,
    score_case,
)
from reviewbot.evaluation.workspace import materialize_case  # noqa: E402

__all__ = [
    "CORPUS_PACKAGE_DIR",
    "CaseScore",
    "Counts",
    "DEFAULT_SLACK",
    "EvalCase",
    "EvalReport",
    "Evidence",
    "ExpectedIssue",
    "Judge",
    "Stability",
    "UNDEFINED",
    "aggregate",
    "bundled_corpus_dir",
    "count_flips",
    "load_case",
    "load_cases",
    "match_findings",
    "materialize_case",
    "normalise_category",
    "ratios",
    "render_json",
    "render_text",
    "report_to_dict",
    "score_case",
]
