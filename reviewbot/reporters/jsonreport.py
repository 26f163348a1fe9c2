"""`--format json`: every shown finding plus a summary, keys in a fixed order (also the answer contract's shape)."""

from __future__ import annotations

from reviewbot.core.models import Coverage, Finding, ReviewResult
from reviewbot.reporters.base import (
    TOOL_NAME,
    ReportOptions,
    blocking_findings,
    dropped_totals,
    dump_json,
    result_blocks,
    severity_counts,
)


def finding_dict(finding: Finding) -> dict[str, object]:
    return {
        "path": finding.path,
        "line": finding.line,
        "end_line": finding.end_line,
        "severity": finding.severity.label,
        "category": finding.category,
        "message": finding.message,
        "suggestion": finding.suggestion,
        "agent": finding.agent,
        "quote": finding.quote,
        "confidence": finding.confidence,
        "reanchored_from": finding.reanchored_from,
        "clipped_from": finding.clipped_from,
        "source": finding.source,
    }


def coverage_dict(coverage: Coverage | None) -> dict[str, object] | None:
    """What reached the model: files, and added lines sent whole / in reviewed files / in the whole diff."""
    if coverage is None:
        return None
    return {
        "files": {"changed": coverage.files_changed, "sent": coverage.files_sent},
        "added_lines": {
            "total": coverage.added_total,
            "in_reviewed_files": coverage.added_reviewable,
            "sent": coverage.added_sent,
        },
        "complete": coverage.complete,
        "not_sent": [{"path": s.path, "reason": s.reason} for s in coverage.not_sent],
    }


def summary_dict(result: ReviewResult, options: ReportOptions) -> dict[str, object]:
    usage = result.usage
    return {
        "findings": len(result.findings),
        "by_severity": {sev.label: n for sev, n in severity_counts(result.findings).items()},
        "blocking": result_blocks(result, options),
        "blocking_findings": len(blocking_findings(result.all_findings, options)),
        "fail_on": options.fail_on.label if options.fail_on is not None else "never",
        "files_reviewed": list(result.files_reviewed),
        "skipped": [{"path": s.path, "reason": s.reason} for s in result.skipped],
        "failed": [{"path": s.path, "reason": s.reason} for s in result.failed],
        "dropped": dropped_totals(result),
        "coverage": coverage_dict(result.coverage),
        "held_back": len(result.held_back),
        "usage": {
            "requests": usage.requests,
            "cached": usage.cached,
            "tokens_in": usage.tokens_in,
            "tokens_out": usage.tokens_out,
            "failed": usage.failed,
            "cached_tokens": usage.cached_tokens,
        },
        "concurrency": _concurrency(result),
        "model": result.model,
        "agents": list(result.agents),
        "description": result.description,
        "chunks": result.chunks,
        "model_summaries": list(result.summaries),
        "tool": {"name": TOOL_NAME, "version": options.tool_version},
    }


def _concurrency(result: ReviewResult) -> dict[str, object] | None:
    flow = result.flow
    if flow is None:
        return None
    return {"cap": flow.cap, "peak": flow.peak, "final": flow.limit, "lowest": flow.lowest or None,
            "backoffs": flow.backoffs, "stopped": flow.stopped}


def render_json(result: ReviewResult, options: ReportOptions) -> str:
    document = {
        "findings": [finding_dict(f) for f in result.findings],
        "summary": summary_dict(result, options),
    }
    return dump_json(document) + "\n"
