"""Where repository files (config, agents, standards, baseline) are read from: the FileSource interface, and the
work tree's reader.

The rules come from the side under review (the index for a commit, B of `A..B`), and in CI from the target branch's
tip so that a pull request cannot loosen its own check; the same discovery code then reads through the git-side
readers of reviewbot/adapters/reviewed_side.py instead of a WorktreeSource.

Everything a repository names is untrusted, so every read on its behalf goes through `open_repo_file`: the name
must be a plain relative path (no absolute path, no `..`, no `~`), the file it resolves to must be a regular file
inside the repository (a symlink is judged by its target: one pointing outside, into `.git/`, or at a sensitive
file such as `.env` is refused), and it is opened without blocking (a FIFO or device never hangs the run). A
refusal is a `RepoFileRefused` carrying one line that names the file; a source turns it into a warning (the hook
reviews what it safely can) or a ConfigError (exit 2), as its owner chose.
"""

from __future__ import annotations

import os
import posixpath
import stat
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Protocol

from reviewbot.core.errors import ConfigError

MAX_REPO_FILE_BYTES = 8 * 1024 * 1024  # no standards, agent, config or baseline file needs more


class RepoFileRefused(ConfigError):
    """A file the repository names may not be read (or written): the message says which and why."""


class FileSource(Protocol):
    """Read-only view of a repository's files, by repository-relative POSIX path."""

    label: str  # e.g. "work tree" or "base revision 1a2b3c4"

    def read_text(self, path: str, *, what: str | None = None) -> str | None:
        """The file's text (undecodable bytes replaced), or None when it does not exist or was refused; `what`
        names the kind of file (or the setting that named it) in a refusal."""

    def list_files(self) -> Iterable[str]:
        """Every file path in the source, repository-relative, '/'-separated."""

    def read_heads(self, paths: Sequence[str], max_bytes: int = 8192) -> dict[str, str]:
        """The first characters of each file that exists here (git sources answer many paths in one run)."""


def shown(path: str) -> str:
    """A repository-chosen name made safe for one terminal line (escape sequences and line breaks removed)."""
    from reviewbot.reporters.base import one_line

    return one_line(path) or repr(path)


def relative_repo_path(raw: str, what: str = "file") -> str:
    """`raw` as a normalised repository-relative POSIX path; RepoFileRefused when it could leave the repository.

    `what` names the setting or kind of file for the message ("standards file", "setting 'baseline'")."""
    if not isinstance(raw, str) or not raw.strip():
        raise RepoFileRefused(f"the {what} path is empty; refused: name a file inside the repository")
    text = raw.strip()
    posix = text.replace("\\", "/")
    if "\0" in text:
        raise RepoFileRefused(f"the {what} '{shown(text)}' holds a NUL character; refused: name a file inside the "
                              f"repository")
    if posix.startswith(("/", "~")) or (len(posix) > 1 and posix[1] == ":"):
        raise RepoFileRefused(f"the {what} '{shown(text)}' is an absolute path; refused: a repository may only "
                              f"name files inside itself (use a path relative to the repository root)")
    parts = [p for p in posix.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise RepoFileRefused(f"the {what} '{shown(text)}' climbs out with '..'; refused: a repository may only "
                              f"name files inside itself")
    if not parts:
        raise RepoFileRefused(f"the {what} '{shown(text)}' names the repository itself, not a file")
    if parts[0] == ".git":
        raise RepoFileRefused(f"the {what} '{shown(text)}' is inside .git/; refused: name a file of the repository")
    return "/".join(parts)


def _sensitive(rel: str) -> str | None:
    from reviewbot.secrets.sensitive_files import sensitive_reason

    return sensitive_reason(rel)


def resolve_inside(root: Path, rel: str, *, what: str = "file") -> tuple[Path, str]:
    """(absolute real path, repository-relative real path) of `rel` under `root`, symlinks followed; refused
    when the result leaves the repository, lands in .git/ or is a sensitive file."""
    rel = relative_repo_path(rel, what)
    real_root = Path(os.path.realpath(root))
    real = Path(os.path.realpath(real_root / rel))
    try:
        target = real.relative_to(real_root).as_posix()
    except ValueError:
        raise RepoFileRefused(f"the {what} '{shown(rel)}' leads outside the repository (through a symbolic link); "
                              f"refused: it is not read and nothing of it is sent") from None
    if target == "." or target.split("/", 1)[0] == ".git":
        raise RepoFileRefused(f"the {what} '{shown(rel)}' leads into .git/ (through a symbolic link); refused")
    reason = _sensitive(rel) or _sensitive(target)
    if reason:
        via = f" (a link to {shown(target)})" if target != rel else ""
        raise RepoFileRefused(f"the {what} '{shown(rel)}'{via} is {reason}; refused: it is never read or sent")
    return real, target


def open_repo_file(root: Path, rel: str, *, what: str = "file", max_bytes: int = MAX_REPO_FILE_BYTES) -> bytes | None:
    """The bytes of the regular file `rel` inside the repository at `root`, None when there is no such file.

    The one way reviewbot reads a file on a repository's behalf (see the module docstring). The final open uses
    O_NOFOLLOW and O_NONBLOCK on the resolved path and checks the descriptor is a regular file, so a link swapped
    in after the check, a FIFO or a device is refused instead of followed or waited on."""
    real, target = resolve_inside(root, rel, what=what)
    try:
        info = os.lstat(real)
    except FileNotFoundError:
        return None
    except OSError:
        return None
    if stat.S_ISDIR(info.st_mode):
        return None
    if not stat.S_ISREG(info.st_mode):
        raise RepoFileRefused(f"the {what} '{shown(rel)}' is not a regular file (a FIFO, socket or device); refused")
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(real, flags)
    except OSError:
        raise RepoFileRefused(f"the {what} '{shown(rel)}' could not be opened safely (it changed while being "
                              f"read); refused") from None
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):
            raise RepoFileRefused(f"the {what} '{shown(rel)}' is not a regular file; refused")
        if opened.st_size > max_bytes:
            raise RepoFileRefused(f"the {what} '{shown(rel)}' is larger than {max_bytes:,} bytes; refused")
        chunks, total = [], 0
        while True:
            block = os.read(fd, 1 << 16)
            if not block:
                break
            total += len(block)
            if total > max_bytes:
                raise RepoFileRefused(f"the {what} '{shown(rel)}' is larger than {max_bytes:,} bytes; refused")
            chunks.append(block)
        return b"".join(chunks)
    finally:
        os.close(fd)


Refusal = Callable[[RepoFileRefused], None]


def _raise(err: RepoFileRefused) -> None:
    raise err


def refuse(source: object, err: RepoFileRefused, path: str | None = None) -> None:
    """Hand a refusal to `source`'s owner: its on_refusal warns (hook) or raises (diff, ci, baseline); a source
    without one raises. The path is remembered in `source.refused` so callers can tell refused from missing."""
    refused = getattr(source, "refused", None)
    if isinstance(refused, set) and path is not None:
        refused.add(path)
    handler = getattr(source, "on_refusal", None)
    (handler or _raise)(err)


class WorktreeSource:
    """Files as they are on disk under the repository root (ignored and untracked ones included only if read).

    `on_refusal` decides what a refused file does: by default it raises (exit 2); the hook passes a function that
    warns once per file and goes on without it."""

    def __init__(self, root: Path, files: Iterable[str] | None = None, *, on_refusal: Refusal | None = None) -> None:
        self.root = root
        self.label = "work tree"
        self._files = None if files is None else tuple(files)
        self.on_refusal: Refusal = on_refusal or _raise
        self.refused: set[str] = set()

    def read_text(self, path: str, *, what: str | None = None) -> str | None:
        try:
            data = open_repo_file(self.root, path, what=what or _kind(path))
        except RepoFileRefused as err:
            refuse(self, err, path)
            return None
        return None if data is None else data.decode("utf-8", errors="replace")

    def read_heads(self, paths: Sequence[str], max_bytes: int = 8192) -> dict[str, str]:
        return heads_one_by_one(self, paths, max_bytes)

    def list_files(self) -> Iterable[str]:
        if self._files is not None:
            return self._files
        # Fallback for a plain folder (tests, eval cases): walk it without following links, skipping .git.
        out = []
        for folder, dirs, names in os.walk(self.root):
            dirs[:] = sorted(d for d in dirs if d != ".git" or Path(folder) != Path(self.root))
            for name in sorted(names):
                full = Path(folder) / name
                if full.is_file() and not full.is_symlink():
                    out.append(full.relative_to(self.root).as_posix())
        return sorted(out)


def _kind(path: str) -> str:
    name = posixpath.basename(path)
    if name in (".reviewbot.toml", "pyproject.toml"):
        return "config file"
    if path.startswith(".claude/agents/"):
        return "agent file"
    if name.endswith((".md", ".mdc", ".cursorrules")):
        return "standards file"
    return "file"


def warn_once(warn: Callable[[str], None]) -> Refusal:
    """An on_refusal that shows each refusal once, as a warning, and lets the run go on."""
    seen: set[str] = set()

    def refuse(err: RepoFileRefused) -> None:
        text = str(err)
        if text not in seen:
            seen.add(text)
            warn(text)

    return refuse


class MemorySource:
    """A dict of path -> text; used by tests and by eval cases."""

    def __init__(self, files: dict[str, str], label: str = "memory") -> None:
        self.files = dict(files)
        self.label = label

    def read_text(self, path: str, *, what: str | None = None) -> str | None:
        try:
            path = relative_repo_path(path)
        except RepoFileRefused:
            return None
        return self.files.get(path)

    def read_heads(self, paths: Sequence[str], max_bytes: int = 8192) -> dict[str, str]:
        return heads_one_by_one(self, paths, max_bytes)

    def list_files(self) -> Iterable[str]:
        return sorted(self.files)


def heads_one_by_one(source: FileSource, paths: Sequence[str], max_bytes: int) -> dict[str, str]:
    """read_heads for a source where a read costs no process: each file read on its own."""
    return {p: text[:max_bytes] for p in paths if (text := source.read_text(p)) is not None}


def write_repo_file(root: Path, rel: str, data: bytes, *, what: str = "file") -> Path:
    """Replace the file `rel` inside the repository at `root` with `data`, atomically, never through a link.

    Every folder on the way is opened with O_NOFOLLOW relative to the one before (missing ones are created), so a
    committed symlinked folder cannot redirect the write; the file itself must be absent or a regular file. The
    bytes go to a new temporary file in the same folder, which then replaces the target with os.replace: a crash
    leaves the old file, and a hard link to a file elsewhere is replaced, not written through."""
    import secrets as _random

    rel = relative_repo_path(rel, what)
    parts = rel.split("/")
    directory = getattr(os, "O_DIRECTORY", 0)
    nofollow = getattr(os, "O_NOFOLLOW", 0)
    dir_fd = os.open(root, os.O_RDONLY | directory)
    tmp_name: str | None = None
    try:
        for name in parts[:-1]:
            try:
                next_fd = os.open(name, os.O_RDONLY | directory | nofollow, dir_fd=dir_fd)
            except FileNotFoundError:
                os.mkdir(name, 0o777, dir_fd=dir_fd)
                next_fd = os.open(name, os.O_RDONLY | directory | nofollow, dir_fd=dir_fd)
            except OSError:
                raise RepoFileRefused(f"the {what} '{shown(rel)}' is reached through '{shown(name)}', which is a "
                                      f"symbolic link or not a folder; refused: reviewbot never writes through a "
                                      f"link (replace it with a real folder or choose another path)") from None
            os.close(dir_fd)
            dir_fd = next_fd
        name = parts[-1]
        try:
            info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            info = None
        if info is not None and not stat.S_ISREG(info.st_mode):
            kind = "a symbolic link" if stat.S_ISLNK(info.st_mode) else "not a regular file"
            raise RepoFileRefused(f"the {what} '{shown(rel)}' is {kind}; refused: reviewbot never writes through a "
                                  f"link (delete it, or choose another path)")
        mode = stat.S_IMODE(info.st_mode) if info is not None else 0o666
        tmp_name = f".{name}.reviewbot-{os.getpid()}-{_random.token_hex(4)}.tmp"
        fd = os.open(tmp_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | nofollow, mode, dir_fd=dir_fd)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        os.replace(tmp_name, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        tmp_name = None
    finally:
        if tmp_name is not None:
            try:
                os.unlink(tmp_name, dir_fd=dir_fd)
            except OSError:
                pass
        os.close(dir_fd)
    return Path(root) / rel
