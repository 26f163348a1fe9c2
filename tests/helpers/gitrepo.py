"""Build real git repositories for tests with the git CLI, and fingerprint their state.

`GitRepo` always works on its own directory: variables that would send git elsewhere (GIT_DIR, GIT_INDEX_FILE,
GIT_WORK_TREE, ...) are removed from the environment of its git commands, so a test that simulates a hook's
environment with monkeypatch.setenv still builds and inspects the repository it means.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import subprocess
from pathlib import Path

# Variables git reads that would redirect a command away from this repository.
_REDIRECTING_VARS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
                     "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_COMMON_DIR", "GIT_NAMESPACE", "GIT_PREFIX",
                     "GIT_CEILING_DIRECTORIES")

_HUNK_HEADER = re.compile(r"^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


class GitRepo:
    """A git repository under `path`, driven by the real git CLI."""

    def __init__(self, path: Path | str, *, init: bool = True, branch: str = "main") -> None:
        self.path = Path(path)
        if init:
            self.path.mkdir(parents=True, exist_ok=True)
            self.git("init", "-q", "-b", branch)
            # Local settings, so the repository works whatever the global git config says.
            self.git("config", "user.name", "Test Author")
            self.git("config", "user.email", "author@example.com")
            self.git("config", "commit.gpgsign", "false")
            self.git("config", "tag.gpgsign", "false")
            self.git("config", "core.autocrlf", "false")

    @classmethod
    def clone(cls, source: GitRepo | Path | str, dest: Path | str, *, depth: int | None = None,
              branch: str | None = None, args: tuple[str, ...] = ()) -> GitRepo:
        """Clone `source` into `dest` (a file:// URL, so --depth really makes a shallow clone)."""
        src = source.path if isinstance(source, GitRepo) else Path(source)
        cmd = ["git", "clone", "-q"]
        if depth is not None:
            cmd += ["--depth", str(depth)]
        if branch is not None:
            cmd += ["--branch", branch]
        cmd += [*args, src.resolve().as_uri(), str(dest)]
        subprocess.run(cmd, check=True, capture_output=True, env=_git_env())
        repo = cls(dest, init=False)
        repo.git("config", "user.name", "Test Author")
        repo.git("config", "user.email", "author@example.com")
        repo.git("config", "commit.gpgsign", "false")
        return repo

    # running git ---------------------------------------------------------------------------------------------------

    def git(self, *args: str, check: bool = True, env: dict[str, str] | None = None,
            input: str | bytes | None = None) -> str:
        """Run git in the repository and return its stdout (text). A failure raises with git's stderr."""
        return self.git_bytes(*args, check=check, env=env,
                              input=input.encode() if isinstance(input, str) else input).decode("utf-8", "replace")

    def git_bytes(self, *args: str, check: bool = True, env: dict[str, str] | None = None,
                  input: bytes | None = None) -> bytes:
        proc = subprocess.run(["git", *args], cwd=self.path, capture_output=True, input=input,
                              env=_git_env(env))
        if check and proc.returncode != 0:
            raise GitCommandFailed(args, proc.returncode, proc.stderr.decode("utf-8", "replace"))
        return proc.stdout

    # files ---------------------------------------------------------------------------------------------------------

    def write(self, rel: str, content: str | bytes, *, executable: bool | None = None) -> Path:
        """Write a file (creating its folders). Text is written byte-exact: no newline translation."""
        target = self.path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode("utf-8") if isinstance(content, str) else content
        if target.is_symlink():
            target.unlink()
        target.write_bytes(data)
        if executable is not None:
            self.chmod(rel, executable=executable)
        return target

    def read(self, rel: str) -> str:
        return (self.path / rel).read_text(encoding="utf-8")

    def delete(self, rel: str) -> None:
        target = self.path / rel
        if target.is_dir() and not target.is_symlink():
            import shutil

            shutil.rmtree(target)
        else:
            target.unlink()

    def chmod(self, rel: str, *, executable: bool) -> None:
        target = self.path / rel
        mode = target.stat().st_mode
        bits = stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH
        target.chmod(mode | bits if executable else mode & ~bits)

    def symlink(self, rel: str, points_to: str) -> Path:
        target = self.path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(points_to)
        return target

    def rename(self, old: str, new: str) -> None:
        """`git mv`: the rename is staged."""
        (self.path / new).parent.mkdir(parents=True, exist_ok=True)
        self.git("mv", old, new)

    # index and history ---------------------------------------------------------------------------------------------

    def add(self, *paths: str) -> None:
        self.git("add", "--", *paths)

    def stage_all(self) -> None:
        self.git("add", "-A")

    def commit(self, message: str = "change", *, all: bool = False, allow_empty: bool = False) -> str:
        """Commit (with `all`, stage every change first, new files included) and return the new sha."""
        if all:
            self.stage_all()
        args = ["commit", "-q", "--no-verify", "-m", message]
        if allow_empty:
            args.append("--allow-empty")
        self.git(*args)
        return self.head()

    def commit_files(self, files: dict[str, str | bytes], message: str = "change") -> str:
        """Write the files, stage exactly them, commit, return the sha."""
        for rel, content in files.items():
            self.write(rel, content)
        self.add(*files)
        return self.commit(message)

    def branch(self, name: str, start: str | None = None) -> None:
        self.git("branch", name, *([start] if start else []))

    def checkout(self, name: str, *, create: bool = False) -> None:
        self.git("checkout", "-q", *(["-b"] if create else []), name)

    def tag(self, name: str, rev: str = "HEAD") -> None:
        self.git("tag", name, rev)

    def merge(self, branch: str, message: str | None = None) -> str:
        """A merge commit (never fast-forward); returns its sha."""
        self.git("merge", "-q", "--no-ff", "--no-edit", *(["-m", message] if message else []), branch)
        return self.head()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").strip()

    def rev(self, name: str) -> str:
        return self.git("rev-parse", "--verify", name + "^{commit}").strip()

    def staged_names(self) -> list[str]:
        return [n for n in self.git("diff", "--cached", "--name-only", "-z").split("\0") if n]

    def diff_lines(self, base: str, head: str = "HEAD", *, merge_base: bool = True) -> dict[str, set[int]]:
        """New-side line numbers GitHub lets a review comment on (added and context lines of every hunk).

        With merge_base (the default, like a pull request), the diff is merge-base(base, head)..head.
        Use it as `github_server.diff_lines = repo.diff_lines(base_sha, head_sha)`.
        """
        spec = f"{base}...{head}" if merge_base else f"{base}..{head}"
        text = self.git("diff", "--no-ext-diff", "--no-color", "-U3", "--find-renames", spec)
        lines: dict[str, set[int]] = {}
        current: set[int] | None = None
        new_line = old_left = new_left = 0
        for row in text.split("\n"):
            if old_left > 0 or new_left > 0:  # inside a hunk: count both sides so "-- x" is not a header
                if row.startswith("\\"):  # "\ No newline at end of file"
                    continue
                if row.startswith("-"):
                    old_left -= 1
                    continue
                if current is not None:
                    current.add(new_line)
                new_line += 1
                new_left -= 1
                if not row.startswith("+"):  # a context line counts on both sides
                    old_left -= 1
                continue
            if row.startswith("diff --git "):
                current = None
            elif row.startswith("+++ "):
                name = row[4:].rstrip("\t")  # git ends names holding spaces with a tab
                current = None if name == "/dev/null" else lines.setdefault(_strip_prefix(name), set())
            elif header := _HUNK_HEADER.match(row):
                old_left = int(header.group(1) or 1)
                new_line = int(header.group(2))
                new_left = int(header.group(3) if header.group(3) is not None else 1)
        return {path: numbers for path, numbers in lines.items() if numbers}

    # proving nothing changed ---------------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, str]:
        """A digest per part of the repository state; compare two snapshots to see what changed.

        Parts: HEAD (symbolic and resolved), every ref, .git/config, the index file's bytes, `git status`, and each
        work-tree file (bytes, executable bit, symlink target). Read-only: status runs without optional locks, so it
        does not refresh the index.
        """
        git_dir = Path(self.git("rev-parse", "--absolute-git-dir").strip())
        parts: dict[str, str] = {
            "HEAD": _read_bytes(git_dir / "HEAD").decode("utf-8", "replace").strip(),
            "HEAD^{commit}": self.git("rev-parse", "-q", "--verify", "HEAD", check=False).strip(),
            "refs": _digest(self.git_bytes("for-each-ref", "--format=%(objectname) %(refname)")),
            "config": _digest(_read_bytes(git_dir / "config")),
            "index": _digest(_read_bytes(git_dir / "index")),
            "status": _digest(self.git_bytes("--no-optional-locks", "status", "--porcelain=v2", "-z", "--branch",
                                             "--untracked-files=all", "--ignored")),
        }
        for root, dirs, files in os.walk(self.path):
            rel_root = Path(root).relative_to(self.path)
            if rel_root == Path("."):
                dirs[:] = [d for d in dirs if d != ".git"]
            dirs.sort()
            for name in sorted(dirs):
                full = Path(root) / name
                if full.is_symlink():
                    parts[f"tree:{rel_root / name}"] = "symlink->" + os.readlink(full)
            for name in sorted(files):
                full = Path(root) / name
                key = f"tree:{(rel_root / name).as_posix()}"
                if full.is_symlink():
                    parts[key] = "symlink->" + os.readlink(full)
                else:
                    executable = bool(full.stat().st_mode & stat.S_IXUSR)
                    parts[key] = _digest(full.read_bytes()) + (" +x" if executable else "")
        return parts

    def state_hash(self) -> str:
        """One digest of `snapshot()`: equal before and after a run means the run changed nothing."""
        return _digest("\n".join(f"{k}\t{v}" for k, v in sorted(self.snapshot().items())).encode("utf-8"))

    def __repr__(self) -> str:
        return f"GitRepo({str(self.path)!r})"


class GitCommandFailed(RuntimeError):
    def __init__(self, args: tuple[str, ...], returncode: int, stderr: str) -> None:
        super().__init__(f"git {' '.join(args)} failed with {returncode}: {stderr.strip()}")
        self.returncode = returncode
        self.stderr = stderr


def _git_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _REDIRECTING_VARS}
    env["GIT_TERMINAL_PROMPT"] = "0"
    env.update(extra or {})
    return env


def _strip_prefix(name: str) -> str:
    if name.startswith('"'):  # C-quoted name (non-ASCII or special characters)
        name = _unquote_c(name)
    return name[2:] if name.startswith(("a/", "b/")) else name


def _unquote_c(quoted: str) -> str:
    """Undo git's C-style quoting of a path ("caf\\303\\251.py" -> "café.py")."""
    body = quoted[1:-1]
    out = bytearray()
    i = 0
    escapes = {"n": 10, "t": 9, '"': 34, "\\": 92, "a": 7, "b": 8, "f": 12, "r": 13, "v": 11}
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in "01234567":
                out.append(int(body[i + 1:i + 4], 8))
                i += 4
                continue
            out.append(escapes.get(nxt, ord(nxt)))
            i += 2
            continue
        out += ch.encode("utf-8")
        i += 1
    return out.decode("utf-8", "replace")


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
