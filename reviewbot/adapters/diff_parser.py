"""Turn `git diff` output into reviewbot's FileDiff records, with unidiff doing the parsing.

unidiff objects stay inside this module. Each Line carries its new-file number, which is what findings
are anchored to; removed lines carry only their old number.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from reviewbot.core.errors import GitError
from reviewbot.core.models import FileDiff, Hunk, Line

if TYPE_CHECKING:
    from unidiff.patch import Hunk as UnidiffHunk, PatchedFile

    from reviewbot.core.models import FileStatus

_DEV_NULL = "/dev/null"
_SYMLINK_MODE = "120000"
_SUBMODULE_MODE = "160000"


class ParsedFiles(tuple[FileDiff, ...]):
    """parse_diff's answer: a tuple of FileDiffs that also carries `source_digest`, a sha256 of the diff text they
    were parsed from.

    The same text through the same parser gives equal FileDiffs, so the digest names the content without hashing
    every line again (the plan cache keys on it; see reviewbot/pipeline/plan_cache.py). It equals, hashes and prints
    like the plain tuple; any tuple built from it (a slice, a filter) is a plain tuple without a digest.
    """

    source_digest: str

    def __new__(cls, files: tuple[FileDiff, ...], source_digest: str) -> ParsedFiles:
        parsed = super().__new__(cls, files)
        parsed.source_digest = source_digest
        return parsed

    def __reduce__(self) -> tuple[type[ParsedFiles], tuple[tuple[FileDiff, ...], str]]:
        return ParsedFiles, (tuple(self), self.source_digest)


def parse_diff(raw: bytes | str) -> tuple[FileDiff, ...]:
    """Parse a unified diff (as git prints it) into FileDiffs, in the diff's own order (a ParsedFiles)."""
    from unidiff.errors import UnidiffParseError
    from unidiff.patch import PatchSet  # its own module: the package does not re-export it explicitly

    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    if not text.strip():
        return ParsedFiles((), digest)
    text = _unambiguous_headers(text)
    try:
        # unidiff reads every header and checks every hunk's line types and counts, but in metadata_only mode it
        # builds no object per line (~3x faster); _hunk_lines then reads the lines of each hunk it found.
        patch = PatchSet(text, metadata_only=True)
    except UnidiffParseError as exc:
        raise GitError(f"could not parse the diff: {exc}") from None
    bodies = _hunk_lines(text, [h for pf in patch for h in pf])
    if bodies is None:  # the hunks found do not line up with unidiff's (never seen): let unidiff read the lines
        return ParsedFiles(_parse_fully(text), digest)
    feed = iter(bodies)
    return ParsedFiles(tuple(_convert_file(pf, feed) for pf in patch), digest)


_HEADER_NAMES = (("--- ", "old"), ("+++ ", "new"), ("rename from ", "from"), ("rename to ", "to"),
                 ("copy from ", "from"), ("copy to ", "to"))


def _unambiguous_headers(text: str) -> str:
    """`text` with every `diff --git` header whose names contain " b/" rewritten so that unidiff splits it right.

    unidiff splits `diff --git a/X b/Y` at the last " b/", so a file named "x b/c.py" gave a header that disagreed
    with its own `+++` line and the whole diff failed to parse. Such a header, and its `---`/`+++` lines, are
    rewritten with C-quoted names (a space written \\040, as git itself quotes unusual names), which _unquote reads
    back. The names come from the `---`/`+++` lines, else rename/copy lines, else the header's two equal halves."""
    if " b/" not in text and ' "b/' not in text:
        return text
    lines = text.split("\n")
    count = len(lines)
    for i in range(count):
        line = lines[i]
        if not line.startswith("diff --git ") or line.count(" b/") + line.count(' "b/') < 2:
            continue
        names: dict[str, tuple[int, str]] = {}
        j = i + 1
        while j < count and not lines[j].startswith(("diff --git ", "@@ ")):
            for prefix, key in _HEADER_NAMES:
                if lines[j].startswith(prefix):
                    names[key] = (j, lines[j][len(prefix):])
                    break
            j += 1
        old = _header_name(names.get("old"), "a/")
        new = _header_name(names.get("new"), "b/")
        if old is None or new is None:
            old = new = None
            if "from" in names and "to" in names:
                old, new = _unquote(names["from"][1]), _unquote(names["to"][1])
            else:
                old = new = _equal_halves(line[len("diff --git "):])
        if old is None or new is None:
            continue  # not a header git writes; let unidiff judge it
        lines[i] = f"diff --git {_quote('a/' + old)} {_quote('b/' + new)}"
        for key, prefix, side in (("old", "--- ", "a/"), ("new", "+++ ", "b/")):
            if key in names and names[key][1].split("\t", 1)[0] != _DEV_NULL:
                at, value = names[key]
                lines[at] = prefix + _quote(side + _strip_prefix(_unquote(value.split("\t", 1)[0])))
    return "\n".join(lines)


def _header_name(entry: tuple[int, str] | None, prefix: str) -> str | None:
    """The path of a `---`/`+++` line's value (quoting undone, prefix and git's trailing tab dropped)."""
    if entry is None:
        return None
    value = _unquote(entry[1].split("\t", 1)[0])
    if value == _DEV_NULL:
        return None
    return value[len(prefix):] if value.startswith(prefix) else None


def _equal_halves(rest: str) -> str | None:
    """The path of `a/P b/P` (or its quoted form), found as the split point where both halves name the same file."""
    for at in range(len(rest)):
        if rest[at] != " ":
            continue
        left, right = _unquote(rest[:at]), _unquote(rest[at + 1:])
        if left.startswith("a/") and right.startswith("b/") and left[2:] == right[2:]:
            return left[2:]
    return None


def _quote(path: str) -> str:
    out = []
    for ch in path:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == " ":
            out.append("\\040")
        elif ch in "\t\n\r":
            out.append({"\t": "\\t", "\n": "\\n", "\r": "\\r"}[ch])
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _parse_fully(text: str) -> tuple[FileDiff, ...]:
    """parse_diff with unidiff building every line itself: the fallback, and what tests compare the fast path to."""
    from unidiff.errors import UnidiffParseError
    from unidiff.patch import PatchSet  # its own module: the package does not re-export it explicitly

    try:
        patch = PatchSet(text)
    except UnidiffParseError as exc:
        raise GitError(f"could not parse the diff: {exc}") from None
    return tuple(_convert_file(pf) for pf in patch)


def _hunk_lines(text: str, hunks: list[UnidiffHunk]) -> list[tuple[Line, ...]] | None:
    """The Lines of each of `hunks` (unidiff's metadata-only hunks of `text`, in order), read the way unidiff reads
    them; None when the hunk headers in the text do not match those hunks one for one.

    It walks the text as unidiff does: lines end at "\n" only; outside a hunk, a line matching unidiff's hunk
    header pattern starts a hunk (no other diff line starts with "@@"); a hunk reads at least one line and stops
    once its old and new line counts are complete. "+", "-" and " " lines are kept; "\\ No newline" markers are not
    (unidiff keeps them, _convert_hunk drops them); an empty line or one starting with "\r" is context whose text
    is what unidiff's empty-line pattern captures. Texts lose their line ending as in _convert_hunk.
    """
    from unidiff.constants import RE_HUNK_EMPTY_BODY_LINE, RE_HUNK_HEADER
    from unidiff.patch import Hunk as UnidiffHunk

    pieces = text.split("\n")
    ends_with_newline = pieces[-1] == ""
    if ends_with_newline:
        pieces.pop()
    count = len(pieces)
    out: list[tuple[Line, ...]] = []
    found = 0
    i = 0
    while i < count:
        piece = pieces[i]
        i += 1
        if not piece.startswith("@@ -"):
            continue
        header = RE_HUNK_HEADER.match(piece)
        if header is None:
            continue
        if found == len(hunks):
            return None
        hunk = hunks[found]
        found += 1
        mine = UnidiffHunk(*header.groups())
        if (mine.source_start, mine.source_length, mine.target_start, mine.target_length, mine.section_header) != (
                hunk.source_start, hunk.source_length, hunk.target_start, hunk.target_length, hunk.section_header):
            return None
        old_no, new_no = hunk.source_start, hunk.target_start
        old_end, new_end = old_no + hunk.source_length, new_no + hunk.target_length
        lines: list[Line] = []
        append = lines.append
        while i < count:
            piece = pieces[i]
            i += 1
            kind = piece[:1]
            if kind == "+":
                append(Line("+", piece[1:-1] if piece.endswith("\r") else piece[1:], None, new_no))
                new_no += 1
            elif kind == " ":
                append(Line(" ", piece[1:-1] if piece.endswith("\r") else piece[1:], old_no, new_no))
                old_no += 1
                new_no += 1
            elif kind == "-":
                append(Line("-", piece[1:-1] if piece.endswith("\r") else piece[1:], old_no, None))
                old_no += 1
            elif kind == "" or kind == "\r":  # what unidiff's empty-line pattern captures, read as context
                line = piece + "\n" if (i < count or ends_with_newline) else piece
                # An empty context line here starts with "\r" or "\n", which the pattern always accepts.
                empty = RE_HUNK_EMPTY_BODY_LINE.match(line)
                assert empty is not None
                value = empty.group("value")
                if value.endswith("\n"):
                    value = value[:-1]
                append(Line(" ", value[:-1] if value.endswith("\r") else value, old_no, new_no))
                old_no += 1
                new_no += 1
            elif kind != "\\":  # "\ No newline at end of file" markers count for nothing and are not kept
                return None  # unidiff refused such a line already; be safe all the same
            if old_no == old_end and new_no == new_end:
                break
        if old_no != old_end or new_no != new_end:
            return None
        out.append(tuple(lines))
    return out if found == len(hunks) else None


def _convert_file(pf: PatchedFile, bodies: Iterator[tuple[Line, ...]] | None = None) -> FileDiff:
    source = _strip_prefix(_unquote(pf.source_file or _DEV_NULL))
    target = _strip_prefix(_unquote(pf.target_file or _DEV_NULL))
    info = "".join(str(x) for x in (pf.patch_info or ()))
    similarity = _header_value(info, "similarity index ")

    status: FileStatus
    if pf.is_removed_file or target == _DEV_NULL:
        status, path, old_path = "deleted", source, source
    elif pf.is_added_file and source == _DEV_NULL:
        status, path, old_path = "added", target, None
    elif "\nrename from " in "\n" + info or (source != target and source != _DEV_NULL):
        status, path, old_path = "renamed", target, source
    elif "\ncopy from " in "\n" + info:
        status, path, old_path = "copied", target, source
    else:
        status, path, old_path = "modified", target, source

    # A rename with no content change has no ---/+++ lines; unidiff then leaves names from the header.
    rename_to = _header_value(info, "rename to ")
    rename_from = _header_value(info, "rename from ")
    if rename_to and rename_from:
        status, path, old_path = "renamed", _unquote(rename_to), _unquote(rename_from)
    copy_to, copy_from = _header_value(info, "copy to "), _header_value(info, "copy from ")
    if copy_to and copy_from:
        status, path, old_path = "copied", _unquote(copy_to), _unquote(copy_from)

    old_mode = pf.source_mode or _header_value(info, "old mode ") or _header_value(info, "deleted file mode ")
    new_mode = pf.target_mode or _header_value(info, "new mode ") or _header_value(info, "new file mode ")
    mode = new_mode or old_mode
    hunks = tuple(_convert_hunk(h, next(bodies) if bodies is not None else None) for h in pf)
    # Diffs are asked for with --text (see gitio), so binary content arrives as lines: a NUL byte marks it, as git's
    # own check does, and such a file keeps no hunks (nothing of it is scanned or sent).
    binary = bool(pf.is_binary_file) or any("\0" in ln.text for h in hunks for ln in h.lines)
    if binary:
        hunks = ()
    return FileDiff(
        path=path,
        old_path=old_path,
        status=status,
        hunks=hunks,
        is_binary=binary,
        old_mode=old_mode,
        new_mode=new_mode,
        is_symlink=mode == _SYMLINK_MODE,
        is_submodule=mode == _SUBMODULE_MODE,
        similarity=int(similarity.rstrip("%")) if similarity and similarity.rstrip("%").isdigit() else None,
    )


def _convert_hunk(h: UnidiffHunk, lines_read: tuple[Line, ...] | None = None) -> Hunk:
    return Hunk(
        old_start=h.source_start,
        old_len=h.source_length,
        new_start=h.target_start,
        new_len=h.target_length,
        section=(h.section_header or "").strip(),
        lines=lines_read if lines_read is not None else _unidiff_lines(h),
    )


def _unidiff_lines(h: UnidiffHunk) -> tuple[Line, ...]:
    # The hottest loop of a large review (one pass per diff line): the end-of-line strip is inlined and Line is
    # built positionally, which halves the time of this function on a 100,000-line diff.
    lines: list[Line] = []
    append = lines.append
    for ln in h:
        kind = ln.line_type
        if kind != "+" and kind != "-" and kind != " ":
            continue  # "\ No newline at end of file" markers carry no code
        text = ln.value
        if text[-1:] == "\n":
            text = text[:-1]
        if text[-1:] == "\r":
            text = text[:-1]  # CRLF files: keep the text, drop the line ending
        # kind is "+", "-" or " " (tested above; mypy does not narrow a str by `!=`)
        append(Line(kind, text, ln.source_line_no, ln.target_line_no))  # type: ignore[arg-type]
    return tuple(lines)


def _strip_prefix(path: str) -> str:
    if path == _DEV_NULL:
        return path
    return path[2:] if path[:2] in ("a/", "b/") else path


def _header_value(info: str, prefix: str) -> str | None:
    for line in info.splitlines():
        if line.startswith(prefix):
            return line[len(prefix):].strip()
    return None


def _unquote(name: str) -> str:
    """Undo git's C-style quoting of unusual file names ("a/tab\\there")."""
    name = name.strip()
    if len(name) < 2 or not (name.startswith('"') and name.endswith('"')):
        return name
    body = name[1:-1]
    out = bytearray()
    i = 0
    escapes = {
        "n": b"\n", "t": b"\t", '"': b'"', "\\": b"\\", "a": b"\a", "b": b"\b", "f": b"\f", "r": b"\r", "v": b"\v",
    }
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in "01234567" and i + 3 < len(body) + 1 and body[i + 1:i + 4].isdigit():
                out.append(int(body[i + 1:i + 4], 8))
                i += 4
                continue
            out += escapes.get(nxt, nxt.encode())
            i += 2
            continue
        out += ch.encode("utf-8")
        i += 1
    return out.decode("utf-8", errors="replace")
