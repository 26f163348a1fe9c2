"""The review options and their one translation: every option parsed by click lands on its config key (or its
RunOptions field), a bad --report is a usage error, and RunOptions cannot be changed once made."""

from __future__ import annotations

import dataclasses

import click
import pytest
from click.testing import CliRunner

from reviewbot.commands.options import RunOptions, agent_settings, review_options, run_options
from reviewbot.config import KEYS


def _parsed(*args: str, exclude: tuple[str, ...] = ()) -> tuple[RunOptions, str]:
    """What run_options makes of a real command line, and what it wrote on stderr."""
    seen: list[RunOptions] = []

    @click.command()
    @review_options(exclude=exclude)
    def command(**kw: object) -> None:
        seen.append(run_options(kw))

    result = CliRunner().invoke(command, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return seen[0], result.stderr


@pytest.mark.parametrize(("args", "key", "value"), [
    (("--model", "m1"), "model", "m1"),
    (("-m", "m1"), "model", "m1"),
    (("--base-url", "http://127.0.0.1:9/v1"), "base_url", "http://127.0.0.1:9/v1"),
    (("--agent", "security"), "agent", "security"),
    (("-a", "security", "--agent", "perf"), "agents", ("security", "perf")),
    (("--fail-on", "warning"), "fail_on", "warning"),
    (("--format", "json"), "format", "json"),
    (("-f", "sarif"), "format", "sarif"),
    (("--filter-mode", "file"), "filter_mode", "file"),
    (("--on-error", "warn"), "on_error", "warn"),
    (("-U", "7"), "context_lines", 7),
    (("--unified", "0"), "context_lines", 0),
    (("--include", "src/*", "--include", "lib/*"), "include", ("src/*", "lib/*")),
    (("--exclude", "*.md"), "exclude", ("*.md",)),
    (("--timeout", "2.5"), "timeout", 2.5),
    (("--response-format", "json_object"), "response_format", "json_object"),
    (("--retries", "0"), "retries", 0),
    (("--max-request-tokens", "9000"), "max_request_tokens", 9000),
    (("--max-answer-tokens", "512"), "max_answer_tokens", 512),
    (("-j", "3"), "concurrency", 3),
    (("--no-cache",), "cache", False),
    (("--no-context",), "context", False),
    (("--tools",), "tools", True),
    (("--min-confidence", "0.4"), "min_confidence", 0.4),
    (("--max-findings", "5"), "max_findings", 5),
    (("--verify",), "verify", True),
    (("--no-verify-findings",), "verify", False),
    (("--samples", "3"), "samples", 3),
])
def test_every_review_option_lands_on_its_config_key(args, key, value):
    options, _ = _parsed(*args)
    assert key in KEYS  # a real config key, so the loader takes it
    assert options.settings[key] == value


def test_options_not_given_leave_the_config_to_show_through():
    options, stderr = _parsed()
    assert options == RunOptions(settings=options.settings)  # no report, no dry run, colour left to the terminal
    assert all(value is None for value in options.settings.values())
    for absent in ("agent", "agents", "cache", "context", "tools", "format", "include", "exclude"):
        assert absent not in options.settings
    assert stderr == ""


def test_options_that_are_no_setting_become_fields():
    options, _ = _parsed("--report", "sarif=out/r.sarif", "--report", "json=r.json", "--dry-run", "--no-baseline",
                         "--no-color", "-v")
    assert options.reports == (("sarif", "out/r.sarif"), ("json", "r.json"))
    assert (options.dry_run, options.no_baseline, options.color, options.verbose) == (True, True, False, True)
    assert _parsed("--color")[0].color is True


def test_the_deprecated_no_verify_turns_verification_off_with_a_warning():
    options, stderr = _parsed("--no-verify")
    assert options.settings["verify"] is False
    assert "--no-verify is deprecated" in stderr and "--no-verify-findings" in stderr
    # An explicit --verify wins, and then the alias is not reported as having done anything.
    options, stderr = _parsed("--no-verify", "--verify")
    assert options.settings["verify"] is True and stderr == ""


def test_options_a_command_leaves_out_are_not_given():
    options, _ = _parsed(exclude=("fail_on", "on_error", "no_baseline", "max_findings"))
    assert options.settings["fail_on"] is None and options.settings["on_error"] is None
    assert options.no_baseline is False


@pytest.mark.parametrize("bad", ["sarif", "sarif=", "html=out.html", "=out.json"])
def test_a_report_that_is_not_format_equals_path_is_a_usage_error(bad):
    @click.command()
    @review_options
    def command(**kw: object) -> None:
        run_options(kw)

    result = CliRunner().invoke(command, ["--report", bad])
    assert result.exit_code == 2
    assert "--report" in result.stderr and "is not FORMAT=PATH" in result.stderr


def test_run_options_cannot_be_changed_once_made():
    given = {"model": "m1"}
    options = RunOptions(settings=given)
    given["model"] = "changed"
    assert options.settings["model"] == "m1"
    with pytest.raises(TypeError):
        options.settings["model"] = "m2"
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.dry_run = True


def test_agent_settings_one_several_or_none():
    assert agent_settings(("security",)) == {"agent": "security"}
    assert agent_settings(("security", "perf")) == {"agents": ("security", "perf")}
    assert agent_settings(()) == {}
