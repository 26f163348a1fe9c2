"""Reporters: each turns one ReviewResult into the text one consumer reads.

`REPORTERS` maps a format name to `render(result, options) -> str`. Format modules are imported on first use so
that importing this package (for `click.Choice(sorted(REPORTERS))`) costs next to nothing.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from reviewbot.core.errors import ConfigError
from reviewbot.core.models import ReviewResult
from reviewbot.reporters.base import ReportOptions, is_blocking, result_blocks, sanitize_terminal

Reporter = Callable[[ReviewResult, ReportOptions], str]

# format name -> (module under reviewbot.reporters, function)
_FORMATS: dict[str, tuple[str, str]] = {
    "text": ("text", "render_text"),
    "json": ("jsonreport", "render_json"),
    "github": ("github", "render_github"),
    "sarif": ("sarif", "render_sarif"),
    "rdjson": ("rdjson", "render_rdjson"),
    "rdjsonl": ("rdjson", "render_rdjsonl"),
    "gitlab": ("gitlab", "render_gitlab"),
    "junit": ("junit", "render_junit"),
    "markdown": ("markdown", "render_markdown"),
}


def _lazy(fmt: str, module: str, function: str) -> Reporter:
    def render_format(result: ReviewResult, options: ReportOptions) -> str:
        renderer: Reporter = getattr(importlib.import_module(f"{__name__}.{module}"), function)
        return renderer(result, options)

    render_format.__name__ = f"render_{fmt}"
    render_format.__qualname__ = render_format.__name__
    return render_format


REPORTERS: dict[str, Reporter] = {fmt: _lazy(fmt, *target) for fmt, target in _FORMATS.items()}


def render(fmt: str, result: ReviewResult, options: ReportOptions) -> str:
    try:
        reporter = REPORTERS[fmt]
    except KeyError:
        raise ConfigError(f"Unknown report format {fmt!r}; choose one of: {', '.join(sorted(REPORTERS))}.") from None
    return reporter(result, options)


def summary_line(result: ReviewResult, options: ReportOptions) -> str:
    from reviewbot.reporters.summary import summary_line as _summary_line

    return _summary_line(result, options)


__all__ = [
    "REPORTERS",
    "ReportOptions",
    "Reporter",
    "is_blocking",
    "render",
    "result_blocks",
    "sanitize_terminal",
    "summary_line",
]
