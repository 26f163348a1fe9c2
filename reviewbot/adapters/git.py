"""All git access lives here, through GitPython's command wrapper.

Every call is read-only: reviewbot never writes to the index, the work tree, HEAD or refs (not even the stat
refresh that `git diff` writes back on its own: see `run`). Diffs are always
asked for with --no-ext-diff, --no-color and --no-textconv so that user configuration cannot change what
is parsed, and with core.quotepath off so that non-ASCII names arrive as they are.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Literal, overload

from reviewbot.core.errors import GitError
from reviewbot.core.models import ReviewedSide

if TYPE_CHECKING:
    from reviewbot.adapters.repository_files import Refusal, WorktreeSource

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # git's well-known empty tree object

# Settings that make git run a program, switched off on every call: a cloned repository's .git/config (or one
# handed over in an archive) is as untrusted as its files. core.fsmonitor runs a hook on every index refresh;
# diff.external and textconv are off through --no-ext-diff/--no-textconv; the pager and ssh/askpass helpers are
# pinned in case a future call reaches them. Filter drivers (filter.<name>.clean/process, run on work-tree files
# by `git diff`) are neutralised per name in Repository._filter_overrides.
SAFE_CONFIG = (
    "-c", "diff.autoRefreshIndex=false",
    "-c", "core.quotepath=off",
    "-c", "core.fsmonitor=false",
    "-c", "core.untrackedCache=false",
    "-c", "core.pager=cat",
    "-c", "core.sshCommand=false",
    "-c", "core.askPass=",
    "-c", "diff.external=",
    "-c", "credential.helper=",
    "-c", "protocol.allow=never",
)

_DIFF_OPTIONS = (
    "--no-ext-diff",
    "--no-color",
    "--no-textconv",
    "--find-renames",
    "--src-prefix=a/",
    "--dst-prefix=b/",
    "--ignore-submodules=none",
)


_BINARY_ATTRIBUTE = re.compile(rb"(?:^|\s)(?:[-!]?diff\b|binary\b)", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class DiffSpec:
    """What to compare, in git diff's own terms."""

    staged: bool = False
    revisions: tuple[str, ...] = ()  # none, one REV, two REVs, or one A..B / A...B
    paths: tuple[str, ...] = ()
    # File names taken as they are (the hook's, from pre-commit): a staged file named ":!*" is pathspec magic that
    # would otherwise exclude every file from the review.
    literal_paths: bool = False

    @property
    def description(self) -> str:
        what = "staged changes" if self.staged else ("work tree vs index" if not self.revisions else "")
        if self.revisions:
            what = " ".join(self.revisions) + (" (staged)" if self.staged else "")
        if self.paths:
            what += " -- " + " ".join(self.paths)
        return what

    @property
    def reviewed_side(self) -> ReviewedSide:
        """The side under review: B of `A..B`, `A...B` and `A B` (HEAD when B is left out), the index for
        `--staged`, the work tree for no revision or one revision (that revision against the work tree)."""
        revisions = self.revisions
        if len(revisions) == 1 and ".." in revisions[0]:
            right = revisions[0].split("...", 1)[1] if "..." in revisions[0] else revisions[0].split("..", 1)[1]
            return ReviewedSide.at(right or "HEAD")
        if len(revisions) == 2:
            return ReviewedSide.at(revisions[1])
        return ReviewedSide.index() if self.staged else ReviewedSide.worktree()


def _git_module() -> ModuleType:
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
        self._filters: tuple[str, ...] | None = None
        self._binary_attributes: bool | None = None

    def _filter_overrides(self) -> tuple[str, ...]:
        """`-c filter.NAME.clean= -c filter.NAME.smudge= -c filter.NAME.process= -c filter.NAME.required=false` for
        every filter driver the repository's config defines: `git diff` would otherwise run them on work-tree files.
        Reading the config runs nothing, so the names are looked up once with the safe settings above."""
        if self._filters is None:
            self._filters = ()
            try:
                out = self._repo.git.execute(
                    ["git", "--no-optional-locks", *SAFE_CONFIG, "config", "--name-only", "-z", "--get-regexp",
                     r"^filter\..*\.(clean|smudge|process)$"],
                    stdout_as_string=True, strip_newline_in_stdout=False, with_exceptions=False)
            except Exception:
                out = ""
            names = sorted({key.rsplit(".", 1)[0] for key in str(out).split("\0") if key.count(".") >= 2})
            overrides: list[str] = []
            for driver in names:
                for field in ("clean", "smudge", "process"):
                    overrides += ["-c", f"{driver}.{field}="]
                overrides += ["-c", f"{driver}.required=false"]
            self._filters = tuple(overrides)
        return self._filters

    # -- low level -----------------------------------------------------------------------------------
    @overload
    def run(self, *args: str, binary: Literal[False] = False) -> str: ...
    @overload
    def run(self, *args: str, binary: Literal[True]) -> bytes: ...
    @overload
    def run(self, *args: str, binary: bool) -> str | bytes: ...
    def run(self, *args: str, binary: bool = False) -> str | bytes:
        git = _git_module()
        try:
            # `git diff` against the work tree rewrites the index to refresh stale stat data (a touched file), and
            # --no-optional-locks does not stop it; diff.autoRefreshIndex=false does. We never write.
            # Without with_extended_output execute() answers the output alone: str, or bytes when not decoded.
            output: str | bytes = self._repo.git.execute(
                ["git", "--no-optional-locks", *SAFE_CONFIG, *self._filter_overrides(), *args],
                stdout_as_string=not binary,
                strip_newline_in_stdout=False,
            )
            return output
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
        if self._attributes_mark_binary():
            # A committed `.gitattributes` saying `*.py -diff` (or `binary`) would turn every change into "Binary
            # files differ" and hide it from the review. Then diffs are asked for as text, and binary content is told
            # by its NUL bytes instead (diffparse). Only then: --text makes git print real binaries in full.
            args.insert(1, "--text")
        revisions = list(spec.revisions)
        if spec.staged:
            args.append("--cached")
            if not revisions and not self.has_head():
                revisions = [EMPTY_TREE]  # initial commit: everything staged is new
        elif not revisions:
            pass  # work tree against the index, like plain `git diff`
        args += revisions
        args.append("--")
        args += [f":(literal){p}" for p in spec.paths] if spec.literal_paths else list(spec.paths)
        return self.run(*args, binary=True)

    def _attributes_mark_binary(self) -> bool:
        """True when a tracked .gitattributes (or .git/info/attributes) mentions the diff or binary attributes."""
        if self._binary_attributes is None:
            from reviewbot.adapters.repository_files import RepoFileRefused, open_repo_file

            texts: list[bytes] = []
            listed = str(self.run("ls-files", "-z", "--cached", "--", ":(glob)**/.gitattributes", ".gitattributes"))
            for rel in sorted({p for p in listed.split("\0") if p}):
                try:
                    texts.append(open_repo_file(self.root, rel, what="attributes file") or b"")
                except (RepoFileRefused, OSError):
                    texts.append(b"binary")  # unreadable: assume the worst, ask for text
            info = Path(self._repo.git_dir) / "info" / "attributes"
            try:
                if info.is_file() and not info.is_symlink():
                    texts.append(info.read_bytes()[:1_000_000])
            except OSError:
                pass
            self._binary_attributes = any(_BINARY_ATTRIBUTE.search(t) for t in texts)
        return self._binary_attributes

    # -- files at a revision ---------------------------------------------------------------------------
    def show_file(self, rev: str, path: str) -> str | None:
        """A file's text at a revision (":path" style for the index when rev is ""), or None if absent."""
        spec = f"{rev}:{path}"
        try:
            data = self.run("cat-file", "blob", spec, binary=True)
        except GitError:
            return None
        return bytes(data).decode("utf-8", errors="replace")

    def _cat_file_batch(self, names: Sequence[str]) -> list[bytes | None]:
        """The blob behind each object name (a blob id, or "rev:path"), in one `git cat-file --batch` run (a round
        trip per file costs far more on a busy machine); None for a name git does not hold or that is no blob."""
        import tempfile

        if not names:
            return []
        git = _git_module()
        with tempfile.TemporaryFile() as batch:
            batch.write("".join(f"{name}\n" for name in names).encode("utf-8", "surrogateescape"))
            batch.seek(0)
            try:
                out = self._repo.git.execute(["git", "--no-optional-locks", "cat-file", "--batch"], istream=batch,
                                             stdout_as_string=False, strip_newline_in_stdout=False)
            except git.GitCommandError as exc:
                raise GitError(_first_error_line(exc, ("cat-file", "--batch"))) from None
        data, at = bytes(out), 0
        found: list[bytes | None] = []
        for _ in names:
            eol = data.index(b"\n", at)
            header = data[at:eol].split()
            at = eol + 1
            if len(header) != 3 or header[-1] == b"missing":  # "<name> missing"
                found.append(None)
                continue
            size = int(header[2])
            found.append(data[at:at + size] if header[1] == b"blob" else None)
            at += size + 1  # the content, then a newline
        return found

    def read_blobs(self, blob_ids: Sequence[str]) -> dict[str, bytes]:
        """The contents of blobs by id, in one git run; ids git does not hold are left out."""
        return {blob: data for blob, data in zip(blob_ids, self._cat_file_batch(blob_ids)) if data is not None}

    def read_heads(self, rev: str, paths: Sequence[str], max_bytes: int = 8192) -> dict[str, str]:
        """The first bytes of each file at a revision ("" for the index), for the files that exist there.

        One git run answers every path; a name with a line break, which the batch protocol cannot carry, is read on
        its own."""
        heads: dict[str, str] = {}
        batch = [p for p in paths if "\n" not in p and "\r" not in p]
        for p in paths:
            if p not in batch:
                text = self.show_file(rev, p)
                if text is not None:
                    heads[p] = text[:max_bytes]
        for p, data in zip(batch, self._cat_file_batch([f"{rev}:{p}" for p in batch])):
            if data is not None:
                heads[p] = data[:max_bytes].decode("utf-8", errors="replace")
        return heads

    def list_files(self, rev: str | None = None) -> list[str]:
        """Files at a revision (ls-tree), or in the work tree: tracked plus untracked-but-not-ignored (ls-files)."""
        if rev is None:
            out = self.run("ls-files", "-z", "--cached", "--others", "--exclude-standard", "--deduplicate")
        else:
            out = self.run("ls-tree", "-r", "-z", "--name-only", "--full-tree", rev)
        return [p for p in str(out).split("\0") if p]


def worktree_source(repo: Repository, on_refusal: Refusal | None = None) -> WorktreeSource:
    """A FileSource over the work tree that lists tracked files only (no walk of ignored folders)."""
    from reviewbot.adapters.repository_files import WorktreeSource

    class _Lazy(WorktreeSource):
        def list_files(self) -> Sequence[str]:
            if self._files is None:
                self._files = tuple(repo.list_files())
            return self._files

    return _Lazy(repo.root, None, on_refusal=on_refusal)


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
