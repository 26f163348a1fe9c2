"""Shared by the evaluation tests: findings and expected issues built by hand, cases written to disk, patches made
with git, and the bundled corpus."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from reviewbot.core.models import Finding, Severity
from reviewbot.evaluation.cases import EvalCase, ExpectedIssue, bundled_corpus_dir, load_cases


def finding(path: str, line: int, end: int | None = None, *, category: str = "bug", severity=Severity.ERROR):
    return Finding(path=path, line=line, end_line=end, severity=severity, category=category, message="m")


def issue(path: str, start: int, end: int | None = None, category: str = "bug", severity=Severity.ERROR):
    return ExpectedIssue(path, start, end if end is not None else start, category, severity)


def case_of(name: str, *issues: ExpectedIssue) -> EvalCase:
    return EvalCase(name=name, directory=Path(name), patch="", base_dir=None, expected=tuple(issues))


def write_case(root: Path, name: str, expected: object = None, patch: str | None = "x") -> Path:
    directory = root / name
    directory.mkdir(parents=True)
    if patch is not None:
        (directory / "diff.patch").write_text(patch)
    if expected is not None:
        text = expected if isinstance(expected, str) else json.dumps(expected)
        (directory / "expected.json").write_text(text)
    return directory


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def make_patch(tmp_path: Path, base: dict[str, str], new: dict[str, str]) -> str:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    git(scratch, "init", "-q")
    for path, text in base.items():
        (scratch / path).write_text(text)
    git(scratch, "add", "-A")
    git(scratch, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "base")
    for path, text in new.items():
        (scratch / path).write_text(text)
    git(scratch, "add", "-A")
    return git(scratch, "diff", "--cached")


BUNDLED = load_cases(bundled_corpus_dir())


def added_lines_of_staged_diff(repo: Path) -> dict[str, set[int]]:
    added: dict[str, set[int]] = {}
    path, number = None, 0
    for line in git(repo, "diff", "--cached", "--no-color", "-U0").splitlines():
        if line.startswith("+++ "):
            path = line[6:] if line.startswith("+++ b/") else None
        elif match := re.match(r"@@ -\S+ \+(\d+)(?:,\d+)? @@", line):
            number = int(match.group(1))
        elif line.startswith("+") and path is not None:
            added.setdefault(path, set()).add(number)
            number += 1
    return added
