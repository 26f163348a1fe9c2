"""All git access lives here, through GitPython's command wrapper.

Every call is read-only: reviewbot never writes to the index, the work tree, HEAD or refs (not even the stat
refresh that `git diff` writes back on its own: see `run`). Diffs are always
asked for with --no-ext-diff, --no-color and --no-textconv so that user configuration cannot change what
is parsed, and with core.quotepath off so that non-ASCII names arrive as they are.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from reviewbot.errors import GitError

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # git's well-known empty tree object

_DIFF_OPTIONS = (
    "--no-ext-diff",
    "--no-color",
    "--no-textconv",
    "--find-renames",
    "--src-prefix=a/",
    "--dst-prefix=b/",
    "--ignore-submodules=none",
)


@dataclass(frozen=True, slots=True)
class DiffSpec:
    """What to compare, in git diff's own terms."""

    staged: bool = False
    revisions: tuple[str, ...] = ()  # none, one REV, two REVs, or one A..B / A...B
    paths: tuple[str, ...] = ()

    @property
    def description(self) -> str:
        what = "staged changes" if self.staged else ("work tree vs index" if not self.revisions else "")
        if self.revisions:
            what = " ".join(self.revisions) + (" (staged)" if self.staged else "")
        if self.paths:
            what += " -- " + " ".join(self.paths)
        return what


def _git_module():
    # GitPython refuses to import without a git executable; turn that into our own sentence.
    try:
        import git
    except ImportError as exc:  # pragma: no cover - depends on the machine
        raise GitError(f"git is not available: {exc}".splitlines()[0]) from None
    return git


class Repository:
    """A read-only handle on one git repository."""

    def __init__(self, start: Path | str | None = None) -> None:
        git = _git_module()
        start = Path(start or os.getcwd())
        try:
            self._repo = git.Repo(start, search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise GitError(f"not a git repository: {start} (run reviewbot inside a git checkout)") from None
        if self._repo.bare:
            raise GitError(f"{start} is a bare repository; reviewbot needs a work tree")
        self.root = Path(self._repo.working_tree_dir).resolve()

    # -- low level -----------------------------------------------------------------------------------
    def run(self, *args: str, binary: bool = False) -> str | bytes:
        git = _git_module()
        try:
            # `git diff` against the work tree rewrites the index to refresh stale stat data (a touched file), and
            # --no-optional-locks does not stop it; diff.autoRefreshIndex=false does. We never write.
            return self._repo.git.execute(
                ["git", "--no-optional-locks", "-c", "diff.autoRefreshIndex=false", "-c", "core.quotepath=off",
                 *args],
                stdout_as_string=not binary,
                strip_newline_in_stdout=False,
            )
        except git.GitCommandError as exc:
            raise GitError(_first_error_line(exc, args)) from None

    # -- questions ------------------------------------------------------------------------------------
    def has_head(self) -> bool:
        try:
            self.run("rev-parse", "--verify", "--quiet", "HEAD^{commit}")
            return True
        except GitError:
            return False

    def resolve(self, rev: str) -> str:
        """The commit id a revision names; GitError with a clear sentence when it does not exist."""
        try:
            return str(self.run("rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")).strip()
        except GitError:
            raise GitError(f"unknown revision '{rev}'") from None

    def is_revision(self, text: str) -> bool:
        if ".." in text:
            left, _, right = text.replace("...", "..").partition("..")
            return all(self._is_commit(part or "HEAD") for part in (left, right))
        return self._is_commit(text)

    def _is_commit(self, rev: str) -> bool:
        try:
            self.resolve(rev)
            return True
        except GitError:
            return False

    def merge_base(self, a: str, b: str) -> str | None:
        try:
            out = str(self.run("merge-base", a, b)).strip()
        except GitError:
            return None
        return out or None

    def is_shallow(self) -> bool:
        return str(self.run("rev-parse", "--is-shallow-repository")).strip() == "true"

    # -- diffs ----------------------------------------------------------------------------------------
    def diff(self, spec: DiffSpec, *, context_lines: int = 3) -> bytes:
        """The raw unified diff for `spec`, as bytes (file contents may be in any encoding)."""
        args = ["diff", *_DIFF_OPTIONS, f"--unified={max(context_lines, 0)}"]  # -1 would drop every hunk
        revisions = list(spec.revisions)
        if spec.staged:
            args.append("--cached")
            if not revisions and not self.has_head():
                revisions = [EMPTY_TREE]  # initial commit: everything staged is new
        elif not revisions:
            pass  # work tree against the index, like plain `git diff`
        args += revisions
        args.append("--")
        args += list(spec.paths)
        return self.run(*args, binary=True)  # type: ignore[return-value]

    # -- files at a revision ---------------------------------------------------------------------------
    def show_file(self, rev: str, path: str) -> str | None:
        """A file's text at a revision (":path" style for the index when rev is ""), or None if absent."""
        spec = f"{rev}:{path}"
        try:
            data = self.run("cat-file", "blob", spec, binary=True)
        except GitError:
            return None
        return bytes(data).decode("utf-8", errors="replace")

    def read_heads(self, rev: str, paths: Sequence[str], max_bytes: int = 8192) -> dict[str, str]:
        """The first bytes of each file at a revision ("" for the index), for the files that exist there.

        One `git cat-file --batch` run answers every path (a round trip per file costs far more on a busy
        machine); a name with a line break, which the batch protocol cannot carry, is read on its own."""
        import tempfile

        heads: dict[str, str] = {}
        batch = [p for p in paths if "\n" not in p and "\r" not in p]
        for p in paths:
            if p not in batch:
                text = self.show_file(rev, p)
                if text is not None:
                    heads[p] = text[:max_bytes]
        if not batch:
            return heads
        git = _git_module()
        with tempfile.TemporaryFile() as names:
            names.write("".join(f"{rev}:{p}\n" for p in batch).encode("utf-8", "surrogateescape"))
            names.seek(0)
            try:
                out = self._repo.git.execute(["git", "--no-optional-locks", "cat-file", "--batch"], istream=names,
                                             stdout_as_string=False, strip_newline_in_stdout=False)
            except git.GitCommandError as exc:
                raise GitError(_first_error_line(exc, ("cat-file", "--batch"))) from None
        data = bytes(out)
        at = 0
        for p in batch:
            eol = data.index(b"\n", at)
            header = data[at:eol].split()
            at = eol + 1
            if len(header) != 3 or header[-1] == b"missing":  # "<name> missing"
                continue
            size = int(header[2])
            if header[1] == b"blob":
                heads[p] = data[at:at + min(size, max_bytes)].decode("utf-8", errors="replace")
            at += size + 1  # the content, then a newline
        return heads

    def list_files(self, rev: str | None = None) -> list[str]:
        """Files at a revision (ls-tree), or in the work tree: tracked plus untracked-but-not-ignored (ls-files)."""
        if rev is None:
            out = self.run("ls-files", "-z", "--cached", "--others", "--exclude-standard", "--deduplicate")
        else:
            out = self.run("ls-tree", "-r", "-z", "--name-only", "--full-tree", rev)
        return [p for p in str(out).split("\0") if p]


class RevisionSource:
    """A FileSource that reads a repository's files as they are at one commit (CI: the base revision)."""

    def __init__(self, repo: Repository, rev: str) -> None:
        self.repo = repo
        self.rev = repo.resolve(rev)
        self.label = f"revision {self.rev[:12]}"
        self._files: list[str] | None = None

    def read_text(self, path: str) -> str | None:
        return self.repo.show_file(self.rev, path)

    def read_heads(self, paths: Sequence[str], max_bytes: int = 8192) -> dict[str, str]:
        return self.repo.read_heads(self.rev, paths, max_bytes)

    def list_files(self) -> Iterable[str]:
        if self._files is None:
            self._files = self.repo.list_files(self.rev)
        return self._files


class IndexSource:
    """A FileSource over the index (what is staged), for a `--staged` review: rules and file contents come from the
    side under review. A file the index does not hold at all (untracked, never added) is read from the work tree,
    as before: it belongs to neither side, and a rule file that was simply never staged still applies."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self.label = "index"
        self._staged: frozenset[str] | None = None
        self._worktree = worktree_source(repo)

    def _in_index(self, path: str) -> bool:
        if self._staged is None:
            self._staged = frozenset(p for p in str(self.repo.run("ls-files", "-z", "--cached")).split("\0") if p)
        return path in self._staged

    def read_text(self, path: str) -> str | None:
        return self.repo.show_file("", path) if self._in_index(path) else self._worktree.read_text(path)

    def read_heads(self, paths: Sequence[str], max_bytes: int = 8192) -> dict[str, str]:
        heads = self.repo.read_heads("", [p for p in paths if self._in_index(p)], max_bytes)
        for p in paths:
            if not self._in_index(p) and (text := self._worktree.read_text(p)) is not None:
                heads[p] = text[:max_bytes]
        return heads

    def list_files(self) -> Iterable[str]:
        return self._worktree.list_files()  # tracked (index) and untracked-but-not-ignored files


INDEX = ":"  # as a rules side: the index


def reviewed_side(spec: DiffSpec) -> str | None:
    """Where the new side of `spec` lives, so rules (config, agents, standards) and file contents are read from the
    side under review: a revision, INDEX for staged changes, or None for the work tree.

    `A..B`, `A...B` and `A B` review B (HEAD when B is left out); `--staged` reviews the index; no revision or one
    revision compares against the work tree.
    """
    revisions = spec.revisions
    if len(revisions) == 1 and ".." in revisions[0]:
        right = revisions[0].split("...", 1)[1] if "..." in revisions[0] else revisions[0].split("..", 1)[1]
        return right or "HEAD"
    if len(revisions) == 2:
        return revisions[1]
    return INDEX if spec.staged else None


def content_source(repo: Repository, spec: DiffSpec):
    """A FileSource over the side of `spec` under review (see reviewed_side)."""
    side = reviewed_side(spec)
    if side == INDEX:
        return IndexSource(repo)
    return RevisionSource(repo, side) if side else worktree_source(repo)


def worktree_source(repo: Repository):
    """A FileSource over the work tree that lists tracked files only (no walk of ignored folders)."""
    from reviewbot.sources import WorktreeSource

    class _Lazy(WorktreeSource):
        def list_files(self) -> Sequence[str]:  # noqa: D401 - listing is deferred until someone asks
            if self._files is None:
                self._files = tuple(repo.list_files())
            return self._files

    return _Lazy(repo.root, None)


def _first_error_line(exc: Exception, args: Sequence[str]) -> str:
    stderr = getattr(exc, "stderr", "") or ""
    if isinstance(stderr, bytes):
        stderr = stderr.decode("utf-8", errors="replace")
    lines = [ln.strip() for ln in str(stderr).splitlines() if ln.strip()]
    # GitPython wraps stderr as "  stderr: 'fatal: ...'"; keep git's own words.
    text = lines[0] if lines else str(exc).splitlines()[0]
    text = text.removeprefix("stderr:").strip().strip("'").removeprefix("fatal: ").removeprefix("error: ")
    command = " ".join(a for a in args[:2])
    return f"git {command} failed: {text}"
