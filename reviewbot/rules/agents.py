"""Reviewer personas in Claude Code's subagent format, and where they are found.

An agent file is Markdown with YAML front matter: `name` (required), `description`, optional `model`, `tools`,
`color`; other keys are ignored. The body is the persona that goes into the review prompt.

Layers, later ones overriding earlier ones by name:
  bundled (shipped with reviewbot)  <  user (~/.claude/agents/*.md)  <  repository (.claude/agents/*.md)

Decisions:
- `name` is required, as in Claude Code; a file without it is an error rather than silently named after its
  file, so that a repository cannot override a bundled agent by accident. `description` may be empty.
- During discovery a broken file is skipped with a note (a stray file in ~/.claude/agents must not block every
  commit in every repository); an agent file the user names explicitly must load or it is a ConfigError.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from reviewbot.adapters.repository_files import FileSource, shown
from reviewbot.core.errors import ConfigError
from reviewbot.rules.frontmatter import split_front_matter, text_value

REPO_AGENTS_DIR = ".claude/agents"
DEFAULT_AGENT = "senior-backend-engineer"
# Claude Code's model aliases: they name a Claude tier, not a model an OpenAI-compatible server knows.
CLAUDE_MODEL_ALIASES = frozenset({"sonnet", "opus", "haiku", "inherit"})


@dataclass(frozen=True, slots=True)
class Agent:
    name: str
    description: str
    persona: str
    model: str | None  # the front matter's `model`, as written; see resolve_model_alias
    origin: str  # "bundled" | "user" | "repository" | "path"
    path: str  # where the file came from, for display
    tools: tuple[str, ...] = ()  # the front matter's `tools`, e.g. ("Read", "Grep", "Glob")

    @property
    def short_description(self) -> str:
        """The description without Claude Code's `<example>` blocks, cut to one line for listings."""
        text = self.description.split("<example>", 1)[0]
        for tail in ("Examples:", "Example:"):
            if text.rstrip().endswith(tail):
                text = text.rstrip()[: -len(tail)]
        text = " ".join(text.split())
        return text if len(text) <= 120 else text[:117].rstrip() + "..."


def parse_agent(text: str, *, origin: str, path: str) -> Agent:
    """Read one agent file's text; ConfigError (naming `path`) when it is not a usable agent."""
    meta, body = split_front_matter(text, path=path)
    if meta is None:
        raise ConfigError(f"{path} is not an agent file: it has no '---' front matter with a name and description.")
    name = text_value(meta.get("name"))
    if not name:
        raise ConfigError(f"{path}: the agent's front matter has no 'name'.")
    persona = body.strip()
    if not persona:
        raise ConfigError(f"{path}: the agent '{name}' has no persona text after its front matter.")
    return Agent(
        name=name,
        description=text_value(meta.get("description")) or "",
        persona=persona,
        model=text_value(meta.get("model")) or None,
        origin=origin,
        path=path,
        tools=_tool_names(meta.get("tools")),
    )


def _tool_names(value: object) -> tuple[str, ...]:
    """Claude Code writes `tools: Read, Grep, Glob` (or a YAML list)."""
    if isinstance(value, list):
        return tuple(str(v).strip() for v in value if str(v).strip())
    text = text_value(value) or ""
    return tuple(t.strip() for t in text.split(",") if t.strip())


def bundled_agents_dir() -> Path:
    """The agents shipped with reviewbot: inside the wheel, or the top-level agents/ folder of a source checkout."""
    package = Path(__file__).resolve().parents[1]
    installed = package / "_bundled_agents"
    if installed.is_dir():
        return installed
    return package.parent / "agents"


def user_agents_dir(env: Mapping[str, str] | None = None) -> Path:
    """Claude Code's per-user agents folder (it honours CLAUDE_CONFIG_DIR, so do we)."""
    env = os.environ if env is None else env
    config_dir = env.get("CLAUDE_CONFIG_DIR")
    base = Path(config_dir).expanduser() if config_dir else Path.home() / ".claude"
    return base / "agents"


def discover_agents(
    repo: FileSource | None,
    user_dir: Path | None,
    *,
    bundled_dir: Path | None = None,
    problems: list[str] | None = None,
) -> dict[str, Agent]:
    """Every available agent by name, sorted by name; broken files are skipped and described in `problems`."""
    found: dict[str, Agent] = {}
    notes: list[str] = []

    def add_layer(entries: list[tuple[str, str]], origin: str) -> None:
        layer: dict[str, Agent] = {}
        for path, text in entries:
            try:
                agent = parse_agent(text, origin=origin, path=path)
            except ConfigError as err:
                if origin == "bundled":
                    raise  # our own files: a packaging mistake, not something to skip
                notes.append(f"{err} It was skipped.")
                continue
            if agent.name in layer:
                notes.append(f"{path} defines agent '{agent.name}' again; {layer[agent.name].path} is used.")
                continue
            layer[agent.name] = agent
        found.update(layer)

    add_layer(_read_folder(bundled_dir or bundled_agents_dir()), "bundled")
    if user_dir is not None:
        add_layer(_read_folder(user_dir), "user")
    if repo is not None:
        add_layer(_read_repo_agents(repo), "repository")
    if problems is not None:
        problems.extend(notes)
    return dict(sorted(found.items()))


def _read_folder(folder: Path) -> list[tuple[str, str]]:
    try:
        files = sorted(p for p in folder.glob("*.md") if p.is_file())
    except OSError:
        return []
    out = []
    for file in files:
        try:
            out.append((str(file), file.read_bytes().decode("utf-8", errors="replace")))
        except OSError:
            continue
    return out


def _read_repo_agents(repo: FileSource) -> list[tuple[str, str]]:
    prefix = REPO_AGENTS_DIR + "/"
    # Only direct children, as Claude Code does; a cheap prefix test keeps big listings fast.
    paths = sorted(
        p for p in repo.list_files() if p.startswith(prefix) and p.endswith(".md") and "/" not in p[len(prefix) :]
    )
    out = []
    for path in paths:
        text = repo.read_text(path)
        if text is not None:
            out.append((path, text))
    return out


def resolve_agent(
    ref: str,
    available: Mapping[str, Agent],
    *,
    cwd: Path,
    source: FileSource | None = None,
    repo_root: Path | None = None,
    outside_allowed: bool = True,
) -> Agent:
    """Find the agent `ref` names: an agent name, or a path to an agent file.

    A ref is a path when it contains a slash or ends in `.md`. When `source` and `repo_root` are given, a path
    inside the repository is read through `source` (in CI: the base revision, so a pull request cannot swap the
    reviewer it is checked by); other paths are read from disk.
    """
    ref = ref.strip()
    if not ref:
        raise ConfigError("The agent name is empty; " + _available(available))
    looks_like_path = "/" in ref or os.sep in ref or ref.endswith(".md")
    if not looks_like_path:
        if ref in available:
            return available[ref]
        raise ConfigError(f"unknown agent '{shown(ref)}'; {_available(available)}")

    if not outside_allowed:
        # Named by the repository's config: a path inside the repository, read through `source` like any of its
        # files (relative to the root, never to wherever the command was started).
        from reviewbot.adapters.repository_files import RepoFileRefused, refuse, relative_repo_path

        try:
            rel = relative_repo_path(ref, "agent file (setting 'agent')")
        except RepoFileRefused as err:
            refuse(source, err)
            raise ConfigError(f"the agent file '{shown(ref)}' named by the repository's config was refused; "
                              f"fix the 'agent' setting") from None
        text = source.read_text(rel, what="agent file (setting 'agent')") if source is not None else None
        if text is None:
            raise ConfigError(f"agent file '{shown(ref)}' does not exist in the repository (or was refused); "
                              f"{_available(available)}")
        return parse_agent(text, origin="path", path=rel)

    target = Path(ref).expanduser()
    if not target.is_absolute():
        target = cwd / target
    text, shown_path = _read_agent_path(target, ref, source, repo_root)
    if text is None:
        if ref in available:  # a name that happens to end in .md
            return available[ref]
        raise ConfigError(f"agent file '{shown(ref)}' does not exist; {_available(available)}")
    return parse_agent(text, origin="path", path=shown_path)


def _read_agent_path(
    target: Path, ref: str, source: FileSource | None, repo_root: Path | None
) -> tuple[str | None, str]:
    if source is not None and repo_root is not None:
        try:
            inside = Path(os.path.normpath(target)).relative_to(Path(os.path.normpath(repo_root)))
        except ValueError:
            inside = None
        if inside is not None:
            rel = inside.as_posix()
            return source.read_text(rel), rel
    try:
        if not target.is_file():
            return None, ref
        return target.read_bytes().decode("utf-8", errors="replace"), ref
    except OSError as err:
        raise ConfigError(f"agent file '{ref}' could not be read ({err.strerror or err}).") from None


def _available(available: Mapping[str, Agent]) -> str:
    if not available:
        return "no agents are available."
    return "available: " + ", ".join(shown(name) for name in sorted(available)) + "."


def resolve_model_alias(agent_model: str | None, aliases: Mapping[str, str]) -> str | None:
    """The model id an agent asks for, or None to use the configured model.

    Config `model_aliases` maps any front-matter value (e.g. "sonnet" -> "qwen2.5-coder:32b"). Claude's aliases
    without a mapping are ignored (None). Any other value is taken as a model id and returned unchanged.
    """
    if agent_model is None or not agent_model.strip():
        return None
    value = agent_model.strip()
    for key in (value, value.lower()):
        if key in aliases and str(aliases[key]).strip():
            return str(aliases[key]).strip()
    if value.lower() in CLAUDE_MODEL_ALIASES:
        return None
    return value
