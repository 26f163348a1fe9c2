from __future__ import annotations

import pytest

from reviewbot.adapters.repository_files import MemorySource, WorktreeSource
from reviewbot.core.errors import ConfigError
from reviewbot.rules.standards import (
    StandardsDoc,
    _glob_match,
    discover_standards,
    render_standards,
    standards_for_file,
)

REPO = {
    "CLAUDE.md": "Root rules: use type hints.",
    "AGENTS.md": "Agents at the root: run the tests.",
    ".github/copilot-instructions.md": "Copilot: prefer small functions.",
    "services/AGENTS.md": "Services: every handler is async.",
    "services/api/AGENTS.md": "API: validate input with pydantic.",
    "services/api/CLAUDE.md": "API (Claude): return problem+json errors.",
    "services/worker/AGENTS.md": "Worker: jobs must be idempotent.",
    "web/AGENTS.md": "Web: no inline styles.",
    "services/api/x.py": "print('x')\n",
    "web/y.ts": "export {}\n",
    "README.md": "# readme",
    "docs/CONVENTIONS.md": "not at the root, so not a standards file",
}


def paths(docs):
    return [d.path for d in docs]


def test_root_files_apply_everywhere_in_a_fixed_order():
    source = MemorySource(
        {
            ".cursorrules": "cursor",
            "CONVENTIONS.md": "conventions",
            "GEMINI.md": "gemini",
            ".claude/CLAUDE.md": "claude dir",
            "CLAUDE.md": "claude",
            "AGENTS.md": "agents",
            ".github/copilot-instructions.md": "copilot",
            "src/a.py": "",
        }
    )
    docs = discover_standards(source, ["src/a.py"])
    assert paths(docs) == [
        "CLAUDE.md",
        ".claude/CLAUDE.md",
        "AGENTS.md",
        "GEMINI.md",
        ".github/copilot-instructions.md",
        "CONVENTIONS.md",
        ".cursorrules",
    ]
    assert all(d.scope == "all files" for d in docs)
    assert paths(standards_for_file(docs, "deep/down/any.go")) == paths(docs)


def test_nested_agents_md_applies_only_at_and_below_its_folder():
    docs = discover_standards(MemorySource(REPO), ["services/api/x.py", "web/y.ts"])

    api = paths(standards_for_file(docs, "services/api/x.py"))
    web = paths(standards_for_file(docs, "web/y.ts"))

    assert "services/api/AGENTS.md" in api
    assert "services/api/AGENTS.md" not in web
    assert "web/AGENTS.md" in web and "web/AGENTS.md" not in api
    # Nearest first, then up to the root.
    assert api == [
        "services/api/AGENTS.md",
        "services/api/CLAUDE.md",
        "services/AGENTS.md",
        "CLAUDE.md",
        "AGENTS.md",
        ".github/copilot-instructions.md",
    ]
    assert web == ["web/AGENTS.md", "CLAUDE.md", "AGENTS.md", ".github/copilot-instructions.md"]
    # A sibling folder whose name starts the same is not "below" services/api.
    assert "services/api/AGENTS.md" not in paths(standards_for_file(docs, "services/apix/z.py"))


def test_discovery_keeps_only_docs_relevant_to_the_changed_paths():
    docs = discover_standards(MemorySource(REPO), ["web/y.ts"])
    assert paths(docs) == ["CLAUDE.md", "AGENTS.md", ".github/copilot-instructions.md", "web/AGENTS.md"]
    assert "docs/CONVENTIONS.md" not in paths(discover_standards(MemorySource(REPO), ["docs/x.md"]))


def test_copilot_instructions_apply_to_their_globs():
    source = MemorySource(
        {
            ".github/instructions/ts.instructions.md": (
                '---\napplyTo: "**/*.ts,**/*.tsx"\n---\nTypeScript: strict mode.\n'
            ),
            ".github/instructions/py.instructions.md": "---\napplyTo: 'services/**/*.py'\n---\nPython: no print.\n",
            ".github/instructions/manual.instructions.md": "---\ndescription: only on request\n---\nManual.\n",
            ".github/instructions/all.instructions.md": '---\napplyTo: "**"\n---\nEverything.\n',
        }
    )
    docs = discover_standards(source, ["web/y.ts", "services/api/x.py"])

    assert paths(docs) == [
        ".github/instructions/all.instructions.md",
        ".github/instructions/py.instructions.md",
        ".github/instructions/ts.instructions.md",
    ]
    ts = next(d for d in docs if d.path.endswith("ts.instructions.md"))
    assert ts.text.strip() == "TypeScript: strict mode."  # front matter removed
    assert ts.scope == "applyTo: **/*.ts, **/*.tsx"
    assert paths(standards_for_file(docs, "web/y.ts")) == [
        ".github/instructions/all.instructions.md",
        ".github/instructions/ts.instructions.md",
    ]
    assert paths(standards_for_file(docs, "services/api/x.py")) == [
        ".github/instructions/all.instructions.md",
        ".github/instructions/py.instructions.md",
    ]
    # Not relevant to any changed file: not discovered at all.
    assert ".github/instructions/ts.instructions.md" not in paths(discover_standards(source, ["a.py"]))


def test_cursor_rules_globs_and_always_apply():
    source = MemorySource(
        {
            # Unquoted `*` is a YAML alias: real .mdc files look like this and must still load.
            ".cursor/rules/react.mdc": (
                "---\ndescription: React\nglobs: *.tsx, *.jsx\nalwaysApply: false\n---\nHooks only.\n"
            ),
            ".cursor/rules/py.mdc": "---\nglobs:\n  - 'services/**'\n---\nPython services.\n",
            ".cursor/rules/always.mdc": "---\nalwaysApply: true\n---\nBe kind.\n",
            ".cursor/rules/manual.mdc": "---\ndescription: ask for me\nalwaysApply: false\n---\nManual.\n",
            "CLAUDE.md": "root",
        }
    )
    docs = discover_standards(source, ["web/App.tsx", "services/api/x.py"])

    assert paths(docs) == ["CLAUDE.md", ".cursor/rules/always.mdc", ".cursor/rules/py.mdc", ".cursor/rules/react.mdc"]
    assert next(d for d in docs if d.path.endswith("react.mdc")).scope == "globs: *.tsx, *.jsx"
    everywhere = ["CLAUDE.md", ".cursor/rules/always.mdc"]
    assert paths(standards_for_file(docs, "web/App.tsx")) == [".cursor/rules/react.mdc", *everywhere]
    assert paths(standards_for_file(docs, "services/api/x.py")) == [".cursor/rules/py.mdc", *everywhere]
    assert paths(standards_for_file(docs, "README.md")) == ["CLAUDE.md", ".cursor/rules/always.mdc"]


def test_unreadable_rule_front_matter_is_skipped_with_a_note():
    source = MemorySource({".cursor/rules/bad.mdc": "---\nglobs: [unclosed\n---\nx\n", "CLAUDE.md": "root"})
    problems: list[str] = []
    docs = discover_standards(source, ["a.py"], problems=problems)
    assert paths(docs) == ["CLAUDE.md"]
    assert len(problems) == 1 and ".cursor/rules/bad.mdc" in problems[0]


def test_explicit_list_is_used_exactly(tmp_path):
    (tmp_path / "CLAUDE.md").write_text("discovered normally")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "STYLE.md").write_text("Our style.")
    (tmp_path / "services" / "api").mkdir(parents=True)
    (tmp_path / "services" / "api" / "AGENTS.md").write_text("api")
    source = WorktreeSource(tmp_path)

    docs = discover_standards(source, ["services/api/x.py"], explicit=["./docs/STYLE.md"])

    assert [(d.path, d.text) for d in docs] == [("docs/STYLE.md", "Our style.")]
    assert standards_for_file(docs, "anything/at/all.rs") == docs

    with pytest.raises(ConfigError, match="'docs/MISSING.md'") as info:
        discover_standards(source, ["a.py"], explicit=["docs/STYLE.md", "docs/MISSING.md"])
    assert info.value.exit_code == 2
    assert discover_standards(source, ["a.py"], explicit=[]) == []


def test_duplicates_by_text_are_dropped_and_empty_files_ignored():
    source = MemorySource({"AGENTS.md": "Same rules.\n", "CLAUDE.md": "Same rules.", "CONVENTIONS.md": "  \n"})
    assert paths(discover_standards(source, ["a.py"])) == ["CLAUDE.md"]


def test_render_within_budget_has_headings_and_no_notes():
    docs = [
        StandardsDoc("CLAUDE.md", "Rule one.", "all files"),
        StandardsDoc("web/AGENTS.md", "Rule two.", "files under web/", folder="web"),
    ]
    text, notes = render_standards(docs, max_chars=10_000)
    assert notes == []
    assert text == (
        "### CLAUDE.md (applies to: all files)\nRule one.\n\n"
        "### web/AGENTS.md (applies to: files under web/)\nRule two."
    )


def test_render_truncates_visibly_and_says_so():
    long_text = "\n".join(f"Rule {i}: keep handlers small and well named." for i in range(200))
    docs = [
        StandardsDoc("services/api/AGENTS.md", "Nearest rules.", "files under services/api/", folder="services/api"),
        StandardsDoc("CLAUDE.md", long_text, "all files"),
        StandardsDoc("AGENTS.md", "Never reached.", "all files"),
    ]

    text, notes = render_standards(docs, max_chars=4_000)

    assert len(text) <= 4_000
    assert "Nearest rules." in text
    assert "Never reached." not in text
    assert text.rstrip().endswith(f"of {len(long_text):,} characters shown]")
    shown = text.split("### CLAUDE.md (applies to: all files)\n", 1)[1].rsplit("\n[... truncated", 1)[0]
    assert long_text.startswith(shown) and shown.endswith("well named.")  # cut at a line end
    assert notes == [
        f"CLAUDE.md truncated to {len(shown):,} of {len(long_text):,} characters.",
        "AGENTS.md left out: the standards budget of 4,000 characters was used up.",
    ]


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("*.py", "a/b/c.py", True),
        ("**/*.ts", "y.ts", True),
        ("src/**/*.ts", "src/q/r/a.ts", True),
        ("src/**/*.ts", "lib/src/a.ts", False),
        ("services/api/**", "services/apix/x.py", False),
        ("app/*.py", "app/x/y.py", False),
        ("docs", "docs/guide/a.md", True),
        ("/docs", "a/docs/x.md", False),
        ("**/*.{ts,tsx}", "a/b.tsx", True),
        ("[!ab].py", "c.py", True),
    ],
)
def test_glob_matching_is_gitignore_like(pattern, path, expected):
    assert _glob_match(pattern, path) is expected
