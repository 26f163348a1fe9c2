"""Context beyond the diff: the code a chunk's changed lines depend on, chosen within a token budget.

For every changed file, at the reviewed revision (reviewbot/adapters/reviewed_tree.py), the candidates are, by rank:

  0  the enclosing definition of each change: in full when it is short, else its signature and the lines around
     the change (and the header of an enclosing class);
  1  definitions of names the changed lines use that are imported from elsewhere in the repository (imports
     followed to repository files), or, for Go, defined in the same package;
  2  definitions in the same file that the changed lines use;
  3  call sites of the functions the change alters (nearest first: same file, same folder, then the rest);
  4  definitions found by searching the repository for names the changed lines use that nothing above resolved;
  5  the changed file's short module-level state: variables holding a client, a cache, a lock, a dict (not
     constants of literal values).

Definitions come as signature plus body when the body is short, else signature plus its first lines. Lines the diff
already shows are never repeated, overlapping candidates are merged, and a candidate already sent with an earlier
chunk of the same agent is not sent again. Candidates are taken in rank order (then in the order the changed
lines use them) while they fit the budget: `context_budget` (a share of max_request_tokens), never more than the
request has room for. The rendered text is redacted like everything else sent.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reviewbot.pipeline.code_outline import (
    VALUES,
    Definition,
    Outline,
    is_interesting,
    language_of,
    names_a_module,
    outline,
    references,
    resolve_module,
)
from reviewbot.pipeline.tokens import estimate_tokens

if TYPE_CHECKING:
    from reviewbot.adapters.reviewed_tree import ReviewedTree
    from reviewbot.core.models import Chunk, FileDiff

FULL_ENCLOSING_LINES = 60  # an enclosing definition up to this long is shown whole
WINDOW_LINES = 8  # else: lines shown on each side of a change inside it
FULL_DEFINITION_LINES = 30  # a used definition up to this long is shown whole, else signature + first lines
DEFINITION_HEAD_LINES = 6
CALLER_LINES = 4  # lines around a call site
MAX_CALLERS = 6  # per changed function
MAX_SEARCHED_NAMES = 12  # names looked up by a repository search, per file
MAX_SEARCHED_FILES = 12
MAX_MODULE_NAMES = 12
FALLBACK_WINDOW = 12
MAX_PARSED_CHARS = 1_000_000  # lines around a change in a file no parser reads


@dataclass(frozen=True, slots=True)
class Piece:
    """Lines start..end of a file at the reviewed revision, and why they are worth showing."""

    path: str
    start: int
    end: int
    rank: int
    why: str
    anchor: int = 0  # the line the piece is about (a call site); skipped when the diff already shows it


class ContextBuilder:
    """Chooses and renders context for the chunks of one plan."""

    def __init__(self, tree: ReviewedTree, *, share: float, max_request_tokens: int,
                 excluded: Callable[[str], bool] | None = None) -> None:
        self.tree = tree
        self.budget = int(share * max_request_tokens)
        self._excluded = excluded or (lambda path: False)
        self._outlines: dict[str, Outline] = {}
        self._candidates: dict[str, list[Piece]] = {}
        self._sent: dict[str, set[tuple[str, int]]] = {}  # agent -> lines already sent with its earlier chunks

    # -- public ---------------------------------------------------------------------------------------------
    def for_chunk(self, chunk: Chunk, *, room_tokens: int, agent: str = "") -> str:
        """The context text for one chunk (unredacted, unfenced), or "" when there is none or no room."""
        budget = min(self.budget, room_tokens)
        if budget <= 0:
            return ""
        shown: dict[str, set[int]] = {}
        for f in chunk.files:
            shown.setdefault(f.path, set()).update(
                ln.new_no for h in f.hunks for ln in h.lines if ln.kind != "-" and ln.new_no)
        candidates: list[Piece] = []
        for f in chunk.files:
            candidates.extend(self.candidates(f))
        candidates.sort(key=lambda p: p.rank)  # stable: keeps each rank's own order
        sent = self._sent.setdefault(agent, set())
        chosen: dict[str, dict[int, None]] = {}
        reasons: dict[str, list[str]] = {}
        used = 0
        for piece in candidates:
            text = self._lines(piece.path)
            if text is None or piece.anchor in shown.get(piece.path, ()):
                continue
            new = [n for n in range(piece.start, min(piece.end, len(text)) + 1)
                   if n not in shown.get(piece.path, ()) and (piece.path, n) not in sent
                   and n not in chosen.get(piece.path, {})]
            if not new:
                continue
            cost = sum(estimate_tokens(text[n - 1]) + 2 for n in new) + (
                0 if piece.path in chosen else estimate_tokens(piece.path) + 12) + estimate_tokens(piece.why) + 2
            if used + cost > budget:
                continue
            used += cost
            lines = chosen.setdefault(piece.path, {})
            for n in new:
                lines[n] = None
            reasons.setdefault(piece.path, [])
            if piece.why not in reasons[piece.path]:
                reasons[piece.path].append(piece.why)
        if not chosen:
            return ""
        for path, lines in chosen.items():
            sent.update((path, n) for n in lines)
        return "\n\n".join(self._render(path, sorted(lines), reasons[path]) for path, lines in chosen.items())

    def candidates(self, f: FileDiff) -> list[Piece]:
        if f.path not in self._candidates:
            self._candidates[f.path] = self._find(f) if self.tree.is_file(f.path) else []
        return self._candidates[f.path]

    # -- finding candidates -----------------------------------------------------------------------------------
    def _outline(self, path: str) -> Outline:
        if path not in self._outlines:
            text = self.tree.read(path)
            if text is not None and len(text) <= MAX_PARSED_CHARS:  # generated or minified giants: no
                self._outlines[path] = outline(path, text)
            else:
                self._outlines[path] = Outline("text")
        return self._outlines[path]

    def _lines(self, path: str) -> list[str] | None:
        if self._excluded(path):
            return None
        text = self.tree.read(path)
        return text.splitlines() if text is not None else None

    def _find(self, f: FileDiff) -> list[Piece]:
        text = self.tree.read(f.path)
        if text is None:
            return []
        added = {ln.new_no for h in f.hunks for ln in h.lines if ln.kind == "+" and ln.new_no}
        changed = set(added) | set(_removal_points(f))
        here = self._outline(f.path)
        if not here.parsed:
            return [Piece(f.path, max(1, n - FALLBACK_WINDOW), n + FALLBACK_WINDOW, 0, "around the change")
                    for n in sorted(_group_starts(changed))]
        pieces = self._enclosing(f.path, here, changed)
        enclosing = {d for d in here.definitions if _innermost(here, d, changed)}
        pieces += self._used_definitions(f.path, text, here, added, enclosing)
        pieces += self._callers(f.path, here, enclosing)
        pieces += self._module_state(f.path, here)
        return pieces

    def _module_state(self, path: str, here: Outline) -> list[Piece]:
        """The file's short module-level assignments: shared clients, caches, locks and limits the change may
        be expected to use (or to use safely)."""
        state = [d for d in here.definitions if d.kind == "variable" and not d.parent and d.end - d.start < 3]
        return [Piece(path, d.start, d.end, 5, "module-level names") for d in state[:MAX_MODULE_NAMES]]

    def _enclosing(self, path: str, here: Outline, changed: set[int]) -> list[Piece]:
        out = []
        for d in sorted(here.definitions, key=lambda d: (d.start, -d.end)):
            inside = sorted(n for n in changed if d.start <= n <= d.end)
            if not inside or d.kind in VALUES:
                continue
            innermost = _innermost(here, d, changed)
            label = f"enclosing {d.kind} {_qualified(d)}"
            if not innermost:  # an outer class: its header says what the method belongs to
                out.append(Piece(path, d.start, d.sig_end, 0, label))
            elif d.end - d.start + 1 <= FULL_ENCLOSING_LINES:
                out.append(Piece(path, d.start, d.end, 0, label))
            else:
                out.append(Piece(path, d.start, d.sig_end, 0, label))
                for n in _group_starts(inside, gap=WINDOW_LINES * 2):
                    last = max(m for m in inside if n <= m <= n + WINDOW_LINES * 4)
                    out.append(Piece(path, max(d.start, n - WINDOW_LINES), min(d.end, last + WINDOW_LINES), 0,
                                     label))
        return out

    def _used_definitions(self, path: str, text: str, here: Outline, added: set[int],
                          enclosing: set[Definition]) -> list[Piece]:
        files = self.tree.files()
        imported: list[Piece] = []
        local: list[Piece] = []
        unresolved: list[str] = []
        resolved: set[str] = set()
        for qualifier, name in references(path, text, added):
            if not is_interesting(name) or name in resolved:
                continue
            where = _FirstUse(text, name, added, path)
            targets: list[tuple[str, str]] = []  # (file, definition name)
            if qualifier and qualifier in here.imports:
                imp = here.imports[qualifier]
                targets = [(m, name) for m in resolve_module(imp, path, files, self._folders())]
            elif not qualifier and name in here.imports:
                imp = here.imports[name]
                if imp.name and imp.name != "default" and not names_a_module(imp, path, files):
                    targets = [(m, imp.name) for m in resolve_module(imp, path, files, self._folders())]
                else:
                    resolved.add(name)
                    continue  # a module (its attributes are looked up where they are used)
            found = False
            for module, wanted in targets:
                for d in self._outline(module).definitions:
                    if d.name == wanted:
                        imported.append(self._definition_piece(module, d, 1, f"definition of {_qualified(d)}, {where}"))
                        found = True
            if not found:
                for d in here.definitions:
                    if d.name == name and d not in enclosing and not any(
                            e.start <= d.start and d.end <= e.end for e in enclosing):
                        local.append(self._definition_piece(path, d, 2, f"definition of {_qualified(d)}, {where}"))
                        found = True
            if not found and here.language == "go":
                for other in sorted(p for p in files if posixpath.dirname(p) == posixpath.dirname(path)
                                    and p.endswith(".go") and p != path):
                    for d in self._outline(other).definitions:
                        if d.name == name and (not qualifier or d.parent):
                            imported.append(self._definition_piece(other, d, 1,
                                                                    f"definition of {_qualified(d)}, {where}"))
                            found = True
            if found:
                resolved.add(name)
            elif name not in unresolved and not (qualifier == "" and name in here.imports):
                unresolved.append(name)
        searched = self._search_definitions(path, [n for n in unresolved if n not in resolved][:MAX_SEARCHED_NAMES],
                                            text, added)
        return imported + local + searched

    def _search_definitions(self, path: str, names: list[str], text: str, added: set[int]) -> list[Piece]:
        if not names:
            return []
        hit_files: list[str] = []
        for hit in self.tree.grep(names):
            if hit.path not in hit_files and hit.path != path and language_of(hit.path):
                hit_files.append(hit.path)
        hit_files.sort(key=lambda p: _distance(path, p))
        out = []
        wanted = set(names)
        for other in hit_files[:MAX_SEARCHED_FILES]:
            for d in self._outline(other).definitions:
                if d.name in wanted:
                    out.append(self._definition_piece(
                        other, d, 4, f"definition of {_qualified(d)}, {_FirstUse(text, d.name, added, path)}"))
        return out

    def _callers(self, path: str, here: Outline, enclosing: set[Definition]) -> list[Piece]:
        changed = [d for d in enclosing if d.kind in ("function", "method") and is_interesting(d.name)]
        if not changed:
            return []
        hits = [h for h in self.tree.grep(sorted({d.name for d in changed})) if language_of(h.path)]  # code only
        out: list[Piece] = []
        for d in sorted(changed, key=lambda d: d.start):
            calls = [h for h in hits if re.search(rf"\b{re.escape(d.name)}\b", h.text)
                     and not (h.path == path and d.start <= h.line <= d.end)]
            # Nearest first; tests after the code that calls the function for real.
            calls.sort(key=lambda h: (_is_test(h.path), _distance(path, h.path), h.path, abs(h.line - d.start)))
            taken = 0
            for hit in calls:
                if taken >= MAX_CALLERS:
                    break
                caller = self._outline(hit.path)
                if any(c.name == d.name and c.start <= hit.line <= c.sig_end for c in caller.definitions):
                    continue  # another definition of the same name, not a call
                inner = [c for c in caller.definitions if c.start <= hit.line <= c.end and c.kind not in VALUES]
                label = f"call of {_qualified(d)} at {hit.path}:{hit.line}"
                if inner:
                    c = min(inner, key=lambda c: c.end - c.start)
                    if c.end - c.start + 1 <= FULL_DEFINITION_LINES:
                        out.append(Piece(hit.path, c.start, c.end, 3, label, hit.line))
                    else:
                        out.append(Piece(hit.path, c.start, c.sig_end, 3, label, hit.line))
                        out.append(Piece(hit.path, max(c.start, hit.line - CALLER_LINES),
                                         min(c.end, hit.line + CALLER_LINES), 3, label, hit.line))
                else:
                    out.append(Piece(hit.path, max(1, hit.line - CALLER_LINES), hit.line + CALLER_LINES, 3, label,
                                     hit.line))
                taken += 1
        return out

    def _definition_piece(self, path: str, d: Definition, rank: int, why: str) -> Piece:
        if d.end - d.start + 1 <= FULL_DEFINITION_LINES:
            return Piece(path, d.start, d.end, rank, why)
        return Piece(path, d.start, min(d.end, d.sig_end + DEFINITION_HEAD_LINES), rank, why)

    def _folders(self) -> set[str]:
        if not hasattr(self, "_folder_set"):
            self._folder_set = self.tree.folders()
        return self._folder_set

    # -- rendering ----------------------------------------------------------------------------------------------
    def _render(self, path: str, lines: list[int], reasons: list[str]) -> str:
        from reviewbot.pipeline.prompt import inline

        text = self._lines(path) or []
        width = len(str(lines[-1]))
        out = [f"## Context: {inline(path)}", *(f"# {inline(r)}" for r in reasons)]
        previous = None
        for n in lines:
            if previous is not None and n != previous + 1:
                out.append(" " * width + " | ...")
            out.append(f"{n:>{width}} | {text[n - 1]}")
            previous = n
        return "\n".join(out)


def _removal_points(f: FileDiff) -> Iterable[int]:
    """Where removed lines were, as new-file line numbers (the line that now follows them)."""
    for h in f.hunks:
        next_new = h.new_start
        pending = False
        for ln in h.lines:
            if ln.kind == "-":
                pending = True
            else:
                if pending:
                    yield ln.new_no or next_new
                    pending = False
                next_new = (ln.new_no or next_new) + 1
        if pending:
            yield max(1, next_new - 1)


def _group_starts(lines: Iterable[int], gap: int = FALLBACK_WINDOW) -> list[int]:
    starts, last = [], None
    for n in sorted(lines):
        if last is None or n - last > gap:
            starts.append(n)
        last = n
    return starts


def _innermost(here: Outline, d: Definition, changed: set[int]) -> bool:
    """Whether `d` holds a changed line that no definition nested in it holds."""
    inside = {n for n in changed if d.start <= n <= d.end}
    for other in here.definitions:
        if other is not d and other.kind not in VALUES and d.start <= other.start and other.end <= d.end and (
                other.start, other.end) != (d.start, d.end):
            inside -= {n for n in inside if other.start <= n <= other.end}
    return bool(inside) and d.kind not in VALUES


def _qualified(d: Definition) -> str:
    return f"{d.parent}.{d.name}" if d.parent else d.name


class _FirstUse:
    """'used at path:line', worked out only when a label is made (most references resolve to nothing)."""

    def __init__(self, text: str, name: str, added: set[int], path: str) -> None:
        self.text, self.name, self.added, self.path = text, name, added, path

    def __str__(self) -> str:
        lines = self.text.splitlines()
        pattern = re.compile(rf"\b{re.escape(self.name)}\b")
        line = next((n for n in sorted(self.added) if 0 < n <= len(lines) and pattern.search(lines[n - 1])),
                    min(self.added, default=1))
        return f"used at {self.path}:{line}"


def _is_test(path: str) -> bool:
    name = posixpath.basename(path)
    return ("test" in path.split("/")[:-1] or "tests" in path.split("/")[:-1] or name.startswith("test_")
            or name.endswith(("_test.py", "_test.go", ".test.ts", ".test.js", ".spec.ts", ".spec.js")))


def _distance(origin: str, other: str) -> int:
    """How far apart two files are in the folder tree (0 same file, 1 same folder, ...)."""
    if origin == other:
        return 0
    a, b = origin.split("/")[:-1], other.split("/")[:-1]
    common = 0
    for x, y in zip(a, b):
        if x != y:
            break
        common += 1
    return 1 + (len(a) - common) + (len(b) - common)


# -- measuring ------------------------------------------------------------------------------------------------------

_FILE_HEADER = re.compile(r"^## (File|Context): (.*?)(?: \((?:renamed from .*|new file)\))?$")
_DIFF_LINE = re.compile(r"^\s*(\d+) [+ ] ")
_CONTEXT_LINE = re.compile(r"^\s*(\d+) \| ")


def lines_shown(messages: Sequence[Mapping[str, object]]) -> set[tuple[str, int]]:
    """(path, new-file line) of every line a request shows: the diff's added and unchanged lines, and context."""
    shown: set[tuple[str, int]] = set()
    for m in messages:
        path, kind = None, None
        for line in str(m.get("content", "")).splitlines():
            header = _FILE_HEADER.match(line)
            if header:
                kind, path = header.group(1), header.group(2)
                continue
            if line.startswith("<<<DATA-") or (line.startswith("DATA-") and line.endswith(">>>")):
                path = None  # a fence opens or closes: only file sections inside count
                continue
            if path is None:
                continue
            match = (_DIFF_LINE if kind == "File" else _CONTEXT_LINE).match(line)
            if match:
                shown.add((path, int(match.group(1))))
    return shown
