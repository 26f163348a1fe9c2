"""Reading the side of a diff under review from git: one listing of what that side tracks, and the rules reader.

A review reads several things from the side it reviews (core.models.ReviewedSide): rules (config, agents,
standards), the first lines of changed files (generated-file markers), suppression comments, and, through
reviewbot/adapters/reviewed_tree.py, context and the model's tools. They all share one SideListing per side, so git
lists the index or a commit's tree once per run, and they all answer "which file is this?" the same way.

The rules readers (`side_files`) are FileSources: a symbolic link is judged, and read, by its target only while it
stays inside the repository; anything else a repository could use to make us read outside it is refused.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reviewbot.core.models import ReviewedSide, SideKind

if TYPE_CHECKING:
    from reviewbot.adapters.git import Repository
    from reviewbot.adapters.repository_files import FileSource, Refusal

REGULAR_MODES = ("100644", "100755")
SYMLINK_MODE = "120000"


@dataclass(frozen=True, slots=True)
class TrackedEntry:
    mode: str  # git's file mode: 100644/100755 regular, 120000 link, 160000 submodule
    blob: str
    stage: int = 0  # the index's merge stage (1-3 while a merge conflict is unresolved); 0 in a commit


class SideListing:
    """What git tracks on one side of a diff: the index (for INDEX and WORKTREE) or a commit's tree, listed on
    first use and then shared by every reader of that side."""

    def __init__(self, repo: Repository, side: ReviewedSide) -> None:
        self.repo = repo
        self.side = side
        # A revision is resolved once, so every reader sees the same commit even if a ref moves during the run.
        self.commit = repo.resolve(side.revision) if side.kind is SideKind.REVISION else ""
        self._raw: str | None = None
        self._entries: dict[str, TrackedEntry] | None = None

    @property
    def in_index(self) -> bool:
        """True when the listing is the index's (INDEX and WORKTREE sides), False for a commit's tree."""
        return self.side.kind is not SideKind.REVISION

    def raw(self) -> str:
        """git's own listing, NUL-separated: `ls-files -s` for the index, `ls-tree -r` for a commit."""
        if self._raw is None:
            if self.in_index:
                self._raw = str(self.repo.run("ls-files", "-s", "-z"))
            else:
                self._raw = str(self.repo.run("ls-tree", "-r", "-z", "--full-tree", self.commit))
        return self._raw

    def entries(self) -> dict[str, TrackedEntry]:
        """path -> entry; for a path at several merge stages, the stage-0 entry, else the last one listed."""
        if self._entries is None:
            entries: dict[str, TrackedEntry] = {}
            for row in self.raw().split("\0"):
                meta, tab, path = row.partition("\t")
                fields = meta.split()
                if not tab or not path or len(fields) < 3:
                    continue
                if self.in_index:  # mode blob stage
                    entry = TrackedEntry(fields[0], fields[1], int(fields[2]) if fields[2].isdigit() else 0)
                else:  # mode type blob
                    entry = TrackedEntry(fields[0], fields[2])
                if path not in entries or entries[path].stage != 0:
                    entries[path] = entry
            self._entries = entries
        return self._entries

    def mode(self, path: str) -> str | None:
        entry = self.entries().get(path)
        return entry.mode if entry is not None else None

    def read_text(self, path: str) -> str | None:
        """A tracked file's text on this side, unchecked (callers check the entry first)."""
        return self.repo.show_file(self.commit, path)  # `commit:path`, or `:path` (the index) when commit is ""


def side_files(listing: SideListing, on_refusal: Refusal | None = None) -> FileSource:
    """The rules reader of a side: config, agents and standards as the reviewed change will have them."""
    from reviewbot.adapters.git import worktree_source

    if listing.side.kind is SideKind.INDEX:
        return IndexSource(listing, on_refusal=on_refusal)
    if listing.side.kind is SideKind.REVISION:
        return RevisionSource(listing, on_refusal=on_refusal)
    return worktree_source(listing.repo, on_refusal=on_refusal)


class RevisionSource:
    """A FileSource over a repository's files as they are at one commit (CI: the target branch's tip)."""

    def __init__(self, listing: SideListing, on_refusal: Refusal | None = None) -> None:
        self.listing = listing
        self.label = f"revision {listing.commit[:12]}"
        self.on_refusal = on_refusal  # None: a refusal raises (diff, ci, baseline); else it is reported and skipped
        self.refused: set[str] = set()

    def read_text(self, path: str, *, what: str | None = None) -> str | None:
        from reviewbot.adapters.repository_files import RepoFileRefused, refuse, relative_repo_path, shown
        from reviewbot.secrets.sensitive_files import sensitive_reason

        what = what or "file"
        try:
            rel = relative_repo_path(path, what)
            mode = self.listing.mode(rel)
            if mode is None:
                return None
            if mode not in REGULAR_MODES:
                kind = "a symbolic link" if mode == SYMLINK_MODE else "not a regular file"
                raise RepoFileRefused(f"the {what} '{shown(rel)}' is {kind} at {self.label}; refused: a link's "
                                      f"target is never read")
            reason = sensitive_reason(rel)
            if reason:
                raise RepoFileRefused(f"the {what} '{shown(rel)}' is {reason}; refused: it is never read or sent")
        except RepoFileRefused as err:
            refuse(self, err, path)
            return None
        return self.listing.read_text(rel)

    def read_heads(self, paths: Sequence[str], max_bytes: int = 8192) -> dict[str, str]:
        return self.listing.repo.read_heads(self.listing.commit, paths, max_bytes)

    def list_files(self) -> Iterable[str]:
        return list(self.listing.entries())


class IndexSource:
    """A FileSource over the index (what is staged), for `--staged` and the hook. A file the index does not hold at
    all (untracked, never added) is read from the work tree: it belongs to neither side, and a rule file that was
    simply never staged still applies."""

    def __init__(self, listing: SideListing, on_refusal: Refusal | None = None) -> None:
        from reviewbot.adapters.git import worktree_source

        self.listing = listing
        self.label = "index"
        self.on_refusal = on_refusal
        self.refused: set[str] = set()
        self._worktree = worktree_source(listing.repo, on_refusal=on_refusal)
        self._worktree.refused = self.refused  # a refusal of the fallback is this source's refusal too

    def read_text(self, path: str, *, what: str | None = None) -> str | None:
        from reviewbot.adapters.repository_files import RepoFileRefused, refuse

        try:
            rel, staged = self._staged_file(path, what or "file")
        except RepoFileRefused as err:
            refuse(self, err, path)
            return None
        if not staged:
            return self._worktree.read_text(rel, what=what)
        return self.listing.read_text(rel)

    def _staged_file(self, path: str, what: str) -> tuple[str, bool]:
        """The repository path `path` names, following in-repository links, and whether the index holds it (False:
        read it from the work tree); RepoFileRefused for a link out, a dangling link, a non-file or a sensitive
        file."""
        from reviewbot.adapters.repository_files import RepoFileRefused, relative_repo_path, shown
        from reviewbot.secrets.sensitive_files import sensitive_reason

        rel = named = relative_repo_path(path, what)
        mode = self.listing.mode(rel)
        for _ in range(8):  # a link inside the repository is judged, and read, by its target
            if mode != SYMLINK_MODE:
                break
            target = self.listing.read_text(rel) or ""
            try:
                rel = relative_repo_path(posixpath.normpath(posixpath.join(posixpath.dirname(rel), target)))
            except RepoFileRefused:
                raise RepoFileRefused(f"the {what} '{shown(named)}' leads outside the repository (a symbolic "
                                      f"link to '{shown(target)}'); refused: a link out is never followed") from None
            mode = self.listing.mode(rel)
        called = f"'{shown(named)}'" + (f" (a link to '{shown(rel)}')" if rel != named else "")
        if mode is None:
            if rel != named:
                raise RepoFileRefused(f"the {what} {called} points at a file the index does not hold; refused")
            return rel, False
        if mode not in REGULAR_MODES:
            kind = "a chain of symbolic links" if mode == SYMLINK_MODE else "not a regular file"
            raise RepoFileRefused(f"the {what} {called} is {kind} in the index; refused: only regular "
                                  f"files inside the repository are read")
        reason = sensitive_reason(named) or sensitive_reason(rel)
        if reason:
            raise RepoFileRefused(f"the {what} {called} is {reason}; refused: it is never read or sent")
        return rel, True

    def read_heads(self, paths: Sequence[str], max_bytes: int = 8192) -> dict[str, str]:
        staged = self.listing.entries()
        heads = self.listing.repo.read_heads("", [p for p in paths if p in staged], max_bytes)
        heads.update(self._worktree.read_heads([p for p in paths if p not in staged], max_bytes))
        return heads

    def list_files(self) -> Iterable[str]:
        return self._worktree.list_files()  # tracked (index) and untracked-but-not-ignored files
