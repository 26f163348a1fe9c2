"""`reviewbot init`: the config and pre-commit files written once, existing pre-commit configs extended without
disturbing them, invalid ones refused, and a config template that documents every key."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from reviewbot.adapters.repository_files import MemorySource
from reviewbot.commands.init import HOOK_ENTRY, config_template
from reviewbot.config import KEYS, load_settings

PRE_COMMIT = Path(sys.executable).parent / "pre-commit"


def _validate_pre_commit(path: Path) -> None:
    """pre-commit's own check of a config file (offline; it only reads the file)."""
    if not PRE_COMMIT.exists():
        pytest.skip("pre-commit is not installed next to this Python")
    proc = subprocess.run([str(PRE_COMMIT), "validate-config", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_init_creates_both_files_and_a_second_run_changes_nothing(repo, run_cli):
    result = run_cli("init")
    assert result.exit_code == 0, result.stderr
    assert "wrote .reviewbot.toml" in result.stdout
    assert "created .pre-commit-config.yaml" in result.stdout
    config = repo.path / ".reviewbot.toml"
    hooks = repo.path / ".pre-commit-config.yaml"
    first = (config.read_bytes(), hooks.read_bytes())

    data = yaml.safe_load(hooks.read_text())
    hook = data["repos"][0]["hooks"][0]
    assert data["repos"][0]["repo"] == "local"
    assert hook == {"id": "reviewbot", "name": "reviewbot (AI code review)", "entry": HOOK_ENTRY,
                    "language": "system", "require_serial": True, "verbose": True, "types": ["text"],
                    "stages": ["pre-commit", "pre-merge-commit", "pre-push", "manual"]}
    _validate_pre_commit(hooks)

    again = run_cli("init")
    assert again.exit_code == 0
    assert "already" in again.stdout
    assert (config.read_bytes(), hooks.read_bytes()) == first


def test_config_template_documents_every_key_and_uncomments_into_valid_settings():
    text = config_template()
    assert tomllib.loads(text) == {}  # everything is commented out
    for name, key in KEYS.items():
        assert f"# {key.help}" in text
        assert re.search(rf"^# {name} = ", text, re.M), name
    uncommented = "\n".join(ln[2:] for ln in text.splitlines() if re.match(r"^# [a-z_]+ = ", ln))
    table = tomllib.loads(uncommented)
    assert set(table) == set(KEYS)
    settings = load_settings(repo_source=MemorySource({".reviewbot.toml": uncommented}), environ={})
    # Every value converts; the one key a repository may not set is refused with a warning, nothing else.
    assert [w for w in settings.warnings if "trusted_hosts" not in w] == []
    assert settings.fail_on == "error" and settings.baseline == ".reviewbot-baseline.json"
    assert settings.path_instructions == {"migrations/**": "Check that every migration can be rolled back."}


EXISTING = """\
# Team hooks. Keep this comment!
default_language_version:
    python: python3.11

repos:
-   repo: https://github.com/pre-commit/pre-commit-hooks
    rev: v4.6.0   # pinned on purpose
    hooks:
    -   id: trailing-whitespace
    -   id: end-of-file-fixer

# The CI block below must stay last.
ci:
    autofix_prs: false
"""


def test_init_appends_to_an_existing_pre_commit_config_without_disturbing_it(repo, run_cli):
    hooks = repo.write(".pre-commit-config.yaml", EXISTING)
    config = repo.write(".reviewbot.toml", '# our settings\nfail_on = "warning"  # strict\n')
    result = run_cli("init")
    assert result.exit_code == 0, result.stderr
    assert "added the reviewbot hook to .pre-commit-config.yaml" in result.stdout
    assert ".reviewbot.toml already exists" in result.stdout
    assert config.read_text() == '# our settings\nfail_on = "warning"  # strict\n'

    text = hooks.read_text()
    # Every original line is still there, in order, and only lines were added.
    original = EXISTING.splitlines()
    new = text.splitlines()
    it = iter(new)
    assert all(line in it for line in original)
    assert len(new) > len(original)
    before, after = yaml.safe_load(EXISTING), yaml.safe_load(text)
    assert after["repos"][:-1] == before["repos"]
    assert after["repos"][-1]["hooks"][0]["id"] == "reviewbot"
    assert after["ci"] == before["ci"] and after["default_language_version"] == before["default_language_version"]
    assert text.index("reviewbot hook") < text.index("# The CI block below must stay last.")
    _validate_pre_commit(hooks)

    snapshot = hooks.read_bytes()
    assert run_cli("init").exit_code == 0
    assert hooks.read_bytes() == snapshot


@pytest.mark.parametrize("existing", ["", "# nothing yet\n", "default_stages: [pre-commit]", "repos:\n"])
def test_init_handles_sparse_pre_commit_configs(repo, run_cli, existing):
    hooks = repo.write(".pre-commit-config.yaml", existing)
    result = run_cli("init")
    assert result.exit_code == 0, result.stderr
    text = hooks.read_text()
    assert text.startswith(existing)
    assert [h["id"] for r in yaml.safe_load(text)["repos"] for h in r["hooks"]] == ["reviewbot"]
    _validate_pre_commit(hooks)


def test_init_refuses_invalid_yaml_and_writes_nothing(repo, run_cli):
    broken = "repos:\n  - repo: local\n    hooks: [\n"
    hooks = repo.write(".pre-commit-config.yaml", broken)
    result = run_cli("init")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and ".pre-commit-config.yaml is not valid YAML" in result.stderr
    assert hooks.read_text() == broken
    assert not (repo.path / ".reviewbot.toml").exists()


def test_init_refuses_the_old_list_format(repo, run_cli):
    repo.write(".pre-commit-config.yaml", "- repo: local\n  hooks: []\n")
    result = run_cli("init")
    assert result.exit_code == 2 and "migrate-config" in result.stderr


def test_init_leaves_pyproject_settings_in_charge(repo, run_cli):
    repo.write("pyproject.toml", '[project]\nname = "x"\n\n[tool.reviewbot]\nfail_on = "warning"\n')
    result = run_cli("init")
    assert result.exit_code == 0
    assert "pyproject.toml [tool.reviewbot]" in result.stdout
    assert not (repo.path / ".reviewbot.toml").exists()
