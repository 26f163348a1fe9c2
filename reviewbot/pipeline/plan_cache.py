"""Remember whole plans, so an unchanged rerun skips the skip list, the secret scan, chunking and prompt building.

`planning.plan` is a pure function of its inputs: the diff, the settings, the agents (name, persona, chosen model),
the standards files it reads, and the code that computes it. The key covers each of them:

- the diff: the sha256 of the diff text it was parsed from (`diffparse.ParsedFiles.source_digest`); a Diff built
  any other way has no digest and is planned as usual. The first lines of files read from the reviewed side for
  the generated-file check are covered too: the diff's `index` lines name the new side's blobs;
- every setting (all of `Settings.values`, not only those the plan reads today);
- each agent's name, persona and model, in order;
- the path and text of every standards file the source holds (`standards.standards_sources`, a superset of the
  files discovery reads), or of the listed ones;
- the source text of each reviewbot module the plan runs (PLAN_MODULES; tests/pipeline/test_plan_cache.py checks that
  plan runs no other reviewbot code), the installed versions of the libraries that shape it (PLAN_LIBRARIES), the
  Python version, and this module's format number.

The stored value is the Plan, pickled. The diff's own objects are not stored: the Diff, its FileDiffs and their
Hunks are written as references (index numbers) and bound to the current run's objects when read, so a stored plan
costs little more than its messages, and what comes back shares objects with the diff exactly as a fresh plan
does. Reading accepts only the plan's own classes (a pickle naming anything else is refused, not run), and any
damaged or unreadable entry is a miss: the plan is then computed as usual.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import pickle
import sys
import zlib
from collections.abc import Callable, Sequence
from importlib.machinery import PathFinder
from pathlib import Path
from typing import TYPE_CHECKING

from reviewbot.core.models import Diff

if TYPE_CHECKING:
    from reviewbot.adapters.repository_files import FileSource
    from reviewbot.adapters.result_cache import ResultCache
    from reviewbot.config import Settings
    from reviewbot.pipeline.plan_records import Plan
    from reviewbot.rules.agents import Agent

PLAN_CACHE_FORMAT = "1"
# Every reviewbot module whose code runs inside planning.plan, by import name.
PLAN_MODULES = (
    "reviewbot.pipeline.planning",
    "reviewbot.pipeline.plan_records",
    "reviewbot.pipeline.prompt",
    "reviewbot.pipeline.chunking",
    "reviewbot.pipeline.tokens",
    "reviewbot.rules.standards",
    "reviewbot.rules.frontmatter",
    "reviewbot.secrets",
    "reviewbot.secrets.detectors",
    "reviewbot.secrets.literals",
    "reviewbot.secrets.local_findings",
    "reviewbot.secrets.records",
    "reviewbot.secrets.redaction",
    "reviewbot.secrets.scanning",
    "reviewbot.secrets.sensitive_files",
    "reviewbot.pipeline.skip",
    "reviewbot.core.models",
    "reviewbot.adapters.diff_parser",
    "reviewbot.pipeline.plan_cache",
    "reviewbot.pipeline.budget",
    "reviewbot.pipeline.context",
    "reviewbot.pipeline.code_outline",
    "reviewbot.adapters.reviewed_tree",
    "reviewbot.adapters.reviewed_side",
)
# (import name, distribution name) of the libraries that can change a plan: the diff parser, the secret detectors
# and the YAML reader of rules files.
PLAN_LIBRARIES = (("unidiff", "unidiff"), ("detect_secrets", "detect_secrets"), ("yaml", "pyyaml"),
                  ("tree_sitter", "tree_sitter"), ("tree_sitter_go", "tree_sitter_go"),
                  ("tree_sitter_javascript", "tree_sitter_javascript"),
                  ("tree_sitter_typescript", "tree_sitter_typescript"))

# The classes a stored plan is made of; nothing else may be named in one.
_PLAN_CLASSES = frozenset({
    ("reviewbot.core.models", "FindingSource"),
    ("reviewbot.pipeline.plan_records", "Plan"), ("reviewbot.pipeline.plan_records", "PlannedRequest"),
    ("reviewbot.pipeline.prompt", "PromptParts"),
    ("reviewbot.core.models", "Chunk"), ("reviewbot.core.models", "FileDiff"), ("reviewbot.core.models", "Hunk"),
    ("reviewbot.core.models", "Line"), ("reviewbot.core.models", "Skipped"), ("reviewbot.core.models", "Finding"),
    ("reviewbot.core.models", "Severity"), ("reviewbot.core.models", "Coverage"),
})


def plan_key(
    diff: Diff,
    settings: Settings,
    *,
    agents: Sequence[Agent],
    source: FileSource,
    model_for: Callable[[Agent], str],
) -> str | None:
    """The cache key of the plan these inputs give, or None when they cannot be named cheaply and exactly."""
    from reviewbot.adapters.result_cache import cache_key
    from reviewbot.pipeline.budget import request_budget
    from reviewbot.rules.standards import standards_sources

    digest = getattr(diff.files, "source_digest", None)
    code = code_stamp()
    if not isinstance(digest, str) or code is None:
        return None
    return cache_key(
        "plan", PLAN_CACHE_FORMAT, sys.version, code, digest,
        json.dumps(dict(settings.values), sort_keys=True, ensure_ascii=False, default=repr),
        # The budget depends on where max_request_tokens came from, which settings.values does not say.
        json.dumps([[a.name, a.persona, model_for(a), request_budget(settings, model_for(a))] for a in agents],
                   ensure_ascii=False),
        json.dumps(standards_sources(source, explicit=settings.standards), ensure_ascii=False),
    )


def code_stamp() -> str | None:
    """The source of every module in PLAN_MODULES and the version of every library in PLAN_LIBRARIES, as one
    string for a key; None when a module's source cannot be read (then plans are not cached)."""
    from reviewbot.adapters.result_cache import cache_key

    parts = []
    for name in PLAN_MODULES:
        try:
            parts.append(module_file(name).read_text(encoding="utf-8", errors="surrogateescape"))
        except OSError:
            return None
    parts.extend(_library_stamp(module, dist) for module, dist in PLAN_LIBRARIES)
    return cache_key(*parts)


def module_file(name: str) -> Path:
    """The source file of one of our modules, by import name, without running it (only its parent packages, which
    hold no code, are imported); OSError when there is none."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.origin:
        raise OSError(f"no source for {name}")
    return Path(spec.origin)


def _library_stamp(module: str, dist: str) -> str:
    """Which installed copy of a library is used, found without importing it: the name of its .dist-info folder
    (it holds the version), or the size and modification time of its entry file when there is none."""
    spec = PathFinder.find_spec(module)
    origin = spec.origin if spec is not None else None
    if not origin:
        return f"{module}: absent"
    entry = Path(origin)
    site = entry.parent.parent if entry.name == "__init__.py" else entry.parent
    try:
        names = sorted(n for n in os.listdir(site)
                       if n.endswith(".dist-info") and n.split("-", 1)[0].lower().replace("-", "_") == dist)
        if names:
            return f"{module}: {names}"
        stat = entry.stat()
        return f"{module}: {origin} {stat.st_size} {stat.st_mtime_ns}"
    except OSError:
        return f"{module}: {origin} unreadable"


def load(cache: ResultCache, key: str, diff: Diff) -> Plan | None:
    """The stored plan for `key`, bound to `diff` (the current run's, whose digest is in the key); None on a miss."""
    from reviewbot.pipeline.plan_records import Plan, PlannedRequest

    blob = cache.get_blob(key)
    if blob is None:
        return None
    try:
        plan = _PlanUnpickler(io.BytesIO(zlib.decompress(blob)), diff).load()
    except Exception:  # a damaged, foreign or refused entry: plan as usual
        return None
    if not isinstance(plan, Plan) or plan.diff is not diff:
        return None
    if not isinstance(plan.requests, tuple) or not all(isinstance(r, PlannedRequest) for r in plan.requests):
        return None
    return plan


def store(cache: ResultCache, key: str, plan: Plan) -> None:
    buffer = io.BytesIO()
    _PlanPickler(buffer, plan.diff).dump(plan)
    cache.put_blob(key, zlib.compress(buffer.getvalue(), 1))


class _PlanPickler(pickle.Pickler):
    """Writes the diff, its files and their hunks as references instead of copies."""

    def __init__(self, file: io.BytesIO, diff: Diff) -> None:
        super().__init__(file, protocol=5)
        # Keyed by identity: these objects stay alive while the plan is written, so no id is reused meanwhile.
        self._refs: dict[int, tuple[str | int, ...]] = {id(diff): ("diff",)}
        for i, f in enumerate(diff.files):
            self._refs[id(f)] = ("file", i)
            for j, hunk in enumerate(f.hunks):
                self._refs[id(hunk)] = ("hunk", i, j)

    def persistent_id(self, obj: object) -> tuple[str | int, ...] | None:
        return self._refs.get(id(obj))


class _PlanUnpickler(pickle.Unpickler):
    """Reads a stored plan: references resolve to the current diff's objects; only plan classes may be named."""

    def __init__(self, file: io.BytesIO, diff: Diff) -> None:
        super().__init__(file)
        self._diff = diff

    def persistent_load(self, pid: object) -> object:
        if pid == ("diff",):
            return self._diff
        if isinstance(pid, tuple) and len(pid) in (2, 3) and all(type(n) is int and n >= 0 for n in pid[1:]):
            if pid[0] == "file" and len(pid) == 2:
                return self._diff.files[pid[1]]
            if pid[0] == "hunk" and len(pid) == 3:
                return self._diff.files[pid[1]].hunks[pid[2]]
        raise pickle.UnpicklingError(f"unknown reference {pid!r}")

    def find_class(self, module: str, name: str) -> type:
        if (module, name) not in _PLAN_CLASSES:
            raise pickle.UnpicklingError(f"{module}.{name} is not part of a plan")
        found: type = super().find_class(module, name)  # typed Any; every class in _PLAN_CLASSES is a type
        return found
