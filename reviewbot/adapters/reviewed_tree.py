"""The repository as it is on the reviewed side: list, read and search its files, nothing else.

Context and tool look-ups must show the code the change will live in, not whatever happens to be on disk: the index
for `--staged` (and the hook), B for `A..B` or `A B` (and `ci`, which reviews merge-base..head), and the work tree only
when the work tree is what is reviewed (`reviewbot diff` with no revision, or one revision against the work tree).

Only regular files the side tracks are reachable (no symlinks, no submodules, nothing untracked), as the side's
one listing (reviewbot/adapters/reviewed_side.py) names them; commits and the index are read as git blobs, the work
tree through the package's work-tree reader, by listed path only. Paths a caller passes in are checked against the
listing, so `../x`, `/etc/passwd` or a link's target cannot be named.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reviewbot.adapters.reviewed_side import REGULAR_MODES
from reviewbot.core.errors import GitError
from reviewbot.core.models import SideKind

if TYPE_CHECKING:
    from reviewbot.adapters.reviewed_side import SideListing


@dataclass(frozen=True, slots=True)
class GrepHit:
    path: str
    line: int
    text: str


class ReviewedTree:
    """Read-only view of the reviewed side's tracked regular files (the index's for the work tree)."""

    def __init__(self, listing: SideListing) -> None:
        self.listing = listing
        self.repo = listing.repo
        self.kind = listing.side.kind
        self.label = {SideKind.INDEX: "index", SideKind.WORKTREE: "work tree"}.get(
            self.kind, f"commit {listing.commit[:12]}")
        self._files: dict[str, str] | None = None
        self._texts: dict[str, str | None] = {}

    def files(self) -> dict[str, str]:
        """Tracked regular files: path -> blob id (at the index or commit; for the work tree, the index's)."""
        if self._files is None:
            self._files = {path: entry.blob for path, entry in self.listing.entries().items()
                           if entry.mode in REGULAR_MODES and entry.stage == 0}
        return self._files

    def stamp(self) -> str:
        """Names every file's content at the reviewed state, for cache keys."""
        where = {SideKind.INDEX: ":", SideKind.WORKTREE: ""}.get(self.kind, self.listing.commit)
        digest = hashlib.sha256(where.encode() + b"\0" + self.listing.raw().encode("utf-8", "surrogateescape"))
        if self.kind is SideKind.WORKTREE:
            # Tracked files on disk are the index plus the work tree's own changes.
            digest.update(bytes(self.repo.run("diff", "--no-ext-diff", "--no-color", "--no-textconv", "--binary",
                                              binary=True)))
        return digest.hexdigest()

    def is_file(self, path: str) -> bool:
        return path in self.files()

    # -- reading ------------------------------------------------------------------------------------------
    def read(self, path: str) -> str | None:
        """A tracked regular file's text at the reviewed state; None for anything else (absent, link, outside)."""
        if path not in self.files():
            return None
        if path not in self._texts:
            self._texts[path] = self._read(path)
        return self._texts[path]

    def prefetch(self, paths: Iterable[str]) -> None:
        """Read these files (those tracked as regular files) in one git run rather than one run each: the changed
        files of a large diff are all read for their context, and a process per file costs more than the reading."""
        if self.kind is SideKind.WORKTREE:
            return  # read from disk, which costs no process
        files = self.files()
        wanted = {path: files[path] for path in paths if path in files and path not in self._texts}
        blobs = self.repo.read_blobs(sorted(set(wanted.values())))
        for path, blob in wanted.items():
            if blob in blobs:
                self._texts[path] = blobs[blob].decode("utf-8", errors="replace")

    def _read(self, path: str) -> str | None:
        if self.kind is SideKind.WORKTREE:
            from reviewbot.adapters.git import worktree_source

            # A tracked regular file may have become a link on disk since it was staged: never follow one.
            target = self.repo.root
            for part in path.split("/"):
                target = target / part
                if target.is_symlink():
                    return None
            return worktree_source(self.repo).read_text(path)
        return self.listing.read_text(path)

    def folders(self) -> set[str]:
        out = set()
        for path in self.files():
            parts = path.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                out.add("/".join(parts[:i]))
        return out

    # -- searching ----------------------------------------------------------------------------------------
    def grep(self, patterns: Iterable[str], *, words: bool = True, fixed: bool = True, limit: int = 400,
             paths: Iterable[str] = ()) -> list[GrepHit]:
        """Lines matching any pattern at the reviewed state (git grep), in path order, at most `limit`."""
        patterns = [p for p in patterns if p]
        if not patterns:
            return []
        args = ["grep", "-n", "-z", "-I", "--no-color", "--max-count=50"]
        if words:
            args.append("-w")
        args.append("-F" if fixed else "-E")
        for p in patterns:
            args += ["-e", p]
        if self.kind is SideKind.INDEX:
            args.append("--cached")
        elif self.kind is SideKind.REVISION:
            args.append(self.listing.commit)
        args += ["--", *paths]
        try:
            out = str(self.repo.run(*args))
        except GitError:  # git grep exits 1 when nothing matches
            return []
        prefix = self.listing.commit + ":" if self.kind is SideKind.REVISION else ""
        files = self.files()
        hits: list[GrepHit] = []
        for row in out.split("\n"):
            fields = row.split("\0", 2)
            if len(fields) != 3 or not fields[1].isdigit():
                continue
            path = fields[0].removeprefix(prefix)
            if path in files:
                hits.append(GrepHit(path, int(fields[1]), fields[2]))
                if len(hits) >= limit:
                    break
        return hits
