"""Telling a literal secret from code and placeholders: names that mean a credential, values that look random."""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections import Counter

# No "«" inside: a line of unclosed "«REDACTED:" would otherwise make every one of them scan to the line's end.
_PLACEHOLDER_RE = re.compile(r"«REDACTED:[^»«\n]*»")
_ALLOWLIST_RE = re.compile(r"pragma:\s*allowlist[ \-]secret", re.IGNORECASE)

_PLACEHOLDER_WORDS = frozenset({
    "changeme", "change_me", "change-me", "password", "passwd", "pass", "secret", "token", "apikey", "api_key",
    "api-key", "key", "todo", "tbd", "fixme", "none", "null", "nil", "undefined", "empty", "test", "testing",
    "example", "sample", "dummy", "placeholder", "redacted", "hidden", "masked", "default", "value", "string",
    "required", "optional", "foo", "bar", "foobar", "username", "user", "admin", "root", "true", "false",
})
_PLACEHOLDER_FRAGMENTS = ("changeme", "change_me", "change-me", "example", "placeholder", "redacted", "dummy",
                          "password", "passw0rd",
                          "your_", "your-", "yourpass", "yourkey", "yourtoken", "xxxx", "****", "....", "<", ">",
                          "${", "{{", "}}", "%(", "#{")


def _is_placeholder(value: str) -> bool:
    """Values that stand in for a secret: documentation, templates, variables, masks, or our own redactions."""
    v = value.strip().lower()
    if not v or v in _PLACEHOLDER_WORDS or len(set(v)) == 1:
        return True
    if v[0] in "$%{" or v.startswith(("your", "my-", "my_", "insert", "replace", "enter")):
        return True
    return any(frag in v for frag in _PLACEHOLDER_FRAGMENTS)


def _entropy(value: str) -> float:
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


# Names are judged by their last word, after splitting on _ - . and camelCase (db.password, self.api_key, apiKey):
# PASSWORD_RESET_URL, token_type or credential_process name something about a secret, not the secret itself.
_PASSWORD_WORDS = frozenset({"password", "passwd", "pwd", "pass", "passphrase", "passcode", "contrasena",
                             "contraseña"})
_SECRET_WORDS = frozenset({"secret", "credential", "credentials", "apikey", "accesskey", "secretkey", "privatekey",
                           "clientsecret", "authtoken", "accesstoken", "refreshtoken"})
# KEY after one of these is a credential (SECRET_KEY, api_key); after others it may be a database or cache key.
_CREDENTIAL_KEY_QUALIFIERS = frozenset({"secret", "api", "private", "access", "auth", "client", "signing",
                                        "encryption", "master", "app", "service", "account", "webhook", "license"})
_NEUTRAL_SUFFIXES = frozenset({"value", "str", "string", "raw", "plain", "plaintext", "b64", "base64", "hex"})
# Words that make the name refer to something that is not a credential (a database key, an NLP vocabulary token).
_NOT_A_CREDENTIAL = frozenset({
    "public", "pub", "primary", "foreign", "sort", "cache", "partition", "lookup", "i18n", "translation", "bos",
    "eos", "pad", "unk", "sep", "cls", "mask", "special", "csrf", "xsrf", "next", "page", "pagination",
    "continuation", "cursor", "idempotency", "lock", "change", "output", "input", "max", "num", "total", "keyboard",
    "hotkey", "shortcut", "example", "sample", "fake", "dummy", "mock", "test", "s3", "object", "bucket", "result",
    "row", "column", "dict", "map", "group", "index", "unique", "composite", "route", "routing", "list", "item",
    "node", "field", "label", "react", "hash", "verify", "verification",
})
_CAMEL_SPLIT = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|[_.\-\s]+")
_ATTRIBUTE_CHAIN = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
_SCREAMING_NAME = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")
_WORDS_VALUE = re.compile(r"[A-Za-z]+(?:[_\-.:][A-Za-z]+)*")  # a word or joined words: a name, not a secret
_LOWER_WORDS_VALUE = re.compile(r"[a-z0-9]+(?:[_\-.][a-z0-9]+)+")
_TOKEN_CHARSET = re.compile(r"[A-Za-z0-9+/=_\-]+")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_URL_START = re.compile(r"[a-z][a-z0-9+.\-]*://", re.IGNORECASE)
_COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3,4}){1,2}")
_CODE_KEYWORDS = frozenset({"none", "null", "nil", "true", "false", "undefined", "yes", "no", "on", "off", "self",
                            "this", "env", "required", "optional"})


def _name_class(name: str) -> str | None:
    """How a name's value is judged: "password" (any literal), "secret" (needs a digit or symbol), "token" (needs
    to look random: also lexer, lock and pagination tokens, database and cache keys), or None: not a secret name."""
    words = [w.lower().rstrip("0123456789") for w in _CAMEL_SPLIT.split(name.rsplit(".", 1)[-1]) if w]
    words = [w for w in words if w]
    while len(words) > 1 and words[-1] in _NEUTRAL_SUFFIXES:
        words.pop()
    if not words or _NOT_A_CREDENTIAL.intersection(words):
        return None
    last = words[-1]
    if last in _PASSWORD_WORDS:
        return "password"
    if last in _SECRET_WORDS or (last == "key" and len(words) >= 2 and words[-2] in _CREDENTIAL_KEY_QUALIFIERS):
        return "secret"
    if last == "token" or (last == "key" and len(words) >= 2):
        return "token"
    return None


def _code_like(value: str) -> bool:
    """A backslash, a regex group, or a bracket closed later on: a regular expression, template or code. (Not the
    regex ``\\{.*\\}``, which is quadratic on a long value of unclosed brackets.)"""
    if "\\" in value or "(?" in value:
        return True
    return any(-1 < value.find(left) < value.rfind(right) for left, right in ("{}", "[]"))


def _looks_random(value: str) -> bool:
    return (len(value) >= 16 and bool(_TOKEN_CHARSET.fullmatch(value)) and _has_digit_and_letter(value)
            and not _UUID.fullmatch(value) and _entropy(value) >= 3.0)


def _literal_secret(value: str, name: str, name_class: str, quoted: bool) -> bool:
    """Does this assigned value look like a literal secret rather than code, a name or a placeholder?"""
    if any(c.isspace() for c in value) or _is_placeholder(value) or value.lower() == name.lower():
        return False
    if value.isdigit() or _WORDS_VALUE.fullmatch(value) or value[0] in "/~" or value.startswith("./"):
        return False  # a number; words (lexer tokens, header and setting names, examples); a path
    if (_LOWER_WORDS_VALUE.fullmatch(value) and sum(c.isdigit() for c in value) < len(value) / 5) or \
            _SCREAMING_NAME.fullmatch(value):
        return False  # identifiers such as pipeline_definition_s3_location or GITHUB_TOKEN
    if _URL_START.match(value) or value.startswith("arn:"):
        return False  # a URL (passwords in URLs have their own rule), an AWS ARN
    if _COLOUR.fullmatch(value) or _code_like(value) or _ATTRIBUTE_CHAIN.fullmatch(value):
        return False  # a colour, a regular expression or template, an attribute path
    if not quoted:
        # Unquoted values appear in env, YAML and INI files, but also as code on the right of an "=".
        if any(c in value for c in "()[]{}<>$%") or value[0] in "!&*|>@":
            return False
        if value.lower() in _CODE_KEYWORDS:
            return False
        if value.isidentifier() and not any(c.isdigit() for c in value):
            return False  # a variable name like `pwd` or `DEFAULT_PASSWORD`
    if name_class == "token":
        return _looks_random(value)
    if name_class == "secret":
        return len(value) >= 8 and (any(c.isdigit() for c in value) or not value.replace("_", "").isalnum())
    return len(value) >= 6


def _jwt_shape_ok(token: str) -> bool:
    from detect_secrets.plugins.jwt import JwtTokenDetector

    return JwtTokenDetector.is_formally_valid(token.rstrip("."))


def _basic_credentials_ok(value: str) -> bool:
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return False
    user, sep, password = decoded.partition(":")
    return bool(sep and user and password) and not _is_placeholder(password)


def _mixed_token(value: str) -> bool:
    return any(c.isdigit() for c in value) and any(c.isupper() for c in value) and any(c.islower() for c in value)


def _has_digit_and_letter(value: str) -> bool:
    return any(c.isdigit() for c in value) and any(c.isalpha() for c in value)
