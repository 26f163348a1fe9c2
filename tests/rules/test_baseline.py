"""The baseline: fingerprints, the file format, and `reviewbot baseline` + every later run, through the CLI."""

from __future__ import annotations

import json

import pytest

from reviewbot.core.errors import ConfigError
from reviewbot.core.models import Finding, Severity
from reviewbot.rules.baseline import (
    Baseline,
    BaselineEntry,
    absorb,
    build_baseline,
    finding_fingerprint,
    parse_baseline,
    render_baseline,
)
from tests.helpers.baseline_service import BASE, SLEEP, finding as _finding, stage as _stage

GITHUB_TOKEN = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


def _texts(mapping: dict[tuple[str, int], str]):
    return lambda path, line: mapping.get((path, line))


def _f(line: int, category: str = "async", message: str = "m", agent: str = "a", path: str = "x.py") -> Finding:
    return Finding(path, line, Severity.ERROR, category, message, agent=agent)


# -- fingerprints and the file --------------------------------------------------------------------------------

def test_fingerprint_ignores_line_number_message_and_whitespace():
    texts = _texts({("x.py", 3): "time.sleep(5)", ("x.py", 9): "\t  time.sleep(5)   ",
                    ("x.py", 4): "time.sleep(6)"})
    same = finding_fingerprint(_f(3, message="blocks"), texts)
    assert finding_fingerprint(_f(9, message="blocks the event loop, use asyncio.sleep"), texts) == same
    assert finding_fingerprint(_f(3, category="security"), texts) != same
    assert finding_fingerprint(_f(3, agent="other"), texts) != same
    assert finding_fingerprint(_f(4), texts) != same  # other code


def test_file_is_sorted_stable_and_counts_duplicates():
    texts = _texts({("x.py", 1): "pass", ("x.py", 5): "pass", ("a.py", 2): "eval(x)"})
    findings = [_f(5, message="second"), _f(2, "security", path="a.py"), _f(1, message="first")]
    text = render_baseline(build_baseline(findings, texts))
    data = json.loads(text)
    assert data["version"] == 1
    assert [(e["path"], e["count"]) for e in data["findings"]] == [("a.py", 1), ("x.py", 2)]
    assert data["findings"][1]["message"] == "first" and data["findings"][1]["line_text"] == "pass"
    assert set(data["findings"][0]) == {"fingerprint", "path", "agent", "category", "line_text", "message", "count"}
    assert text.endswith("}\n") and text.startswith('{\n  "version": 1,')
    # Same findings in another order: the same bytes; read back and written again: the same bytes.
    assert render_baseline(build_baseline(list(reversed(findings)), texts)) == text
    assert render_baseline(parse_baseline(text, "b.json")) == text


def test_absorbs_only_as_many_as_recorded():
    texts = _texts({("x.py", n): "pass" for n in range(1, 10)})
    baseline = build_baseline([_f(1), _f(2)], texts)
    kept, absorbed, extra = absorb([_f(4), _f(6), _f(8)], baseline, texts)
    assert absorbed == 2 and extra == 0
    assert [f.line for f in kept] == [8]


def test_exact_duplicates_are_absorbed_as_one():
    texts = _texts({("x.py", 1): "pass"})
    baseline = build_baseline([_f(1)], texts)
    kept, absorbed, extra = absorb([_f(1, message="a"), _f(1, message="b")], baseline, texts)
    assert kept == [] and absorbed == 1 and extra == 1


@pytest.mark.parametrize("text,why", [
    ("{not json", "not valid JSON"),
    ('{"version": 1}', '"findings" list'),
    ('{"version": 7, "findings": []}', "unsupported version"),
    ('{"version": 1, "findings": [{"path": "x"}]}', "entry 1 has no fingerprint"),
    ('{"version": 1, "findings": [{"fingerprint": "ab", "count": 0}]}', "positive whole number"),
])
def test_broken_file_is_a_config_error_naming_it(text, why):
    with pytest.raises(ConfigError) as err:
        parse_baseline(text, ".reviewbot-baseline.json")
    assert ".reviewbot-baseline.json" in str(err.value) and why in str(err.value)


def test_parse_reads_counts():
    baseline = parse_baseline('{"version": 1, "findings": [{"fingerprint": "ab", "count": 3}, '
                              '{"fingerprint": "cd"}]}', "b")
    assert baseline == Baseline((BaselineEntry("ab", count=3), BaselineEntry("cd")), "b")
    assert baseline.total == 4


# -- end to end -----------------------------------------------------------------------------------------------

@pytest.fixture
def service(repo):
    repo.commit_files({"app/service.py": BASE}, "base")
    return repo


def test_baseline_survives_a_three_line_shift_and_a_new_finding_still_blocks(service, model_server, run_cli):
    _stage(service, BASE + SLEEP + "\n")  # line 21
    model_server.answer_findings([_finding(21)])
    result = run_cli("baseline", "--staged")
    assert result.exit_code == 0, result.stderr
    assert "recorded 1 finding in .reviewbot-baseline.json" in result.stdout
    recorded = json.loads((service.path / ".reviewbot-baseline.json").read_text())
    assert recorded["findings"][0]["line_text"] == "time.sleep(5)"

    # Three lines inserted above; the model words the same finding differently and cites the new line.
    shifted = BASE[: BASE.index("value_5")] + "import a\nimport b\nimport c\n" + BASE[BASE.index("value_5"):]
    _stage(service, shifted + SLEEP + "\n")  # now line 24
    model_server.answer_findings([_finding(24, message="Blocking sleep inside the handler")])
    result = run_cli("diff", "--staged", "--no-cache")
    assert result.exit_code == 0, result.stdout
    assert result.stdout == ""
    assert "1 accepted by the baseline" in result.stderr

    # A different finding on the same line is not in the baseline: it blocks.
    model_server.answer_findings([_finding(24, message="still blocking"), _finding(24, "security", "eval of input")])
    result = run_cli("diff", "--staged", "--no-cache")
    assert result.exit_code == 1
    assert "app/service.py:24: error: eval of input" in result.stdout
    assert "still blocking" not in result.stdout

    # --no-baseline shows everything.
    model_server.answer_findings([_finding(24, message="still blocking"), _finding(24, "security", "eval of input")])
    result = run_cli("diff", "--staged", "--no-cache", "--no-baseline")
    assert result.exit_code == 1
    assert "still blocking" in result.stdout and "eval of input" in result.stdout
    assert "baseline" not in result.stderr


def test_duplicates_are_counted(service, model_server, run_cli):
    _stage(service, BASE + SLEEP + "\n" + SLEEP + "\n")  # lines 21 and 22
    model_server.answer_findings([_finding(21), _finding(22)])
    result = run_cli("baseline", "--staged")
    assert "recorded 2 findings" in result.stdout
    assert json.loads((service.path / ".reviewbot-baseline.json").read_text())["findings"][0]["count"] == 2

    _stage(service, BASE + SLEEP + "\n" + SLEEP + "\n" + SLEEP + "\n")  # a third copy
    model_server.answer_findings([_finding(21), _finding(22), _finding(23)])
    result = run_cli("diff", "--staged", "--no-cache", "--format", "json")
    assert result.exit_code == 1
    assert len(json.loads(result.stdout)["findings"]) == 1
    assert "2 accepted by the baseline" in result.stderr


def test_broken_baseline_exits_2_naming_the_file(service, model_server, run_cli):
    _stage(service, BASE + SLEEP + "\n")
    (service.path / ".reviewbot-baseline.json").write_text('{"version": 1, "findings": [')
    result = run_cli("diff", "--staged")
    assert result.exit_code == 2
    assert ".reviewbot-baseline.json" in result.stderr and "Traceback" not in result.stderr
    assert model_server.requests == []


def test_baseline_path_from_config(service, model_server, run_cli):
    service.write(".reviewbot.toml", 'baseline = "ci/accepted.json"\n')
    _stage(service, BASE + SLEEP + "\n")
    model_server.default = lambda body: {"findings": [_finding(21)]}
    assert run_cli("baseline", "--staged").exit_code == 0
    assert (service.path / "ci" / "accepted.json").is_file()
    assert not (service.path / ".reviewbot-baseline.json").exists()
    assert run_cli("diff", "--staged").exit_code == 0


def test_secrets_never_written_to_the_baseline(service, model_server, run_cli):
    _stage(service, BASE + f'TOKEN = "{GITHUB_TOKEN}"\n')
    model_server.answer_findings([_finding(21, "security", f"hard-coded token {GITHUB_TOKEN}")])
    result = run_cli("baseline", "--staged")
    assert result.exit_code == 0, result.stderr
    text = (service.path / ".reviewbot-baseline.json").read_text()
    assert GITHUB_TOKEN not in text
    assert json.loads(text)["findings"]  # the findings were recorded, without the token


def test_in_ci_a_pull_request_cannot_accept_its_own_findings(service, model_server, run_cli):
    service.checkout("feature", create=True)
    service.write("app/service.py", BASE + SLEEP + "\n")
    service.add("app/service.py")
    model_server.default = lambda body: {"findings": [_finding(21)]}
    assert run_cli("baseline", "--staged").exit_code == 0
    service.add(".reviewbot-baseline.json")
    service.commit("add a sleep and accept it in the baseline")

    # The work-tree run believes the PR's baseline, the CI check reads the base branch's (none): it blocks.
    assert run_cli("diff", "main...HEAD").exit_code == 0
    result = run_cli("ci", "--base", "main")
    assert result.exit_code == 1, result.stdout + result.stderr
    assert "app/service.py:21" in result.stdout

    # Once the baseline is on the base branch, CI honours it.
    baseline_text = service.read(".reviewbot-baseline.json")
    service.checkout("main")
    service.commit_files({".reviewbot-baseline.json": baseline_text}, "accept the sleep")
    service.checkout("feature")
    service.git("rebase", "-q", "main")
    result = run_cli("ci", "--base", "main")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "1 accepted by the baseline" in result.stderr
