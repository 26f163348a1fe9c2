"""Which paths are sensitive files (keys, keystores, env files) and which are not."""

from __future__ import annotations

import pytest

from reviewbot.secrets.sensitive_files import is_sensitive_path


@pytest.mark.parametrize(("path", "sensitive"), [
    (".env", True),
    ("config/.env.local", True),
    (".env.production", True),
    ("deploy/prod.env", True),
    (".env.example", False),
    (".env.sample", False),
    (".env.template", False),
    (".env.dist", False),
    ("certs/server.pem", True),
    ("certs\\server.pem", True),
    ("tls/server.key", True),
    ("Store.P12", True),
    ("signing.pfx", True),
    ("android/release.jks", True),
    ("AuthKey_ABC123.p8", True),
    ("home/.ssh/id_rsa", True),
    ("id_ed25519", True),
    ("id_rsa.pub", False),
    ("certs/server.crt", False),
    (".npmrc", False),
    (".envrc", False),
    (".pypirc", True),
    (".netrc", True),
    (".git-credentials", True),
    ("credentials.json", True),
    ("client_secret_1234.apps.googleusercontent.com.json", True),
    ("home/.aws/credentials", True),
    ("infra/terraform.tfstate", True),
    ("infra/terraform.tfstate.backup", True),
    ("app/keys.py", False),
    ("docs/env.md", False),
    ("environment.yml", False),
    ("monkey.txt", False),
    ("src/secrets.py", False),
])
def test_sensitive_paths(path: str, sensitive: bool) -> None:
    assert is_sensitive_path(path) is sensitive
