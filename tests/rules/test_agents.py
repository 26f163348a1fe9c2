from __future__ import annotations

from pathlib import Path

import pytest

from reviewbot.adapters.repository_files import MemorySource, WorktreeSource
from reviewbot.core.errors import ConfigError
from reviewbot.rules.agents import (
    DEFAULT_AGENT,
    Agent,
    bundled_agents_dir,
    discover_agents,
    parse_agent,
    resolve_agent,
    resolve_model_alias,
    user_agents_dir,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "agents"
SEED = FIXTURES / "senior-backend-engineer.md"


def agent_file(name: str, persona: str = "You review code.", extra: str = "") -> str:
    return f"---\nname: {name}\ndescription: The {name} reviewer.\n{extra}---\n\n{persona}\n"


def test_seed_agent_file_loads_unchanged():
    agent = parse_agent(SEED.read_text(encoding="utf-8"), origin="user", path=str(SEED))

    assert agent.name == "senior-backend-engineer"
    assert agent.model == "sonnet"
    assert "<example>" in agent.description
    # The value carries colons and quotes of its own; strict YAML rejects it, Claude Code accepts it.
    assert "user: 'The backend is responding slowly to API requests, can you help optimize it?'" in agent.description
    assert agent.description.endswith("</commentary></example>")
    assert agent.persona.startswith("You are a Senior Backend Engineer")
    assert agent.persona.endswith("reliability, performance, and maintainability.")
    assert agent.short_description.startswith("Use this agent when you need expert-level backend")
    assert "<example>" not in agent.short_description


def test_unknown_front_matter_keys_and_tools_list_are_tolerated():
    text = agent_file("tidy", extra="tools: [Read, Grep]\ncolor: green\npriority: 7\nnested:\n  a: 1\n")
    agent = parse_agent(text, origin="repository", path=".claude/agents/tidy.md")
    assert (agent.name, agent.description, agent.model) == ("tidy", "The tidy reviewer.", None)
    assert agent.persona == "You review code."


def test_windows_line_endings_and_bom_are_accepted():
    text = "\ufeff" + agent_file("crlf", extra="model: opus\n").replace("\n", "\r\n")
    agent = parse_agent(text, origin="user", path="crlf.md")
    assert (agent.name, agent.model, agent.persona) == ("crlf", "opus", "You review code.")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("---\nname: [unclosed\ndescription: x\n---\nbody\n", "not valid YAML"),
        ('---\nname: "open quote\n---\nbody\n', "not valid YAML"),
        ("just a persona, no front matter\n", "no '---' front matter"),
        ("---\nname: x\ndescription: never closed\n\nbody\n", "never closed"),
        ("---\ndescription: nameless\n---\nbody\n", "no 'name'"),
        ("---\n- a\n- b\n---\nbody\n", "'key: value'"),
        ("---\nname: empty\n---\n\n  \n", "no persona text"),
    ],
)
def test_broken_agent_files_are_config_errors_naming_the_file(text, expected):
    with pytest.raises(ConfigError) as info:
        parse_agent(text, origin="repository", path=".claude/agents/broken.md")
    message = str(info.value)
    assert ".claude/agents/broken.md" in message
    assert expected in message
    assert info.value.exit_code == 2


def test_bundled_default_agent_is_present_and_well_formed():
    folder = bundled_agents_dir()
    assert (folder / f"{DEFAULT_AGENT}.md").is_file()

    agents = discover_agents(None, None)
    default = agents[DEFAULT_AGENT]
    assert default.origin == "bundled"
    assert default.model is None  # no Claude alias in our own file
    assert default.description and "<example>" not in default.description
    lines = default.persona.splitlines()
    assert 40 <= len(lines) <= 80
    for topic in ("await", "timeout", "pool", "SQL", "N+1", "idempotent", "transaction", "disconnect", "Do not report"):
        assert topic in default.persona, topic
    # The answer contract belongs to the prompt module, not to the persona.
    assert "JSON" not in default.persona
    for agent in agents.values():
        assert agent.origin == "bundled"
        assert Path(agent.path).stem == agent.name


def test_layers_repository_overrides_user_overrides_bundled(tmp_path):
    bundled = tmp_path / "bundled"
    bundled.mkdir()
    (bundled / "alpha.md").write_text(agent_file("alpha", "bundled alpha"))
    (bundled / "beta.md").write_text(agent_file("beta", "bundled beta"))
    (bundled / "gamma.md").write_text(agent_file("gamma", "bundled gamma"))
    user = tmp_path / "home" / ".claude" / "agents"
    user.mkdir(parents=True)
    (user / "b.md").write_text(agent_file("beta", "user beta"))
    (user / "g.md").write_text(agent_file("gamma", "user gamma"))
    (user / "own.md").write_text(agent_file("own", "user own"))
    repo = MemorySource(
        {
            ".claude/agents/gamma.md": agent_file("gamma", "repo gamma"),
            ".claude/agents/sub/deep.md": agent_file("deep"),  # not a direct child: ignored, as Claude Code does
            ".claude/agents/notes.txt": "not an agent",
            "src/.claude/agents/x.md": agent_file("elsewhere"),
        }
    )

    agents = discover_agents(repo, user, bundled_dir=bundled)

    assert list(agents) == ["alpha", "beta", "gamma", "own"]
    assert (agents["alpha"].persona, agents["alpha"].origin) == ("bundled alpha", "bundled")
    assert (agents["beta"].persona, agents["beta"].origin) == ("user beta", "user")
    assert (agents["gamma"].persona, agents["gamma"].origin, agents["gamma"].path) == (
        "repo gamma",
        "repository",
        ".claude/agents/gamma.md",
    )
    assert agents["own"].path == str(user / "own.md")


def test_repository_agent_overrides_the_bundled_default(tmp_path):
    (tmp_path / ".claude" / "agents").mkdir(parents=True)
    (tmp_path / ".claude" / "agents" / "ours.md").write_text(agent_file(DEFAULT_AGENT, "Our house reviewer."))

    agents = discover_agents(WorktreeSource(tmp_path), None)

    assert agents[DEFAULT_AGENT].persona == "Our house reviewer."
    assert agents[DEFAULT_AGENT].origin == "repository"


def test_seed_in_user_dir_is_discovered(tmp_path):
    user = tmp_path / "agents"
    user.mkdir()
    (user / SEED.name).write_bytes(SEED.read_bytes())

    agents = discover_agents(None, user)

    assert agents["senior-backend-engineer"].origin == "user"
    assert agents["senior-backend-engineer"].model == "sonnet"


def test_broken_files_are_skipped_with_a_note_during_discovery(tmp_path):
    user = tmp_path / "agents"
    user.mkdir()
    (user / "README.md").write_text("# My agents\n")
    (user / "good.md").write_text(agent_file("good"))
    (user / "zz-copy.md").write_text(agent_file("good", "second copy"))  # later in name order: loses
    problems: list[str] = []

    agents = discover_agents(None, user, problems=problems)

    assert agents["good"].persona == "You review code."
    assert any("README.md" in p and "skipped" in p for p in problems)
    assert any("zz-copy.md" in p and "'good'" in p for p in problems)


def test_user_agents_dir_follows_claude_config_dir(tmp_path):
    assert user_agents_dir({"CLAUDE_CONFIG_DIR": str(tmp_path)}) == tmp_path / "agents"
    assert user_agents_dir({}).parts[-2:] == (".claude", "agents")


def test_resolve_by_name_and_unknown_name_lists_the_available_ones():
    available = {"beta": _agent("beta"), "alpha": _agent("alpha")}
    assert resolve_agent("beta", available, cwd=Path("/nonexistent")).name == "beta"

    with pytest.raises(ConfigError) as info:
        resolve_agent("gamma", available, cwd=Path("/nonexistent"))
    assert str(info.value) == "unknown agent 'gamma'; available: alpha, beta."
    assert info.value.exit_code == 2


def test_resolve_by_path_relative_absolute_and_missing(tmp_path):
    (tmp_path / "personas").mkdir()
    file = tmp_path / "personas" / "strict.md"
    file.write_text(agent_file("strict", "Be strict."))
    (tmp_path / "seed.md").write_bytes(SEED.read_bytes())

    by_relative = resolve_agent("personas/strict.md", {}, cwd=tmp_path)
    assert (by_relative.name, by_relative.persona, by_relative.origin) == ("strict", "Be strict.", "path")
    assert resolve_agent(str(file), {}, cwd=Path("/")).name == "strict"
    # A bare file name ending in .md is a path too.
    assert resolve_agent("seed.md", {}, cwd=tmp_path).model == "sonnet"

    with pytest.raises(ConfigError, match="agent file 'personas/missing.md' does not exist"):
        resolve_agent("personas/missing.md", {"a": _agent("a")}, cwd=tmp_path)


def test_resolve_path_inside_repository_reads_through_the_source(tmp_path):
    # In CI the source is the base revision: the file on disk (the PR's version) must not be used.
    (tmp_path / ".claude" / "agents").mkdir(parents=True)
    (tmp_path / ".claude" / "agents" / "r.md").write_text(agent_file("r", "head version"))
    base = MemorySource({".claude/agents/r.md": agent_file("r", "base version")})

    agent = resolve_agent(".claude/agents/r.md", {}, cwd=tmp_path, source=base, repo_root=tmp_path)

    assert agent.persona == "base version"
    assert agent.path == ".claude/agents/r.md"


@pytest.mark.parametrize(
    ("model", "aliases", "expected"),
    [
        ("sonnet", {}, None),
        ("inherit", {}, None),
        ("Opus", {}, None),
        ("sonnet", {"sonnet": "qwen2.5-coder:32b"}, "qwen2.5-coder:32b"),
        ("Haiku", {"haiku": "llama3.2:3b"}, "llama3.2:3b"),
        ("gpt-4o-mini", {}, "gpt-4o-mini"),
        ("fast", {"fast": "gpt-4o-mini"}, "gpt-4o-mini"),
        (None, {"sonnet": "x"}, None),
        ("  ", {}, None),
    ],
)
def test_model_alias_mapping(model, aliases, expected):
    assert resolve_model_alias(model, aliases) == expected


def _agent(name: str) -> Agent:
    return Agent(name=name, description="", persona="p", model=None, origin="bundled", path=f"{name}.md")
