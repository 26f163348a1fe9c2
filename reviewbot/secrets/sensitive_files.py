"""Files that are secrets by their name alone: private keys, .env files, credential stores, Terraform state."""

from __future__ import annotations

import re

_KEY_FILE_SUFFIXES = (".pem", ".key", ".p12", ".pfx", ".pkcs12", ".p8", ".jks", ".keystore", ".ppk", ".keytab",
                      ".kdbx")
_SSH_PRIVATE_KEYS = frozenset(
    f"id_{alg}{sk}" for alg in ("rsa", "dsa", "ecdsa", "ed25519") for sk in ("", "_sk"))
_CREDENTIAL_FILES = frozenset({".netrc", "_netrc", ".pgpass", ".pypirc", ".git-credentials", ".htpasswd",
                               "credentials.json"})
_CREDENTIAL_PATH_ENDINGS = (".aws/credentials",)
_STATE_SUFFIXES = (".tfstate", ".tfstate.backup")
# Names that mark an env file as a committed template rather than the real thing.
_ENV_TEMPLATE_WORDS = frozenset({"example", "examples", "sample", "template", "tmpl", "tpl", "dist", "defaults",
                                 "schema", "vault"})


def sensitive_reason(path: str) -> str | None:
    """Why a file must never be sent to a model (and committing it is an error), or None for ordinary files.

    Sensitive:
    - env files: ``.env``, ``.env.local``, ``.env.production``, ``prod.env`` ... but not committed templates such as
      ``.env.example``, ``.env.sample``, ``.env.template``, ``.env.dist``, ``.env.defaults``, ``.env.vault``
      (dotenv-vault's encrypted file);
    - private keys and key stores: ``*.pem``, ``*.key``, ``*.p12``, ``*.pfx``, ``*.pkcs12``, ``*.p8``, ``*.jks``,
      ``*.keystore``, ``*.ppk``, ``*.keytab``, ``*.kdbx``, and SSH private keys ``id_rsa``, ``id_dsa``,
      ``id_ecdsa``, ``id_ed25519`` (and their ``_sk`` variants). A ``.pem`` may hold only a certificate; it is
      still treated as a key file, because it is the usual home of private keys (name certificates ``.crt``).
    - credential files: ``.netrc``, ``.pgpass``, ``.pypirc``, ``.git-credentials``, ``.htpasswd``,
      ``credentials.json``, Google's ``client_secret*.json``, ``.aws/credentials``;
    - Terraform state (``*.tfstate``, ``*.tfstate.backup``), which stores every resource's secrets in plain text.

    Not sensitive: public keys (``id_rsa.pub``, ``*.pub``) and certificates (``*.crt``, ``*.cer``) are public by
    design, and teams commit them on purpose (deploy keys, ``authorized_keys``); blocking them would only teach people
    to skip the hook. ``.npmrc`` and ``.envrc`` are often committed without credentials: their content is scanned
    like any other file instead.
    """
    norm = path.replace("\\", "/").lower()
    name = norm.rsplit("/", 1)[-1]
    if name == ".env" or name.startswith(".env.") or (name.endswith(".env") and len(name) > 4):
        if not _ENV_TEMPLATE_WORDS.intersection(re.split(r"[._\-]", name)):
            return "an environment file, which usually holds credentials"
        return None
    if name in _SSH_PRIVATE_KEYS:
        return "an SSH private key"
    if name.endswith(_KEY_FILE_SUFFIXES):
        return "a private key or key store"
    if name in _CREDENTIAL_FILES or norm.endswith(_CREDENTIAL_PATH_ENDINGS) or (
            name.startswith("client_secret") and name.endswith(".json")):
        return "a credentials file"
    if name.endswith(_STATE_SUFFIXES):
        return "Terraform state, which stores secrets in plain text"
    return None


def is_sensitive_path(path: str) -> bool:
    """True for files that are never sent to a model; see `sensitive_reason` for the list and its reasons."""
    return sensitive_reason(path) is not None
