"""Where repository files (config, agents, standards) are read from: the work tree, or a git revision.

In CI the rules come from the base revision so that a pull request cannot loosen its own check; the same
discovery code then reads through a RevisionSource instead of a WorktreeSource.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Protocol


class FileSource(Protocol):
    """Read-only view of a repository's files, by repository-relative POSIX path."""

    label: str  # e.g. "work tree" or "base revision 1a2b3c4"

    def read_text(self, path: str) -> str | None:
        """The file's text (undecodable bytes replaced), or None when it does not exist."""

    def list_files(self) -> Iterable[str]:
        """Every file path in the source, repository-relative, '/'-separated."""


class WorktreeSource:
    """Files as they are on disk under the repository root (ignored and untracked ones included only if read)."""

    def __init__(self, root: Path, files: Iterable[str] | None = None) -> None:
        self.root = root
        self.label = "work tree"
        self._files = None if files is None else tuple(files)

    def read_text(self, path: str) -> str | None:
        target = self.root / path
        try:
            if not target.is_file():
                return None
            return target.read_bytes().decode("utf-8", errors="replace")
        except OSError:
            return None

    def list_files(self) -> Iterable[str]:
        if self._files is not None:
            return self._files
        # Fallback for a plain folder (tests, eval cases): walk it, skipping .git.
        out = []
        for p in sorted(self.root.rglob("*")):
            rel = p.relative_to(self.root).as_posix()
            if p.is_file() and not rel.startswith(".git/"):
                out.append(rel)
        return out


class MemorySource:
    """A dict of path -> text; used by tests and by eval cases."""

    def __init__(self, files: dict[str, str], label: str = "memory") -> None:
        self.files = dict(files)
        self.label = label

    def read_text(self, path: str) -> str | None:
        return self.files.get(path)

    def list_files(self) -> Iterable[str]:
        return sorted(self.files)
