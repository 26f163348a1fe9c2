"""Is a finding's suggestion replacement code, or advice in prose?

Reporters that can apply a suggestion (GitHub suggestion blocks, reviewdog's rdjson replacements, SARIF fixes) turn
it into text that replaces the finding's lines. Real models often fill the field with a sentence: Qwen2.5-Coder-1.5B
wrote "Add pagination and limits to the query." for lines 20-24, and 42 of its 42 suggestions on the bundled eval
corpus were English sentences. Applied, such a suggestion deletes the code and puts the sentence in its place.

So a suggestion is offered as replacement text only when
- it looks like code in the file's language: for Python it parses (`ast`) to at least one statement and is not a
  sentence; for other languages, what is left after comment lines is not an English sentence (see `looks_like_prose`);
  for documentation files (Markdown, reStructuredText, plain text) prose is the language, so nothing can tell an edit
  from an instruction and it is never offered;
- and reviewbot did not move the finding while anchoring it: the model wrote the replacement for the lines it cited,
  and after a move those are not the lines the suggestion would replace.
Otherwise the text is shown as advice. Nothing is dropped: advice is still printed, it just cannot be applied.
"""

from __future__ import annotations

import re
import textwrap
import warnings
from pathlib import PurePosixPath

from reviewbot.core.models import Finding

PYTHON_SUFFIXES = frozenset({".py", ".pyi", ".pyw"})
PROSE_SUFFIXES = frozenset({".md", ".markdown", ".rst", ".txt", ".adoc", ".asciidoc", ""})
_COMMENT_PREFIXES = ("#", "//", "--", "/*", "* ", "*/", ";;", "<!--")
_CODE_MARKS = "(){}[];=<>|&$\\"
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*")
_INLINE_CODE = re.compile(r"`[^`\n]+`")
_SENTENCE_START = re.compile(r"^(?:[-*\u2022]\s+|\d+[.)]\s+)?[A-Z][a-z]+\b")
# Python lines that continue a statement the replaced lines do not show; prefixed so that they can parse.
_CONTINUATIONS = {"elif": "if x:\n    pass\n", "else": "if x:\n    pass\n", "except": "try:\n    pass\n",
                  "finally": "try:\n    pass\n"}


def is_moved(finding: Finding) -> bool:
    """Reviewbot put the finding on other lines than the model cited: on another line, or with its range cut to
    the changed lines (a replacement written for the cited lines would replace the wrong ones)."""
    moved = finding.reanchored_from is not None and finding.reanchored_from != finding.line
    return moved or finding.clipped_from is not None


def looks_like_prose(text: str) -> bool:
    """An English sentence (or a few) rather than code: words and spaces, few code marks, a sentence's shape.

    Cheap and language-blind on purpose: "Add pagination and limits to the query." and "Use `with` so the file is
    closed." are prose; `return fmt.Errorf("load %d: %w", id, err)` and `SELECT * FROM users LIMIT 100` are not.
    """
    flat = " ".join(_INLINE_CODE.sub("code", text).split())
    words = _WORD.findall(flat)
    if len(words) < 3:
        return False
    marks = sum(flat.count(c) for c in _CODE_MARKS)
    wordy = sum(ch.isalpha() or ch.isspace() for ch in flat) / len(flat)
    sentence_shaped = flat[-1] in ".!?" or bool(_SENTENCE_START.match(flat))
    return sentence_shaped and wordy >= 0.75 and marks <= len(words) / 4


def _parses_as_python(text: str) -> bool:
    import ast  # only reporters that offer replacements need it

    code = textwrap.dedent(text).strip("\n")
    first = code.lstrip().split(None, 1)[0].rstrip(":") if code.strip() else ""
    candidates = [code]
    lines = [ln for ln in code.splitlines() if ln.strip()]
    if lines and lines[-1].rstrip().endswith(":"):  # the replaced lines open a block whose body follows them
        indent = len(lines[-1]) - len(lines[-1].lstrip())
        candidates.append(code + "\n" + " " * (indent + 4) + "pass")
    if first in _CONTINUATIONS:
        candidates += [_CONTINUATIONS[first] + c for c in list(candidates)]
    for candidate in candidates:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # SyntaxWarning for odd escapes in a model's strings
                tree = ast.parse(candidate)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            continue
        return bool(tree.body)  # only comments is not a replacement: it would delete the lines
    return False


def looks_like_code(text: str, path: str) -> bool:
    """Does `text` look like code in the language of the file at `path`?"""
    if not text or not text.strip():
        return False
    suffix = PurePosixPath(path).suffix.lower()
    if suffix in PYTHON_SUFFIXES:
        return _parses_as_python(text) and not looks_like_prose(text)
    if suffix in PROSE_SUFFIXES:
        return False
    code_lines = [ln for ln in text.splitlines() if ln.strip() and not ln.strip().startswith(_COMMENT_PREFIXES)]
    return bool(code_lines) and not looks_like_prose("\n".join(code_lines))


def replacement(finding: Finding) -> str | None:
    """The suggestion as text that may replace the finding's lines, or None when it is advice (or absent)."""
    text = finding.suggestion
    if not text or not text.strip() or is_moved(finding):
        return None
    return text if looks_like_code(text, finding.path) else None


def advice(finding: Finding) -> str | None:
    """The suggestion to show as advice (not applicable), or None when there is none or it is replacement code."""
    text = finding.suggestion
    if not text or not text.strip() or replacement(finding) is not None:
        return None
    return text


def advice_heading(finding: Finding) -> str:
    """How reporters introduce advice: code the model wrote for other lines is said to be that, prose is advice."""
    if is_moved(finding) and finding.suggestion and looks_like_code(finding.suggestion, finding.path):
        if finding.reanchored_from is not None and finding.reanchored_from != finding.line:
            return f"Suggested code (written for line {finding.reanchored_from}; not applicable here)"
        return (f"Suggested code (written for lines {finding.line}\u2013{finding.clipped_from}; not applicable "
                f"here)")
    return "Advice"
