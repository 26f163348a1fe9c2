"""The baseline: findings a team has accepted for now, recorded in `.reviewbot-baseline.json` and absorbed on
every later run so that only new findings are shown.

A finding is recognised by a fingerprint of its path, agent, category and the whitespace-squashed text of its
first flagged line. Line numbers are left out (code moves when lines are inserted above it) and so is the
model's message (its wording changes between runs). The end of a range is left out too: it is the model's
choice and varies. Identical fingerprints are counted, and a run absorbs at most that many findings per
fingerprint, so a second copy of an accepted problem still shows.

File format (sorted, indent 2, trailing newline, so that it diffs well in git):
    {"version": 1, "findings": [{"fingerprint": ..., "path": ..., "agent": ..., "category": ...,
                                 "line_text": ..., "message": ..., "count": 1}, ...]}
Only `fingerprint` and `count` are read back; the other fields are there for the people reviewing the file.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from reviewbot.adapters.repository_files import FileSource
from reviewbot.core.errors import ConfigError, ReviewbotError
from reviewbot.core.models import Finding, FindingSource

if TYPE_CHECKING:
    from reviewbot.config import Settings

VERSION = 1
MAX_SHOWN_TEXT = 200  # characters of line_text / message kept in the file for people to read

# (path, line) -> the text of that line at the reviewed revision, or None when unknown.
LineText = Callable[[str, int], "str | None"]


@dataclass(frozen=True, slots=True)
class BaselineEntry:
    fingerprint: str
    path: str = ""
    agent: str = ""
    category: str = ""
    line_text: str = ""
    message: str = ""
    count: int = 1


@dataclass(frozen=True, slots=True)
class Baseline:
    entries: tuple[BaselineEntry, ...]
    label: str = ""  # where it was read from, for messages

    def allowance(self) -> Counter[str]:
        """How many findings each fingerprint may absorb."""
        counts: Counter[str] = Counter()
        for entry in self.entries:
            counts[entry.fingerprint] += entry.count
        return counts

    @property
    def total(self) -> int:
        return sum(e.count for e in self.entries)


# -- fingerprints ---------------------------------------------------------------------------------------------

def squash(text: str) -> str:
    return " ".join(text.split())


def fingerprint(path: str, agent: str, category: str, flagged_text: str) -> str:
    payload = json.dumps([path, agent, category.strip().lower(), flagged_text], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def flagged_text(finding: Finding, line_text: LineText) -> str:
    """The normalised text the fingerprint uses; when the line's text is unknown, a line-number stand-in.

    The stand-in makes such a finding match only at the same line: a conservative failure (it shows again)
    rather than one that would absorb unrelated findings of the same category in the file.
    """
    text = line_text(finding.path, finding.line)
    if text is None:
        return f"\0line {finding.line}"
    return squash(text)


def finding_fingerprint(finding: Finding, line_text: LineText) -> str:
    return fingerprint(finding.path, finding.agent, finding.category, flagged_text(finding, line_text))


# -- building and writing -------------------------------------------------------------------------------------

def _redact(text: str) -> str:
    from reviewbot.secrets.redaction import redact
    return redact(text)[0]


def _shorten(text: str) -> str:
    text = squash(text)
    return text if len(text) <= MAX_SHOWN_TEXT else text[: MAX_SHOWN_TEXT - 3].rstrip() + "..."


def build_baseline(findings: Iterable[Finding], line_text: LineText) -> Baseline:
    """One entry per fingerprint, counting how many of today's findings share it, in a stable order."""
    entries: dict[str, BaselineEntry] = {}
    counts: Counter[str] = Counter()
    for f in sorted(findings, key=lambda f: (f.path, f.line, f.category, f.agent, f.message)):
        fp = finding_fingerprint(f, line_text)
        counts[fp] += 1
        if fp in entries:
            continue
        text = line_text(f.path, f.line)
        # The file is committed: never copy a secret into it, and keep only what helps a reader.
        shown = "[secret redacted]" if f.source == FindingSource.SECRETS else _shorten(_redact(text or ""))
        entries[fp] = BaselineEntry(fp, f.path, f.agent, f.category, shown, _shorten(_redact(f.message)))
    out = [BaselineEntry(e.fingerprint, e.path, e.agent, e.category, e.line_text, e.message, counts[fp])
           for fp, e in entries.items()]
    out.sort(key=lambda e: (e.path, e.agent, e.category, e.line_text, e.fingerprint))
    return Baseline(tuple(out))


def render_baseline(baseline: Baseline) -> str:
    data = {
        "version": VERSION,
        "findings": [
            {"fingerprint": e.fingerprint, "path": e.path, "agent": e.agent, "category": e.category,
             "line_text": e.line_text, "message": e.message, "count": e.count}
            for e in baseline.entries
        ],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def write_baseline(path: Path, baseline: Baseline, *, root: Path | None = None, rel: str | None = None) -> None:
    """Replace the file with `baseline` (written to a temporary name first, so a crash leaves the old one).

    With `root` and `rel` (a baseline inside the repository, as its config names it) the write goes through
    sources.write_repo_file: it never follows a link and never leaves the repository."""
    data = render_baseline(baseline).encode("utf-8")
    try:
        if root is not None and rel is not None:
            from reviewbot.adapters.repository_files import write_repo_file

            write_repo_file(root, rel, data, what="baseline file (setting 'baseline')")
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.reviewbot-{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o666)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        raise ReviewbotError(f"cannot write the baseline {path}: {exc.strerror}") from None


# -- reading --------------------------------------------------------------------------------------------------

def parse_baseline(text: str, label: str) -> Baseline:
    """Read a baseline file's text; ConfigError naming `label` when it is not one."""

    def broken(why: str) -> ConfigError:
        return ConfigError(f"the baseline {label} is not usable ({why}); fix it, or delete it and run "
                           f"`reviewbot baseline` again")

    try:
        data = json.loads(text)
    except ValueError as exc:
        raise broken(f"not valid JSON: {exc}") from None
    except RecursionError:
        raise broken("nested too deeply") from None
    if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
        raise broken('expected an object with a "findings" list')
    if data.get("version") != VERSION:
        raise broken(f"unsupported version {data.get('version')!r}, expected {VERSION}")
    entries = []
    for i, item in enumerate(data["findings"]):
        if not isinstance(item, dict) or not isinstance(item.get("fingerprint"), str) or not item["fingerprint"]:
            raise broken(f"entry {i + 1} has no fingerprint")
        count = item.get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise broken(f"entry {i + 1} has a count that is not a positive whole number")
        entries.append(BaselineEntry(
            fingerprint=item["fingerprint"],
            path=str(item.get("path", "")),
            agent=str(item.get("agent", "")),
            category=str(item.get("category", "")),
            line_text=str(item.get("line_text", "")),
            message=str(item.get("message", "")),
            count=count,
        ))
    return Baseline(tuple(entries), label)


def baseline_location(setting: str | None, root: Path, *, from_repository: bool = False
                      ) -> tuple[str | None, Path | None]:
    """(repository-relative POSIX path or None, absolute path) of the configured baseline; (None, None) if off.

    A baseline the repository's config names must be inside the repository (an absolute path or `..` is a
    ConfigError naming the setting); only the user's own settings may put it elsewhere."""
    from reviewbot.adapters.repository_files import relative_repo_path

    if not setting or not setting.strip():
        return None, None
    raw = setting.strip()
    if not from_repository and (Path(raw).expanduser().is_absolute()):
        return None, Path(raw).expanduser()
    rel_text = relative_repo_path(raw, "baseline file (setting 'baseline')")
    return rel_text, root / rel_text


def from_repository(settings: Settings) -> bool:
    """True when the `baseline` setting came from the repository's own config (or is the default, which is
    inside the repository anyway)."""
    origin = settings.origins.get("baseline", "default")
    return origin == "default" or origin.startswith("repository")


def read_baseline(source: FileSource, setting: str | None, root: Path, *, from_repository: bool = False
                  ) -> Baseline | None:
    """The baseline as the rules source has it (in CI: the target branch, so a pull request cannot accept its
    own findings), or None when there is none."""
    rel, absolute = baseline_location(setting, root, from_repository=from_repository)
    if rel is not None:
        text = source.read_text(rel, what="baseline file (setting 'baseline')")
        label = rel if source.label == "work tree" else f"{rel} ({source.label})"
    elif absolute is not None:
        label = str(absolute)
        try:
            text = absolute.read_text(encoding="utf-8", errors="replace") if absolute.is_file() else None
        except OSError as exc:
            raise ConfigError(f"cannot read the baseline {absolute}: {exc.strerror}") from None
    else:
        return None
    if text is None:
        return None
    return parse_baseline(text, label)


# -- applying -------------------------------------------------------------------------------------------------

def absorb(findings: Sequence[Finding], baseline: Baseline, line_text: LineText) -> tuple[list[Finding], int, int]:
    """Remove the findings the baseline accepts: (kept, absorbed, duplicates absorbed with them).

    Findings that the pipeline will later merge as duplicates (same path, line, category and agent) are taken
    as one unit, since the baseline was recorded after that merge.
    """
    left = baseline.allowance()
    groups: dict[tuple[str, int, str, str], list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.path, f.line, f.category, f.agent), []).append(f)
    gone: set[tuple[str, int, str, str]] = set()
    absorbed = extra = 0
    for key in sorted(groups):
        fp = finding_fingerprint(groups[key][0], line_text)
        if left[fp] > 0:
            left[fp] -= 1
            gone.add(key)
            absorbed += 1
            extra += len(groups[key]) - 1
    kept = [f for f in findings if (f.path, f.line, f.category, f.agent) not in gone]
    return kept, absorbed, extra
