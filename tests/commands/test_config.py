"""`reviewbot config`: every setting shown with its origin, the key masked."""

from __future__ import annotations


def test_config_shows_origins_and_masks_the_key(repo, run_cli):
    repo.write(".reviewbot.toml", 'fail_on = "warning"\n')
    secret = "sk-very-secret-value-1234"
    result = run_cli("config", env={"OPENAI_API_KEY": secret, "REVIEWBOT_MODEL": "m-1", "REVIEWBOT_TIMEOUT": "9"})
    assert result.exit_code == 0, result.stderr
    lines = {ln.split("=", 1)[0].strip(): ln for ln in result.stdout.splitlines()}
    assert lines["fail_on"].endswith("# repository (.reviewbot.toml)") and '"warning"' in lines["fail_on"]
    assert lines["model"].endswith("# env REVIEWBOT_MODEL")
    assert "9.0" in lines["timeout"]
    assert lines["concurrency"].endswith("# default")
    assert "****" in lines["api_key"]
    # Settings whose names merely contain "token" or "secret" are numbers and switches, not secrets.
    assert "16000" in lines["max_request_tokens"] and "true" in lines["secret_scan"]
    assert secret not in result.stdout + result.stderr
