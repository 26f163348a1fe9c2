"""Shared by the reporters' tests: hand-built ReviewResults (hostile model text included), the consumers' schemas
(copied into tests/schemas, see SOURCES.md there) and a parser for CI workflow commands."""

from __future__ import annotations

import json
from pathlib import Path

from reviewbot.core.models import Finding, ReviewResult, Severity, Skipped, Usage
from reviewbot.reporters.github import unescape_data, unescape_property

SCHEMAS = Path(__file__).parents[1] / "schemas"


ALL_FORMATS = ("text", "json", "github", "sarif", "rdjson", "rdjsonl", "gitlab", "junit", "markdown")


# Model text shaped by a hostile pull request: workflow commands, escapes, Markdown/HTML, mentions, controls.
HOSTILE = (
    "Blocks the event loop\n::add-mask::hunter2\r\n  ::stop-commands::tok\n"
    "##[set-output name=pwned;]1 and ##vso[task.setvariable variable=x]y\n"
    "100% sure, a:b, c|d <script>alert(1)</script> `tick` [link](http://evil.example) "
    "\x1b[31mred\x1b[0m \x1b]8;;http://evil.example\x07click\x1b]8;;\x07 \x1b]0;title\x1b\\ "
    "\x9b2J\u202eevil\u202c @here @octo-org/team \x00nul\x07bell"
)


HOSTILE_SUGGESTION = "await asyncio.sleep(1)\n::error file=x::fake\n```\n"


def finding(path: str = "app/service.py", line: int = 21, severity: Severity = Severity.ERROR, **kw) -> Finding:
    kw.setdefault("category", "blocking-io")
    kw.setdefault("message", "time.sleep() blocks the event loop")
    return Finding(path=path, line=line, severity=severity, **kw)


def result(*findings: Finding, **kw) -> ReviewResult:
    kw.setdefault("files_reviewed", tuple(dict.fromkeys(f.path for f in findings)) + ("clean.py",))
    return ReviewResult(findings=tuple(findings), **kw)


def sample() -> ReviewResult:
    return result(
        finding(message=HOSTILE, end_line=23, suggestion=HOSTILE_SUGGESTION, agent="senior-backend-engineer",
                quote="    time.sleep(1)", confidence=0.82, reanchored_from=18),
        finding("a b/\u00fc,x:y.py", 3, Severity.WARNING, category="SQL Injection", message="query built with %s"),
        finding("docs/x.py", 1, Severity.INFO, category="style", message="nit: <b>bold</b> | pipe @here"),
        finding("app/service.py", 40, Severity.ERROR, category="secrets", message="AWS key committed",
                source="secrets", agent=""),
        skipped=(Skipped("poetry.lock", "lock file"),),
        failed=(Skipped("big.py", "model timed out"),),
        dropped=(("off-diff", 3), ("invalid", 1), ("off-diff", 1)),
        usage=Usage(requests=2, cached=1, tokens_in=1234, tokens_out=210),
        model="gpt-4o-mini",
        agents=("senior-backend-engineer",),
    )


def schema(name: str) -> dict:
    return json.loads((SCHEMAS / name).read_text(encoding="utf-8"))


def parse_workflow_command(line: str) -> tuple[str, dict[str, str], str] | None:
    """The runner's v2 parser (actions/runner ActionCommand.TryParseV2), reduced to what the tests need."""
    text = line.lstrip()
    if not text.startswith("::"):
        return None
    end = text.find("::", 2)
    if end < 0:
        return None
    name, _, props = text[2:end].partition(" ")
    properties = {}
    for prop in props.strip().split(","):
        key, sep, value = prop.partition("=")
        if sep and key and value:
            properties[key] = unescape_property(value)
    return name, properties, unescape_data(text[end + 2 :])
