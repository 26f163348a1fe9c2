"""The documentation holds together: every relative link and anchor in README.md and docs/*.md points at something
that exists, the README stays short and in the order a newcomer needs, and its test command is .ci/run's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers import PROJECT_ROOT

PAGES = [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_FENCE = re.compile(r"^\s*(```|~~~)")


def _prose(text: str) -> str:
    """The page without fenced code blocks and inline code spans, where brackets are not links."""
    kept, in_code = [], False
    for line in text.splitlines():
        if _FENCE.match(line):
            in_code = not in_code
            continue
        if not in_code:
            kept.append(re.sub(r"`[^`]*`", "", line))
    return "\n".join(kept)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped (hyphens and underscores kept), spaces to -."""
    text = re.sub(r"`([^`]*)`", r"\1", heading.strip().lower())
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    in_code = False
    for line in page.read_text(encoding="utf-8").splitlines():
        if _FENCE.match(line):
            in_code = not in_code
            continue
        match = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if match and not in_code:
            base = slug(match.group(2))
            n = seen.get(base, 0)
            seen[base] = n + 1
            found.add(base if n == 0 else f"{base}-{n}")
    return found


def _links() -> list[tuple[Path, str]]:
    out = []
    for page in PAGES:
        for target in _LINK.findall(_prose(page.read_text(encoding="utf-8"))):
            if not re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto: are not checked here
                out.append((page, target))
    return out


def test_the_pages_have_relative_links():
    assert len(_links()) > 20


@pytest.mark.parametrize("page, target", _links(),
                         ids=lambda v: str(v.relative_to(PROJECT_ROOT)) if isinstance(v, Path) else v)
def test_relative_link_resolves(page: Path, target: str):
    path, _, anchor = target.partition("#")
    dest = (page.parent / path).resolve() if path else page
    assert dest.exists(), f"{page.relative_to(PROJECT_ROOT)} links to {target}, which does not exist"
    assert PROJECT_ROOT in dest.parents or dest == PROJECT_ROOT, f"{target} leaves the repository"
    if anchor:
        assert dest.suffix == ".md", f"anchor on a non-Markdown target: {target}"
        assert anchor in anchors(dest), f"{page.name}: no heading '#{anchor}' in {dest.name}"


def test_slug_matches_github():
    assert slug("Accepting today's findings: the baseline") == "accepting-todays-findings-the-baseline"
    assert slug("Setting a repository up: `reviewbot init`") == "setting-a-repository-up-reviewbot-init"
    assert slug("Exit codes") == "exit-codes"


def test_readme_is_short_and_in_order():
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 250
    headings = [ln[3:] for ln in text.splitlines() if ln.startswith("## ")]
    assert headings == ["Quick start", "In CI", "Day-to-day use", "Configuration", "Contributing"]
    quick = text.split("## Quick start", 1)[1].split("## In CI", 1)[0]
    steps = ["pip install", "REVIEWBOT_MODEL", "reviewbot doctor", "reviewbot init", "pre-commit install"]
    positions = [quick.index(step) for step in steps]
    assert positions == sorted(positions)
    assert "v0.1.0" not in text and "@@SAMPLE" not in text
    for page in ("configuration", "ci", "team", "precision", "eval", "performance", "hardening"):
        assert f"(docs/{page}.md)" in text


def test_readme_test_command_is_what_ci_runs():
    command = ('python3 -m venv .venv && .venv/bin/python -m pip install -e ".[test]" && .venv/bin/ruff check '
               "&& .venv/bin/mypy && .venv/bin/lint-imports && .venv/bin/python -m pytest")
    run = (PROJECT_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert command in (PROJECT_ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert command in run.splitlines()


def test_every_config_key_is_documented():
    """docs/configuration.md has a row (or a mention in backticks) for every key the loader accepts."""
    from reviewbot.config import KEYS

    text = (PROJECT_ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    missing = [key for key in KEYS if f"`{key}`" not in text]
    assert not missing, f"undocumented config keys: {missing}"
