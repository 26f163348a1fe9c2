"""Turn `git diff` output into reviewbot's FileDiff records, with unidiff doing the parsing.

unidiff objects stay inside this module. Each Line carries its new-file number, which is what findings
are anchored to; removed lines carry only their old number.
"""

from __future__ import annotations

import hashlib

from reviewbot.errors import GitError
from reviewbot.models import FileDiff, Hunk, Line

_DEV_NULL = "/dev/null"
_SYMLINK_MODE = "120000"
_SUBMODULE_MODE = "160000"


class ParsedFiles(tuple):
    """parse_diff's answer: a tuple of FileDiffs that also carries `source_digest`, a sha256 of the diff text they
    were parsed from.

    The same text through the same parser gives equal FileDiffs, so the digest names the content without hashing
    every line again (the plan cache keys on it; see reviewbot/plancache.py). It equals, hashes and prints like the
    plain tuple; any tuple built from it (a slice, a filter) is a plain tuple without a digest.
    """

    source_digest: str

    def __new__(cls, files: tuple[FileDiff, ...], source_digest: str) -> ParsedFiles:
        parsed = super().__new__(cls, files)
        parsed.source_digest = source_digest
        return parsed

    def __reduce__(self):
        return ParsedFiles, (tuple(self), self.source_digest)


def parse_diff(raw: bytes | str) -> tuple[FileDiff, ...]:
    """Parse a unified diff (as git prints it) into FileDiffs, in the diff's own order (a ParsedFiles)."""
    from unidiff import PatchSet
    from unidiff.errors import UnidiffParseError

    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    if not text.strip():
        return ParsedFiles((), digest)
    try:
        patch = PatchSet(text)
    except UnidiffParseError as exc:
        raise GitError(f"could not parse the diff: {exc}") from None
    return ParsedFiles(tuple(_convert_file(pf) for pf in patch), digest)


def _convert_file(pf) -> FileDiff:
    source = _strip_prefix(_unquote(pf.source_file or _DEV_NULL))
    target = _strip_prefix(_unquote(pf.target_file or _DEV_NULL))
    info = "".join(str(x) for x in (pf.patch_info or ()))
    similarity = _header_value(info, "similarity index ")

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
    hunks = tuple(_convert_hunk(h) for h in pf)
    return FileDiff(
        path=path,
        old_path=old_path,
        status=status,  # type: ignore[arg-type]
        hunks=hunks,
        is_binary=bool(pf.is_binary_file),
        old_mode=old_mode,
        new_mode=new_mode,
        is_symlink=mode == _SYMLINK_MODE,
        is_submodule=mode == _SUBMODULE_MODE,
        similarity=int(similarity.rstrip("%")) if similarity and similarity.rstrip("%").isdigit() else None,
    )


def _convert_hunk(h) -> Hunk:
    # The hottest loop of a large review (one pass per diff line): the end-of-line strip is inlined and Line is
    # built positionally, which halves the time of this function on a 100,000-line diff.
    lines = []
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
        append(Line(kind, text, ln.source_line_no, ln.target_line_no))
    return Hunk(
        old_start=h.source_start,
        old_len=h.source_length,
        new_start=h.target_start,
        new_len=h.target_length,
        section=(h.section_header or "").strip(),
        lines=tuple(lines),
    )


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
    escapes = {"n": b"\n", "t": b"\t", '"': b'"', "\\": b"\\", "a": b"\a", "b": b"\b", "f": b"\f", "r": b"\r", "v": b"\v"}
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
