"""Run reviewbot over real commits with a scripted, imperfect model, and check the three promises of issue 12.

Used by tests/e2e/test_real_history.py (a vendored sample) and benchmarks/real_history.py (hundreds of commits).

The model (`ImperfectModel`, a `default` for tests.helpers.ModelServer) reads the numbered diff of each request and
answers the way real models go wrong, each finding labelled with what it is in its category and message:
  right       the right line with its quote;
  off-by-one  the line after (or before) the quoted one, with the right quote;
  context     an unchanged context line, quoted;
  unknown     a path that is not in the diff;
  nowhere     a quote that exists nowhere in the file.

The checks (`check_commit`), against git itself, not against reviewbot's own view:
  coverage    every added line of every file the report does not list as skipped is in some request (line number
              and path), and the JSON coverage block says the same;
  right line  every reported finding sits on a line whose text at the new revision (or as sent, when redacted)
              holds its quote; right and off-by-one findings land on their quoted line (or an identical one);
              unknown and nowhere findings are never reported;
  work        timed by the caller (per-commit wall time).
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

KINDS = ("right", "off-by-one", "context", "unknown", "nowhere")
EXPECTED_KEPT = ("right", "off-by-one")

_DIFF_FENCE = re.compile(r"<<<DATA-([0-9a-f]{16}) diff\n(.*?)\nDATA-\1>>>", re.DOTALL)
_FILE_HEADER = re.compile(r"^## File: (.*?)(?: \(renamed from .*\)| \(new file\))?$")
_NUMBERED = re.compile(r"^ *(\d+) ([+ ]) (.*)$", re.DOTALL)
_LABEL = re.compile(r"^\[(?P<kind>[a-z-]+) (?P<line>\d+)\] ")


def squash(text: str) -> str:
    return "".join(text.split())


def diff_of_request(body: dict) -> dict[str, dict[int, tuple[str, str]]]:
    """path as shown -> {line number: (kind "+" or " ", text)} for the numbered diff lines of one request."""
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    files: dict[str, dict[int, tuple[str, str]]] = {}
    for match in _DIFF_FENCE.finditer(user):
        current = None
        for line in match.group(2).split("\n"):
            header = _FILE_HEADER.match(line)
            if header:
                current = files.setdefault(header.group(1), {})
                continue
            numbered = _NUMBERED.match(line)
            if numbered and current is not None:
                current[int(numbered.group(1))] = (numbered.group(2), numbered.group(3))
    return files


def _pick(seed: str, n: int) -> int:
    return int.from_bytes(hashlib.blake2b(seed.encode("utf-8", "surrogatepass"), digest_size=4).digest(), "big") % n


class ImperfectModel:
    """`default` for ModelServer: a few findings of every kind per file of each request, chosen deterministically."""

    def __init__(self, per_file: int = 5) -> None:
        self.per_file = per_file

    def __call__(self, body: dict) -> dict:
        findings = []
        for path, lines in diff_of_request(body).items():
            added = [n for n, (kind, text) in sorted(lines.items()) if kind == "+" and text.strip()]
            context = [n for n, (kind, text) in sorted(lines.items()) if kind == " " and text.strip()]
            if not added:
                continue
            for i in range(self.per_file):
                n = added[_pick(f"{path}:{i}:{len(added)}", len(added))]
                kind = KINDS[i % len(KINDS)]
                quote = lines[n][1]
                cited = n
                if kind == "off-by-one":
                    cited = n + 1 if _pick(f"{path}:{n}", 2) else max(1, n - 1)
                elif kind == "context":
                    if not context:
                        continue
                    n = cited = context[_pick(f"{path}:{i}:ctx", len(context))]
                    quote = lines[n][1]
                elif kind == "nowhere":
                    quote = f"zq_no_such_code_{_pick(path + str(i), 10**6)}()"
                findings.append({
                    "path": "no/such/file.py" if kind == "unknown" else path,
                    "line": cited, "end_line": None, "severity": "warning", "category": kind,
                    "message": f"[{kind} {n}] scripted finding", "suggestion": None, "quote": quote,
                    "confidence": 0.9,
                })
        return {"findings": findings, "summary": "scripted"}


@dataclass
class CommitCheck:
    """What one commit's review showed against the promises; `problems` empty means every promise held."""

    name: str
    added_total: int = 0  # added lines in files the report does not skip
    added_sent: int = 0
    skipped_lines: int = 0  # added lines in files skipped with a reason
    expected_kept: int = 0  # right and off-by-one findings the model gave
    on_right_line: int = 0
    kept_by_kind: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.problems


def _git(repo: Path, *args: str) -> bytes:
    return subprocess.run(["git", "-C", str(repo), "-c", "core.quotepath=off", *args], check=True,
                          capture_output=True).stdout


def new_side_text(repo: Path, rev: str, path: str) -> list[str] | None:
    """The file's lines at `rev`, as git stores them (decoded the way reviewbot decodes diffs: UTF-8, replaced)."""
    try:
        data = _git(repo, "cat-file", "blob", f"{rev}:{path}")
    except subprocess.CalledProcessError:
        return None
    return [ln.rstrip("\r") for ln in data.decode("utf-8", "replace").split("\n")]


def added_lines(repo: Path, base: str, head: str, context: int = 3) -> dict[str, set[int]]:
    """path -> added line numbers, read straight from git's diff (an independent reading; the same context size as
    reviewbot asks for, since git may place an ambiguous blank line differently with another context size)."""
    raw = _git(repo, "diff", "--no-color", "--no-ext-diff", "--no-textconv", "-M", f"--unified={context}", base, head)
    out: dict[str, set[int]] = {}
    path = None
    new = 0
    in_hunk = False
    for line in raw.split(b"\n"):
        if line.startswith(b"diff --git "):
            in_hunk, path = False, None
        elif not in_hunk and line.startswith(b"+++ "):
            name = line[4:].decode("utf-8", "surrogateescape")
            path = None if name == "/dev/null" else _unquote(name)[2:]
            if path is not None:
                out.setdefault(path, set())
        elif line.startswith(b"@@ ") and path is not None:
            m = re.match(rb"@@ -\S+ \+(\d+)(?:,\d+)? @@", line)
            new, in_hunk = int(m.group(1)), True
        elif in_hunk and path is not None:
            if line.startswith(b"+"):
                out[path].add(new)
                new += 1
            elif line.startswith(b" "):
                new += 1
    return out


def _unquote(name: str) -> str:
    if name.startswith('"') and name.endswith('"'):  # git quotes names with special characters
        return bytes(name[1:-1], "utf-8", "surrogateescape").decode("unicode_escape").encode(
            "latin-1").decode("utf-8", "surrogateescape")
    return name


def check_commit(name: str, repo: Path, base: str, head: str, report: dict, requests: list[dict],
                 model: ImperfectModel) -> CommitCheck:
    from reviewbot.pipeline.prompt import inline

    check = CommitCheck(name)
    summary = report["summary"]
    skipped = {s["path"] for s in summary["skipped"]}
    truth = added_lines(repo, base, head)
    shown_to_real = {inline(p): p for p in truth}

    sent: dict[str, dict[int, tuple[str, str]]] = {}
    for body in requests:
        for shown, lines in diff_of_request(body).items():
            sent.setdefault(shown_to_real.get(shown, shown), {}).update(lines)

    for path, numbers in truth.items():
        if path in skipped:
            check.skipped_lines += len(numbers)
            continue
        got = {n for n, (kind, _) in sent.get(path, {}).items() if kind == "+"}
        check.added_total += len(numbers)
        check.added_sent += len(numbers & got)
        missing = sorted(numbers - got)
        if missing:
            check.problems.append(f"coverage: {path}: {len(missing)} added lines never sent (first {missing[:5]})")
    coverage = summary.get("coverage")
    if coverage is None:
        check.problems.append("coverage: the JSON report has no coverage block")
    elif coverage["added_lines"]["sent"] != coverage["added_lines"]["in_reviewed_files"]:
        check.problems.append(f"coverage: the report says {coverage['added_lines']} ")

    texts: dict[str, list[str] | None] = {}
    expected = set()  # (path, quoted line, kind): parts of a split hunk may ask for the same finding twice
    for body in requests:
        for f in model(body)["findings"]:
            if f["category"] in EXPECTED_KEPT:
                intended = int(_LABEL.match(f["message"]).group("line"))
                expected.add((shown_to_real.get(f["path"], f["path"]), intended, f["category"]))
    check.expected_kept = len(expected)
    for finding in report["findings"]:
        if finding.get("source") != "model":
            continue
        label = _LABEL.match(finding["message"])
        if label is None:
            check.problems.append(f"right line: unlabelled finding {finding['path']}:{finding['line']}")
            continue
        kind, intended = label.group("kind"), int(label.group("line"))
        check.kept_by_kind[kind] += 1
        path, line = finding["path"], finding["line"]
        if kind in ("unknown", "nowhere"):
            check.problems.append(f"right line: a '{kind}' finding was reported at {path}:{line}")
            continue
        if path not in texts:
            texts[path] = new_side_text(repo, head, path)
        lines = texts[path]
        actual = lines[line - 1] if lines is not None and 0 < line <= len(lines) else None
        as_sent = sent.get(path, {}).get(line, (None, None))[1]
        quote = squash(finding["quote"] or "")
        holds = any(t is not None and quote in squash(t) for t in (actual, as_sent))
        if not holds:
            check.problems.append(f"right line: {path}:{line} does not hold its quote {finding['quote']!r}")
            continue
        if kind in EXPECTED_KEPT:
            want = lines[intended - 1] if lines is not None and 0 < intended <= len(lines) else None
            if line == intended or (want is not None and actual is not None and squash(want) == squash(actual)):
                check.on_right_line += 1
            else:
                check.problems.append(f"right line: '{kind}' finding for line {intended} reported at {line}")
    return check


def review_args(base: str, head: str, *extra: str) -> list[str]:
    return ["diff", f"{base}..{head}", "--format", "json", "--no-cache", "--fail-on", "never", *extra]


def parse_report(stdout: str) -> dict:
    return json.loads(stdout)
