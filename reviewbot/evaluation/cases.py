"""Loading an evaluation corpus: each case's diff.patch, expected.json and optional base/ files."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reviewbot.core.errors import ConfigError
from reviewbot.core.models import Severity

CORPUS_PACKAGE_DIR = "eval_corpus"


@dataclass(frozen=True, slots=True)
class ExpectedIssue:
    path: str
    start: int
    end: int
    category: str
    severity: Severity = Severity.ERROR


@dataclass(frozen=True, slots=True)
class Evidence:
    """Lines outside the diff that a reviewer needs to see the defect (new-revision numbers)."""

    path: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class EvalCase:
    name: str
    directory: Path
    patch: str
    base_dir: Path | None
    expected: tuple[ExpectedIssue, ...]
    description: str = ""
    evidence: tuple[Evidence, ...] = ()

    @property
    def is_clean(self) -> bool:
        return not self.expected


def bundled_corpus_dir() -> Path:
    """The corpus shipped inside the package, used when `reviewbot eval` is given no directory."""
    return Path(__file__).resolve().parents[1] / CORPUS_PACKAGE_DIR


def load_cases(corpus_dir: Path) -> list[EvalCase]:
    """Every case under `corpus_dir`, sorted by name; `corpus_dir` may also be a single case directory."""
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise ConfigError(f"The evaluation corpus {corpus_dir} is not a directory.")
    if (corpus_dir / "diff.patch").is_file():
        return [load_case(corpus_dir)]
    case_dirs = sorted(
        (d for d in corpus_dir.iterdir() if d.is_dir() and not d.name.startswith((".", "_"))),
        key=lambda d: d.name,
    )
    if not case_dirs:
        raise ConfigError(f"The evaluation corpus {corpus_dir} holds no case directories.")
    return [load_case(d) for d in case_dirs]


def load_case(case_dir: Path) -> EvalCase:
    name = case_dir.name
    patch_file = case_dir / "diff.patch"
    if not patch_file.is_file():
        raise ConfigError(f"Evaluation case {name} has no diff.patch in {case_dir}.")
    # surrogateescape keeps odd bytes intact so that the patch is handed to git exactly as written.
    patch = patch_file.read_bytes().decode("utf-8", errors="surrogateescape")
    if not patch.strip():
        raise ConfigError(f"Evaluation case {name} has an empty diff.patch.")
    description, expected = _read_expected(name, case_dir / "expected.json")
    base_dir = case_dir / "base"
    return EvalCase(
        name=name,
        directory=case_dir,
        patch=patch,
        base_dir=base_dir if base_dir.is_dir() else None,
        expected=expected,
        description=description,
        evidence=_read_evidence(name, case_dir / "expected.json"),
    )


def _read_evidence(name: str, path: Path) -> tuple[Evidence, ...]:
    """The optional "evidence" list of expected.json: [{"path": ..., "lines": [start, end]}, ...]."""
    def invalid(why: str) -> ConfigError:
        return ConfigError(f"Evaluation case {name} has an invalid expected.json: {why}.")

    data = json.loads(path.read_text(encoding="utf-8"))  # _read_expected has checked it is readable
    raw_list = data.get("evidence", [])
    if not isinstance(raw_list, list):
        raise invalid('"evidence" must be a list')
    out = []
    for index, raw in enumerate(raw_list):
        where = f"evidence {index + 1}"
        if not isinstance(raw, dict) or not isinstance(raw.get("path"), str) or not raw["path"].strip():
            raise invalid(f'{where} needs a non-empty "path"')
        def invalid_here(why: str, where: str = where) -> ConfigError:
            return invalid(f"{where} {why}")

        start, end = _parse_lines(raw.get("lines"), invalid_here)
        out.append(Evidence(_normalise_path(raw["path"]), start, end))
    return tuple(out)


def _read_expected(name: str, path: Path) -> tuple[str, tuple[ExpectedIssue, ...]]:
    def invalid(why: str) -> ConfigError:
        return ConfigError(f"Evaluation case {name} has an invalid expected.json: {why}.")

    if not path.is_file():
        raise invalid("the file is missing")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise invalid(f"it is not readable JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("issues"), list):
        raise invalid('it must be an object with an "issues" list')
    description = data.get("description", "")
    if not isinstance(description, str):
        raise invalid('"description" must be a string')
    issues = []
    for index, raw in enumerate(data["issues"]):
        where = f"issue {index + 1}"
        if not isinstance(raw, dict):
            raise invalid(f"{where} is not an object")
        path_value = raw.get("path")
        if not isinstance(path_value, str) or not path_value.strip():
            raise invalid(f'{where} needs a non-empty "path"')
        def invalid_here(why: str, where: str = where) -> ConfigError:
            return invalid(f"{where} {why}")

        start, end = _parse_lines(raw.get("lines"), invalid_here)
        category = raw.get("category")
        if not isinstance(category, str) or not category.strip():
            raise invalid(f'{where} needs a non-empty "category"')
        severity = Severity.parse(raw.get("severity", "error"))
        if severity is None:
            raise invalid(f'{where} has an unknown "severity" {raw.get("severity")!r}')
        issues.append(ExpectedIssue(_normalise_path(path_value), start, end, category.strip(), severity))
    return description.strip(), tuple(issues)


def _parse_lines(value: object, invalid: Callable[[str], ConfigError]) -> tuple[int, int]:
    """`[start, end]`, `[line]` or a bare line number; 1-based and ordered."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list) or len(value) not in (1, 2):
        raise invalid('needs "lines": [start, end]')
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in value):
        raise invalid('has non-integer "lines"')
    start, end = value[0], value[-1]
    if start < 1 or end < start:
        raise invalid(f'has "lines" {value} that are not 1-based and ordered')
    return start, end


def _normalise_path(path: str) -> str:
    path = path.strip().replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path
