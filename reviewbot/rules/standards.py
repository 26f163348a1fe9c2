"""The repository's own coding standards, found where the common AI tools keep them, and scoped per file.

What counts as a standards file:
- Repository-wide: CLAUDE.md, .claude/CLAUDE.md, AGENTS.md, GEMINI.md, .github/copilot-instructions.md,
  CONVENTIONS.md, .cursorrules (at the repository root).
- Folder-scoped: AGENTS.md or CLAUDE.md in a subfolder applies to files at and below that folder.
- Glob-scoped: .github/instructions/**/*.instructions.md with front matter `applyTo: "glob,glob"`, and
  .cursor/rules/**/*.mdc with `globs` (string or list) or `alwaysApply: true`. Such a file without a glob (and,
  for .mdc, without alwaysApply) is one the tools only use on request, so it is not applied.
- Config `standards = [...]`: exactly those files, applied to every file, and nothing else.

For one file the applicable documents come nearest first: the deepest folder's AGENTS.md/CLAUDE.md, up to the
root, then glob-scoped rules, then the repository-wide files. Budgets are spent in that order.
Globs are gitignore-like: `*` within a path segment, `**` across segments, `{a,b}` alternatives, and a pattern
without a slash matches the file name at any depth.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from reviewbot.adapters.repository_files import FileSource, RepoFileRefused, refuse, relative_repo_path, shown
from reviewbot.core.errors import ConfigError
from reviewbot.rules.frontmatter import split_front_matter

ROOT_FILES = (
    "CLAUDE.md",
    ".claude/CLAUDE.md",
    "AGENTS.md",
    "GEMINI.md",
    ".github/copilot-instructions.md",
    "CONVENTIONS.md",
    ".cursorrules",
)
NESTED_NAMES = ("AGENTS.md", "CLAUDE.md")
INSTRUCTIONS_DIR = ".github/instructions/"
INSTRUCTIONS_SUFFIX = ".instructions.md"
CURSOR_RULES_DIR = ".cursor/rules/"
CURSOR_RULES_SUFFIX = ".mdc"
TRUNCATION_MARKER = "[... truncated by reviewbot: {shown:,} of {total:,} characters shown]"


@dataclass(frozen=True, slots=True)
class StandardsDoc:
    path: str
    text: str
    scope: str  # for people: "all files", "files under services/api/", "applyTo: **/*.ts"
    folder: str = ""  # applies only at and below this folder; "" is the repository root
    globs: tuple[str, ...] = ()  # when given, applies only to files matching one of them

    def applies_to(self, path: str) -> bool:
        if self.folder and not path.startswith(self.folder + "/"):
            return False
        return not self.globs or any(_glob_match(g, path) for g in self.globs)


def discover_standards(
    source: FileSource,
    changed_paths: Sequence[str],
    *,
    explicit: Sequence[str] | None = None,
    problems: list[str] | None = None,
) -> list[StandardsDoc]:
    """Every standards document that applies to at least one changed path (repository-wide ones always),
    deduplicated by path and by identical text, in a stable order. Unreadable front matter in a rules file
    skips that file with a note in `problems`."""
    if explicit is not None:
        return _explicit_docs(source, explicit)

    changed = [_normalise(p) for p in changed_paths]
    ancestor_dirs = {d for p in changed for d in _ancestors(p)}
    root_found: set[str] = set()
    nested: list[str] = []
    rules: list[str] = []
    for path in source.list_files():  # possibly huge: only cheap string tests here
        if path in ROOT_FILES:
            root_found.add(path)
            continue
        slash = path.rfind("/")
        if slash > 0 and path[slash + 1 :] in NESTED_NAMES and path[:slash] in ancestor_dirs:
            nested.append(path)
        elif path.startswith(INSTRUCTIONS_DIR) and path.endswith(INSTRUCTIONS_SUFFIX):
            rules.append(path)
        elif path.startswith(CURSOR_RULES_DIR) and path.endswith(CURSOR_RULES_SUFFIX):
            rules.append(path)

    docs: list[StandardsDoc] = []
    for path in ROOT_FILES:
        if path in root_found:
            docs.append(StandardsDoc(path, _read(source, path), "all files"))
    for path in sorted(nested):
        folder = path.rsplit("/", 1)[0]
        docs.append(StandardsDoc(path, _read(source, path), f"files under {folder}/", folder=folder))
    for path in sorted(rules):
        doc = _scoped_rule(path, _read(source, path), problems)
        if doc is not None and (not doc.globs or any(doc.applies_to(p) for p in changed)):
            docs.append(doc)
    return _dedupe(d for d in docs if d.text.strip())


def standards_sources(source: FileSource, *, explicit: Sequence[str] | None = None) -> list[tuple[str, str | None]]:
    """(path, text) of every file `discover_standards` could read from `source`, whichever paths changed: the
    listed files, or every root, nested and rules file the source holds (text None when a listed one is missing).

    A superset of what discovery reads, so equal answers mean discovery sees the same texts; the plan cache keys
    on it (reviewbot/pipeline/plan_cache.py)."""
    if explicit is not None:
        out: list[tuple[str, str | None]] = []
        for raw in explicit:
            try:
                path = relative_repo_path(raw, "standards file (setting 'standards')")
            except RepoFileRefused:
                out.append((str(raw), None))
                continue
            out.append((path, source.read_text(path, what="standards file (setting 'standards')")))
        return out
    found = []
    for path in source.list_files():  # the same cheap tests as discover_standards, without the ancestor check
        slash = path.rfind("/")
        if (
            path in ROOT_FILES
            or (slash > 0 and path[slash + 1 :] in NESTED_NAMES)
            or (path.startswith(INSTRUCTIONS_DIR) and path.endswith(INSTRUCTIONS_SUFFIX))
            or (path.startswith(CURSOR_RULES_DIR) and path.endswith(CURSOR_RULES_SUFFIX))
        ):
            found.append(path)
    return [(path, _read(source, path)) for path in sorted(found)]


def standards_for_file(docs: Sequence[StandardsDoc], path: str) -> list[StandardsDoc]:
    """The documents that apply to `path`, nearest first: deepest folder first, then glob rules, then repo-wide."""
    path = _normalise(path)
    matching = [(i, d) for i, d in enumerate(docs) if d.applies_to(path)]

    def nearness(item: tuple[int, StandardsDoc]) -> tuple[int, int, int]:
        index, doc = item
        depth = doc.folder.count("/") + 1 if doc.folder else 0
        return (-depth, 0 if doc.globs else 1, index)

    return [d for _, d in sorted(matching, key=nearness)]


def render_standards(docs: Sequence[StandardsDoc], *, max_chars: int) -> tuple[str, list[str]]:
    """The documents as one text block, each under a heading with its path and scope, at most `max_chars` long.

    A document that does not fit is cut at a line end with a visible marker; one that cannot get even a little
    room is left out. Each cut or omission gets a note for the user."""
    parts: list[str] = []
    notes: list[str] = []
    remaining = max_chars
    for doc in docs:
        text = doc.text.strip()
        heading = f"### {doc.path} (applies to: {doc.scope})\n"
        separator = "\n\n" if parts else ""
        full = separator + heading + text
        if len(full) <= remaining:
            parts.append(full)
            remaining -= len(full)
            continue
        marker = "\n" + TRUNCATION_MARKER.format(shown=len(text), total=len(text))  # longest the marker gets
        room = remaining - len(separator) - len(heading) - len(marker)
        if room < min(200, len(text)):
            notes.append(f"{doc.path} left out: the standards budget of {max_chars:,} characters was used up.")
            remaining = 0
            continue
        shown = _cut(text, room)
        marker = "\n" + TRUNCATION_MARKER.format(shown=len(shown), total=len(text))
        parts.append(separator + heading + shown + marker)
        notes.append(f"{doc.path} truncated to {len(shown):,} of {len(text):,} characters.")
        remaining = 0
    return "".join(parts), notes


def _cut(text: str, room: int) -> str:
    """The longest prefix of `text` within `room`, ending at a line break when that keeps most of it."""
    prefix = text[:room]
    newline = prefix.rfind("\n")
    if newline >= room // 2:
        prefix = prefix[:newline]
    return prefix.rstrip()


def _explicit_docs(source: FileSource, explicit: Sequence[str]) -> list[StandardsDoc]:
    docs = []
    seen: set[str] = set()
    for raw in explicit:
        try:
            path = relative_repo_path(raw, "standards file (setting 'standards')")
        except RepoFileRefused as err:
            refuse(source, err)  # the hook goes on without it; diff, ci and baseline stop here
            continue
        if path in seen:  # a list naming one big file ten thousand times reads it once
            continue
        seen.add(path)
        text = source.read_text(path, what="standards file (setting 'standards')")
        if text is None and path in getattr(source, "refused", ()):
            continue  # refused and already reported
        if text is None:
            raise ConfigError(
                f"The standards file '{shown(raw)}' listed in the configuration does not exist in the {source.label} "
                f"(or was refused); fix the 'standards' setting."
            )
        docs.append(StandardsDoc(path, text, "all files (listed in configuration)"))
    return _dedupe(docs)


def _scoped_rule(path: str, text: str, problems: list[str] | None) -> StandardsDoc | None:
    try:
        meta, body = split_front_matter(text, path=path)
    except ConfigError as err:
        if problems is not None:
            problems.append(f"{err} The rules file was skipped.")
        return None
    meta = meta or {}
    if path.endswith(CURSOR_RULES_SUFFIX):
        if _is_true(meta.get("alwaysApply")):
            return StandardsDoc(path, body, "all files (alwaysApply)")
        globs = _glob_list(meta.get("globs"))
        key = "globs"
    else:
        globs = _glob_list(meta.get("applyTo"))
        key = "applyTo"
    if not globs:
        return None
    for pattern in globs:
        problem = glob_problem(pattern)
        if problem:
            if problems is not None:
                problems.append(f"{shown(path)}: the {key} glob '{shown(pattern)}' is not valid ({problem}); the "
                                f"rules file was skipped (fix the glob)")
            return None
    return StandardsDoc(path, body, f"{key}: {', '.join(globs)}", globs=globs)


def _glob_list(value: Any) -> tuple[str, ...]:
    """`"a,b"`, `["a", "b"]` or `"a"` as a tuple of patterns; commas inside `{...}` do not split."""
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        if isinstance(item, str):
            patterns = (p.strip().strip("'\"").strip() for p in _split_commas(item))
            out.extend(p for p in patterns if p)
    return tuple(out)


def _split_commas(text: str) -> list[str]:
    """Split on commas that are not inside `{...}`; empty pieces are kept (`{,.min}` means "" or ".min")."""
    pieces, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth = max(0, depth - 1)
        elif ch == "," and depth == 0:
            pieces.append(text[start:i])
            start = i + 1
    pieces.append(text[start:])
    return pieces


def _is_true(value: Any) -> bool:
    # Lenient front matter (see frontmatter.py) can turn `alwaysApply: true` into the string "true".
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _read(source: FileSource, path: str) -> str:
    return source.read_text(path) or ""


def _dedupe(docs: Iterable[StandardsDoc]) -> list[StandardsDoc]:
    """Drop repeated paths and repeated texts (CLAUDE.md is often a symlink to, or copy of, AGENTS.md)."""
    seen_paths: set[str] = set()
    seen_texts: set[str] = set()
    out = []
    for doc in docs:
        key = doc.text.strip()
        if doc.path in seen_paths or key in seen_texts:
            continue
        seen_paths.add(doc.path)
        seen_texts.add(key)
        out.append(doc)
    return out


def _normalise(path: str) -> str:
    path = path.replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return posixpath.normpath(path) if path else path


def _ancestors(path: str) -> Iterable[str]:
    """Every proper folder above `path`, excluding the root: "a/b/c.py" -> "a/b", "a"."""
    parts = path.split("/")[:-1]
    for i in range(len(parts), 0, -1):
        yield "/".join(parts[:i])


def _glob_match(pattern: str, path: str) -> bool:
    """gitignore-like matching of a repository-relative POSIX path (see the module docstring)."""
    regex = _compile_glob(pattern.strip())
    if regex is None:
        return False
    # As in gitignore, a pattern that matches a folder matches everything inside it.
    candidates = [path, *_ancestors(path)]
    return any(regex.fullmatch(c) for c in candidates)


# Globs come from repositories and are matched with regular expressions, whose backtracking grows as a power of
# the number of wildcards: `*a*a*a*a*a*a*b` against a long name, or eight `**` segments against a deep path, takes
# seconds to minutes. Real globs use one or two of each; more is refused (see glob_problem).
MAX_GLOB_CHARS = 512
MAX_STARS_PER_SEGMENT = 2
MAX_DOUBLE_STARS = 3
MAX_BRACE_GROUPS = 4


def glob_problem(pattern: str) -> str | None:
    """Why `pattern` cannot be used as a glob (a regex error, or more wildcards than MAX_* above), or None."""
    if len(pattern) > MAX_GLOB_CHARS:
        return f"longer than {MAX_GLOB_CHARS} characters"
    segments = pattern.replace("\\", "/").split("/")
    if sum(1 for s in segments if "**" in s) > MAX_DOUBLE_STARS:
        return f"more than {MAX_DOUBLE_STARS} '**' parts"
    if any(len(re.findall(r"\*+", s)) > MAX_STARS_PER_SEGMENT for s in segments if "**" not in s):
        return f"more than {MAX_STARS_PER_SEGMENT} '*' in one path segment"
    if pattern.count("{") > MAX_BRACE_GROUPS:
        return f"more than {MAX_BRACE_GROUPS} '{{...}}' groups"
    try:
        _compile_glob_checked(pattern.strip())
    except re.error as exc:
        return str(exc)
    except RecursionError:
        return "nested too deeply"
    return None


_NEVER = re.compile(r"(?!)")


@lru_cache(maxsize=512)
def _compile_glob(pattern: str) -> re.Pattern[str] | None:
    try:
        return _compile_glob_checked(pattern)
    except (re.error, RecursionError):
        return _NEVER  # an unusable glob matches nothing; _scoped_rule reports it


def _compile_glob_checked(pattern: str) -> re.Pattern[str] | None:
    pattern = pattern.rstrip("/")
    if not pattern:
        return None
    anchored = "/" in pattern
    pattern = pattern.lstrip("/")
    body = _glob_to_regex(pattern)
    return re.compile(body if anchored else "(?:.*/)?" + body)


def _glob_to_regex(pattern: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif ch == "*":
            out.append("[^/]*")
            i += 1
        elif ch == "?":
            out.append("[^/]")
            i += 1
        elif ch == "[":
            end = pattern.find("]", i + 2)
            if end == -1:
                out.append(re.escape(ch))
                i += 1
            else:
                inner = pattern[i + 1 : end]
                if inner.startswith("!"):
                    inner = "^" + inner[1:]
                out.append("[" + inner.replace("\\", "\\\\") + "]")
                i = end + 1
        elif ch == "{":
            end = _closing_brace(pattern, i)
            if end == -1:
                out.append(re.escape(ch))
                i += 1
            else:
                options = _split_commas(pattern[i + 1 : end])
                out.append("(?:" + "|".join(_glob_to_regex(o) for o in options) + ")")
                i = end + 1
        else:
            out.append(re.escape(ch))
            i += 1
    return "".join(out)


def _closing_brace(pattern: str, start: int) -> int:
    depth = 0
    for i in range(start, len(pattern)):
        if pattern[i] == "{":
            depth += 1
        elif pattern[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    return -1
