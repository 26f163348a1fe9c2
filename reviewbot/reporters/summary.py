"""The one line the CLI prints on stderr after every review."""

from __future__ import annotations

from reviewbot.core.models import DropReason, ReviewResult
from reviewbot.reporters.base import (
    ReportOptions,
    blocking_findings,
    defuse_ci_commands,
    dropped_totals,
    one_line,
    plural,
    severity_counts,
)

MAX_FAILED_NAMES = 5  # keep the line a line even when a whole batch failed
MAX_SKIPPED_NAMES = 3  # the JSON report lists every skipped file; the line names the first few


def _findings_part(result: ReviewResult) -> str:
    if not result.findings and result.failed and not result.files_reviewed:
        return "review incomplete: no findings"  # nothing was reviewed, so "no findings" alone would mislead
    if not result.findings:
        return "no findings"
    counts = [plural(n, sev.label) for sev, n in severity_counts(result.findings).items() if n]
    return f"{plural(len(result.findings), 'finding')} ({', '.join(counts)})"


def _usage_part(result: ReviewResult) -> str:
    usage = result.usage
    requests = plural(usage.requests, "request")
    counts = (([f"{usage.failed:,} failed"] if usage.failed else [])
              + ([f"{usage.cached:,} cached"] if usage.cached else []))
    if counts:
        requests += f" ({', '.join(counts)})"
    tokens_in = f"{usage.tokens_in:,} tokens in"
    if usage.cached_tokens:
        tokens_in += f" ({usage.cached_tokens:,} from the server's prompt cache)"
    return f"{requests}, {tokens_in} / {usage.tokens_out:,} out{_concurrency_part(result)}"


def _concurrency_part(result: ReviewResult) -> str:
    flow = result.flow
    if flow is None or not flow.sent:
        return ""
    text = f", up to {flow.peak:,} at once"
    if flow.lowest:
        text += f" (backed off to {flow.lowest:,})"
    return text


def summary_line(result: ReviewResult, options: ReportOptions) -> str:
    files = f"in {plural(len(result.files_reviewed), 'file')} reviewed"
    if result.skipped:
        shown = [f"{one_line(s.path)}: {one_line(s.reason)}" for s in result.skipped[:MAX_SKIPPED_NAMES]]
        more = len(result.skipped) - len(shown)
        files += f", {len(result.skipped):,} skipped ({', '.join(shown)}{f' and {more:,} more' if more else ''})"
    parts = [f"{_findings_part(result)} {files}", _usage_part(result)]
    if result.model:
        parts[-1] += f"; model {one_line(result.model)}"

    blocking = blocking_findings(result.all_findings, options)
    if blocking and options.fail_on is not None:
        parts.append(f"{len(blocking):,} blocking (at or above {options.fail_on.label})")
    dropped = [_dropped_phrase(reason, n) for reason, n in dropped_totals(result).items() if n]
    if dropped:
        parts.append(", ".join(dropped))
    if result.held_back:
        parts.append(f"{len(result.held_back):,} held back by the findings budget")
    coverage = result.coverage
    if coverage is not None and not coverage.complete:
        missing = coverage.added_reviewable - coverage.added_sent
        shown = [f"{one_line(s.path)}: {one_line(s.reason)}" for s in coverage.not_sent[:MAX_SKIPPED_NAMES]]
        more = len(coverage.not_sent) - len(shown)
        parts.append(f"{missing:,} of {coverage.added_reviewable:,} added lines not sent"
                     + (f" ({', '.join(shown)}{f' and {more:,} more' if more else ''})" if shown else ""))
    if result.failed:
        names = [one_line(s.path) for s in result.failed[:MAX_FAILED_NAMES]]
        more = len(result.failed) - len(names)
        parts.append("could not review: " + ", ".join(names) + (f" and {more:,} more" if more else ""))
    return defuse_ci_commands("reviewbot: " + "; ".join(parts))


def _dropped_phrase(reason: str, n: int) -> str:
    known = reason in DropReason._value2member_map_
    return f"{n:,} {DropReason(reason).phrase}" if known else f"{n:,} dropped {one_line(reason)}"
