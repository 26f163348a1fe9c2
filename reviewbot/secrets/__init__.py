"""Keep secrets on the developer's machine: find them, redact them before anything is sent, report them locally.

Detection uses the token detectors of Yelp's detect-secrets for the formats it knows well, and a few rules of our own
where it has gaps. The library costs ~0.13 s to import, so it is imported only when a cheap pre-filter (needles and a
"gate" pattern per plugin, from a static table) says one of its plugins could match; most diffs never load it. Each
text's result is remembered for the run, so a file scanned for local findings is not scanned again for redaction.
Our own rules:

- a private-key block spans lines (BEGIN .. END): every line of it is redacted, not only the header the library flags;
- passwords in URLs with an empty user name or characters the library's pattern refuses (``redis://:pw@host``);
- assignments to secret-sounding names (``*_SECRET``, ``*_TOKEN``, ``*_KEY``, ``*PASSWORD*``) in code, YAML, env,
  INI and JSON styles. The library's KeywordDetector is not used: it needs a file name to pick its patterns, does not
  know ``*_TOKEN`` names, and accepts any word as a value. Here the value must look like a literal secret, not an
  expression, a lookup or a placeholder (``changeme``, ``xxx``, ``<your-key>``, ``${VAR}``);
- newer key formats: Google ``AIza...``, OpenAI ``sk-proj-...`` and plain ``sk-...``, Anthropic, Hugging Face,
  GitHub fine-grained ``github_pat_...``, and ``Authorization: Bearer/Basic`` credentials.

Only the plugins' compiled regular expressions (and the JWT shape check) are used: never ``analyze_line``, which
consults detect-secrets' global settings and may call a plugin's ``verify`` (a network request with the secret).
Nothing here writes a file or opens a connection.

A line holding ``pragma: allowlist secret`` (detect-secrets' own marker) is never flagged nor redacted.

A CI check scans diffs written by strangers, so the scan takes time in proportion to the text even on hostile
input: long lines are searched in windows (some library patterns backtrack quadratically on a long line), a token
run is re-checked only a few times, and the rounds of redaction are bounded (see _windowed, _token_hits, _ROUNDS).
tests/secrets/test_limits.py times the worst inputs we know.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import dataclasses
import functools
import hashlib
import itertools
import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Sequence

from reviewbot.core.models import Diff, FileDiff, Finding, Severity
from reviewbot.core.models import FindingSource

PRIVATE_KEY = "private key"
SECRET_ASSIGNMENT = "secret assignment"


@dataclass(frozen=True, slots=True)
class SecretHit:
    kind: str  # e.g. "AWS access key", "GitHub token", "private key", "password in URL", "secret assignment"
    line: int  # 1-based line number within the text scanned (the new-file line number for a FileDiff's new side)
    start: int  # character offsets of the secret value within that line
    end: int


# -- sensitive files -------------------------------------------------------------------------------------------

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


# -- telling literal secrets from code and placeholders ----------------------------------------------------------

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


# -- rules -------------------------------------------------------------------------------------------------------

_STEP = 2048  # the default window step for searching long lines: see _windowed


@dataclass(frozen=True, slots=True)
class _Rule:
    kind: str
    pattern: re.Pattern[str]
    group: int | str = 0  # 0: the whole match; a number or name: that group; -1: the first group that matched
    # Run only on lines holding one of these (speed, and no quadratic scans of long lines); a needle with capitals
    # is looked up as written, others case-insensitively. Empty: run over the whole text.
    needles: tuple[str, ...] = ()
    check: Callable[[str], bool] | None = None  # a further test of the value
    extend: str = ""  # characters a token may continue with past the library's fixed length (long Stripe keys)
    boundary: bool = True  # a whole-match token must not be glued to a preceding letter or digit
    step: int = _STEP  # a line longer than twice this is searched in windows (see _windowed)


@dataclass(frozen=True, slots=True)
class _Plugin:
    module: str
    cls: str
    kind: str
    # Every match of the plugin's patterns holds one of these (rules run only on lines holding one; see _Rule).
    needles: tuple[str, ...]
    # A cheap necessary condition, written from the plugin's patterns: every match of any of them holds a match of
    # the gate. Only a gate match (on a line holding a needle) loads detect-secrets and runs the plugin, so most
    # diffs never import the library (~0.13 s). tests/secrets/test_gates.py checks the gates against the patterns.
    gate: re.Pattern[str]
    # The window step for the plugin's patterns (see _windowed): every token of the plugin up to this long is
    # found exactly. Smaller for the patterns that backtrack quadratically, since a window costs its size squared.
    step: int = _STEP


# detect-secrets plugins used, with our kind names. Left out: the high-entropy string detectors (they flag hashes,
# UUIDs, lock-file checksums: too noisy to block a commit), KeywordDetector (see the module docstring), the IP
# address detector (an address is not a secret), PrivateKeyDetector (it flags only the header line: the block
# rule below handles whole keys). Also left out, because a hostile pull request could stall the check with them:
# the IBM Cloud IAM, IBM COS HMAC, Cloudant and SoftLayer detectors (their assignment patterns backtrack cubically
# on a run of spaces: "password" + 2,000 spaces takes 30 s; our assignment rule covers those names) and
# NpmDetector (`//.+/:_authToken=` is quadratic on a long line of slashes: 200 s for 200 kB; replaced below).
_LIBRARY_PLUGINS: tuple[_Plugin, ...] = (
    _Plugin("aws", "AWSKeyDetector", "AWS access key", ("A3T", "ABIA", "ACCA", "AKIA", "ASIA", "aws"),
            re.compile(r"(?:A3T|ABIA|ACCA|AKIA|ASIA)[0-9A-Z]{16}|(?i:['\"][0-9a-zA-Z/+]{40}['\"])")),
    _Plugin("github_token", "GitHubTokenDetector", "GitHub token", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
            re.compile(r"gh[pousr]_[A-Za-z0-9_]{36}")),
    _Plugin("gitlab_token", "GitLabTokenDetector", "GitLab token", ("gl", "GR1348941"),
            re.compile(r"gl(?:pat|dt|ft|soat|rt|cbt|imt|ptt|agent|oas)-|GR1348941")),
    _Plugin("slack", "SlackDetector", "Slack token", ("xox", "hooks.slack.com"),
            re.compile(r"(?i:xox[abposr]-\d|hooks\.slack\.com/services/t)")),
    _Plugin("stripe", "StripeDetector", "Stripe key", ("k_live_",), re.compile(r"[rs]k_live_[0-9a-zA-Z]{24}")),
    # Its keys are under 200 characters; `sk-[A-Za-z0-9-_]*` before them backtracks over whole runs of "sk-".
    _Plugin("openai", "OpenAIDetector", "OpenAI API key", ("T3BlbkFJ",), re.compile(r"T3BlbkFJ[A-Za-z0-9]{20}"),
            step=256),
    # Just the needle: a tighter gate (eyJ, a run, a dot) would backtrack quadratically on a hostile line.
    # Windows of 1 kB still find a longer JWT whole: a match the window cuts is matched again (see _windowed),
    # and the rule's `extend` carries it on to the end of the signature.
    _Plugin("jwt", "JwtTokenDetector", "JSON web token", ("eyJ",), re.compile(r"eyJ"), step=1024),
    _Plugin("basic_auth", "BasicAuthDetector", "password in URL", ("://",),
            re.compile(r"://[^:/?#\[\]@!$&'()*+,;=\s]+:[^:/?#\[\]@!$&'()*+,;=\s]+@")),
    _Plugin("artifactory", "ArtifactoryDetector", "Artifactory token", ("AKC", "AP"),
            re.compile(r"AKC[a-zA-Z0-9]{10}|AP[\dABCDEF][a-zA-Z0-9]{8}")),
    _Plugin("azure_storage_key", "AzureStorageKeyDetector", "Azure storage key", ("AccountKey=",),
            re.compile(r"AccountKey=[a-zA-Z0-9+/=]{88}")),
    _Plugin("twilio", "TwilioKeyDetector", "Twilio key", ("AC", "SK"), re.compile(r"(?:AC|SK)[a-z0-9]{32}")),
    _Plugin("sendgrid", "SendGridDetector", "SendGrid key", ("SG.",), re.compile(r"SG\.[a-zA-Z0-9_-]{22}\.")),
    # No needle: these two gates run over the whole text, so they start with a literal (a fast scan in re).
    _Plugin("discord", "DiscordBotTokenDetector", "Discord bot token", (),
            re.compile(r"\.[a-zA-Z\d_-]{6}\.[a-zA-Z\d_-]{27}")),
    _Plugin("pypi_token", "PypiTokenDetector", "PyPI token", ("pypi-",), re.compile(r"pypi-AgE")),
    _Plugin("mailchimp", "MailchimpDetector", "Mailchimp key", ("-us",), re.compile(r"[0-9a-z]{32}-us[0-9]")),
    _Plugin("square_oauth", "SquareOAuthDetector", "Square OAuth secret", ("sq0csp-",), re.compile(r"sq0csp-")),
    _Plugin("telegram_token", "TelegramBotTokenDetector", "Telegram bot token", (),
            re.compile(r":[0-9A-Za-z_-]{35}")),
)
_TOKEN_TAIL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_JWT_TAIL = _TOKEN_TAIL + "-_.+/="
# Plugins whose patterns capture the secret in a group (the others' groups are prefix alternations, e.g. ghp|gho).
_GROUP_MATCH = frozenset({"AWSKeyDetector", "BasicAuthDetector"})

# Priorities (the order in which overlapping spans choose their kind) are fixed without importing the library:
# 0 the private-key block rule, then each plugin's patterns in a slot of their own, then our token rules, then
# secret assignments.
_SLOT = 1000


def _library_kind(plugin: _Plugin, pattern_index: int) -> str:
    return "AWS secret key" if plugin.cls == "AWSKeyDetector" and pattern_index else plugin.kind


@functools.cache
def _plugin_rules(plugin_index: int) -> tuple[tuple[int, _Rule], ...]:
    """(priority, rule) for each pattern of one plugin. Imports detect-secrets, on first use only."""
    import importlib

    plugin = _LIBRARY_PLUGINS[plugin_index]
    try:
        module = importlib.import_module(f"detect_secrets.plugins.{plugin.module}")
        detector = getattr(module, plugin.cls)
    except (ImportError, AttributeError):  # an older detect-secrets without this plugin
        return ()
    rules = []
    for index, pattern in enumerate(detector.denylist[:_SLOT]):
        uses_group = bool(pattern.groups) and plugin.cls in _GROUP_MATCH
        rules.append((1 + plugin_index * _SLOT + index, _Rule(
            kind=_library_kind(plugin, index),
            pattern=pattern,
            group=-1 if uses_group else 0,
            needles=plugin.needles,
            check=_jwt_shape_ok if plugin.cls == "JwtTokenDetector" else None,
            extend="" if uses_group else (_JWT_TAIL if plugin.cls == "JwtTokenDetector" else _TOKEN_TAIL),
            boundary=not uses_group,
            step=plugin.step,
        )))
    return tuple(rules)


_NAME = r"(?P<name>[A-Za-z_][\w.\-]{0,100})"  # bounded, like every repetition here: no slow backtracking
_QUOTED_ASSIGNMENT = re.compile(
    r"(?<![\w.\-])(?<!::)" + _NAME  # not Namespace::ApiKey (a type name)
    + r"""["']?\]?[ \t]{0,40}"""  # the closing quote and bracket of a key: "api_key": or ['api_key'] =
    + r"(?::[ \t]{0,4}[A-Za-z_][\w.\[\], |]{0,60}?[ \t]{0,4}(?==))?"  # a type annotation: password: str = ...
    + r"(?:=>|:=|\?\?=|\|\|=|=(?!=)|:)[ \t]{0,40}"  # not ==: comparisons in code are mostly against sentinels
    + r"(?:[rRbBuU]{1,2}|@)?"  # string prefixes: r"", b"", C# @""
    + r"""(?P<q>["'`])(?P<value>[^\n"'`]*)(?P=q)""")
_UNQUOTED_ASSIGNMENT = re.compile(
    r"^[ \t]*(?:export[ \t]+|-[ \t]+)?" + _NAME
    + r"(?:[ \t]{0,40}=[ \t]{0,40}|:[ \t]{1,40})"
    # A comment needs a space before it (as in YAML and dotenv): "pa#ss;w,rd" is one value.
    + r"""(?P<value>[^\s"'`]*[^\s"'`,;])(?:[ \t]+[#;].*)?[ \t\r]*$""",
    re.MULTILINE)


def _assignment_check(quoted: bool) -> Callable[[re.Match[str]], bool]:
    def check(match: re.Match[str]) -> bool:
        name = match.group("name")
        name_class = _name_class(name)
        return name_class is not None and _literal_secret(match.group("value"), name, name_class, quoted)
    return check


# Own rules, in priority order after the library's: a span found by several rules gets the first rule's kind.
_OWN_TOKEN_RULES: tuple[_Rule, ...] = (
    _Rule("GitHub token", re.compile(r"github_pat_[A-Za-z0-9_]{22,}"), needles=("github_pat_",)),
    _Rule("Google API key", re.compile(r"AIza[0-9A-Za-z_\-]{35}"), needles=("AIza",), extend=_TOKEN_TAIL),
    _Rule("Anthropic API key", re.compile(r"sk-ant-[a-z0-9]+-[A-Za-z0-9_\-]{20,}"), needles=("sk-ant-",)),
    _Rule("OpenAI API key", re.compile(r"sk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{20,}"), needles=("sk-",),
          check=_has_digit_and_letter),
    _Rule("OpenAI API key", re.compile(r"sk-[A-Za-z0-9]{32,}"), needles=("sk-",), check=_mixed_token),
    _Rule("Hugging Face token", re.compile(r"hf_[A-Za-z0-9]{30,}"), needles=("hf_",), check=_mixed_token),
    _Rule("npm token", re.compile(r"/:_authToken=[ \t]{0,4}(?P<tok>npm_[A-Za-z0-9]{20,}|[A-Fa-f0-9\-]{36})"),
          group="tok", needles=("_authToken",), boundary=False),
    _Rule("npm token", re.compile(r"/:_(?:auth|password)=[ \t]{0,4}(?P<tok>[A-Za-z0-9+/]{8,}={0,2})"),
          group="tok", needles=("/:_auth", "/:_password"), boundary=False),
    # The library's BasicAuthDetector misses an empty user name (redis://:pw@host) and passwords with ! $ & ...
    _Rule("password in URL",
          re.compile(r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]{0,30}://[^\s:/@'\"]{0,200}:"
                     r"(?P<pw>[^\s:/@'\"]{3,200})@[\w\[]"),
          group="pw", needles=("://",), boundary=False),
    _Rule("bearer token", re.compile(r"\b(?:[Bb]earer|BEARER)[ \t]{1,4}(?P<tok>[A-Za-z0-9\-._~+/]{20,}=*)"),
          group="tok", needles=("bearer",), check=_has_digit_and_letter, boundary=False),
    _Rule("basic auth credentials",
          re.compile(r"\b(?:[Bb]asic|BASIC)[ \t]{1,4}(?P<b64>[A-Za-z0-9+/]{8,}={0,2})(?![\w+/=])"),
          group="b64", needles=("basic",), check=_basic_credentials_ok, boundary=False),
)

_ASSIGNMENT_NEEDLES = ("pass", "pwd", "secret", "token", "key", "credential", "contras")

_OWN_BASE = 1 + len(_LIBRARY_PLUGINS) * _SLOT
_OWN_RULES: tuple[tuple[int, _Rule], ...] = tuple(enumerate(_OWN_TOKEN_RULES, start=_OWN_BASE))
_ASSIGNMENT_PRIORITY = _OWN_BASE + len(_OWN_TOKEN_RULES)


def _first_priorities() -> dict[str, int]:
    """Each kind's best priority: how a hit found under one priority numbering is ranked against others."""
    ranks = {PRIVATE_KEY: 0}
    for index, plugin in enumerate(_LIBRARY_PLUGINS):
        ranks.setdefault(plugin.kind, 1 + index * _SLOT)
        ranks.setdefault(_library_kind(plugin, 1), 1 + index * _SLOT + 1)  # the AWS secret key pattern
    for priority, rule in _OWN_RULES:
        ranks.setdefault(rule.kind, priority)
    ranks.setdefault(SECRET_ASSIGNMENT, _ASSIGNMENT_PRIORITY)
    return ranks


_RANKS = _first_priorities()


# -- scanning ----------------------------------------------------------------------------------------------------

_BEGIN_KEY = re.compile(r"-{4,5} ?BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)? ?-{4,5}")
_END_KEY = re.compile(r"-{4,5} ?END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)? ?-{4,5}")
_KEY_BODY_RUN = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_KEY_BODY_LINE = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")
_MAX_KEY_LINES = 400
# Characters other than "\n" that str.splitlines() treats as line breaks: a span never includes one.
_OTHER_BREAKS = re.compile("[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_OTHER_BREAKS_SPLIT = re.compile(f"({_OTHER_BREAKS.pattern})")


def _body_span(line: str) -> tuple[int, int] | None:
    """The key material on a line inside a key block. Short runs before it (a rendered line number) and a leading
    diff "+" stay: at most one character of key."""
    runs = list(_KEY_BODY_RUN.finditer(line))
    if not runs:
        return None
    first = next((r for r in runs if len(r.group()) >= 4), max(runs, key=lambda r: len(r.group())))
    start, end = first.start(), runs[-1].end()
    if line[start] == "+" and end - start > 1:
        start += 1
    return start, end


def _key_blocks(lines: Sequence[str]) -> list[tuple[int, int, int]]:
    """(line index, start, end) of every line of every private-key block: header, body and footer."""
    spans: list[tuple[int, int, int]] = []
    # Footers and key-material lines are looked up once each, not once per header above them: many headers over
    # a long text would otherwise rescan up to _MAX_KEY_LINES lines apiece.
    footers: list[int] | None = None
    material: dict[int, bool] = {}

    def is_material(j: int) -> bool:
        found = material.get(j)
        if found is None:
            found = material[j] = _KEY_BODY_LINE.search(lines[j]) is not None
        return found

    i = 0
    while i < len(lines):
        begin = _BEGIN_KEY.search(lines[i])
        if not begin:
            i += 1
            continue
        line = lines[i]
        end_same = _END_KEY.search(line, begin.end())
        if end_same:  # a one-line key with escaped newlines, e.g. JSON service-account files
            if _KEY_BODY_LINE.search(line, begin.end(), end_same.start()):
                spans.append((i, begin.start(), end_same.end()))
            i += 1
            continue
        if footers is None:
            footers = [j for j, text in enumerate(lines) if "END" in text and _END_KEY.search(text)]
        after = bisect.bisect_right(footers, i)
        footer = footers[after] if after < len(footers) and footers[after] <= i + _MAX_KEY_LINES else None
        if footer is not None:
            body = range(i + 1, footer)
        else:  # no footer in sight (a clipped hunk): the block runs while lines look like key material
            j = i + 1
            while j < len(lines) and is_material(j):
                j += 1
            body = range(i + 1, j)
        if not any(is_material(j) for j in body):
            i += 1  # a header mentioned in code, not a key
            continue
        spans.append((i, begin.start(), len(line.rstrip())))
        for j in body:
            span = _body_span(lines[j])
            if span:
                spans.append((j, *span))
        if footer is not None:
            m = _END_KEY.search(lines[footer])
            assert m is not None
            spans.append((footer, m.start(), m.end()))
            i = footer + 1
        else:
            i = body.stop
    return spans


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


@dataclass(frozen=True, slots=True)
class _Needles:
    exact: tuple[str, ...]  # needles with capitals, looked up as written
    folded: tuple[str, ...]  # the others, looked up in the ASCII-lower-cased text

    @classmethod
    def of(cls, needles: Iterable[str]) -> _Needles:
        unique = sorted(set(needles))
        return cls(tuple(n for n in unique if n != n.lower()), tuple(n for n in unique if n == n.lower()))


# Every needle of every rule, from the static tables: deciding which rules could match imports nothing.
_NEEDLES = _Needles.of([n for p in _LIBRARY_PLUGINS for n in p.needles]
                       + [n for rule in _OWN_TOKEN_RULES for n in rule.needles] + list(_ASSIGNMENT_NEEDLES))


class _Text:
    """A text with its line starts, for turning offsets into (line, column)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.split("\n")
        # Each line starts one past the previous line's end (its "\n"); summed in C rather than a Python loop.
        self.starts = list(itertools.accumulate(map((1).__add__, map(len, self.lines[:-1])), initial=0))
        self._lower: str | None = None
        self._needles: dict[str, list[int]] = {}
        self._longest: int | None = None

    def lines_longer_than(self, limit: int) -> list[int]:
        """Indexes of the lines longer than the limit, in order."""
        if self._longest is None:
            self._longest = max(map(len, self.lines))
        return [i for i, line in enumerate(self.lines) if len(line) > limit] if self._longest > limit else []

    @property
    def lower(self) -> str:
        """ASCII-lower-cased text: str.lower() may change the length (İ), which would shift every offset."""
        if self._lower is None:
            self._lower = self.text.translate(_ASCII_LOWER)
        return self._lower

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset) - 1

    def lines_holding(self, needles: Sequence[str]) -> list[int]:
        """Indexes of the lines holding any of the needles, in order."""
        found: set[int] = set()
        for needle in needles:
            found.update(self._needle_lines(needle))
        return sorted(found)

    def _needle_lines(self, needle: str) -> list[int]:
        cached = self._needles.get(needle)
        if cached is None:
            cached = []
            hay = self.text if needle != needle.lower() else self.lower
            pos = hay.find(needle)
            while pos != -1:
                index = self.line_of(pos)
                cached.append(index)
                pos = hay.find(needle, self.starts[index] + len(self.lines[index]) + 1)
            self._needles[needle] = cached
        return cached

    def present(self, needles: _Needles) -> frozenset[str]:
        """Which of the needles occur anywhere in the text."""
        text, lower = self.text, self.lower
        return frozenset([n for n in needles.exact if n in text] + [n for n in needles.folded if n in lower])


# Long lines are searched in windows of 2 * step characters, each starting `step` after the previous one. Some of
# the library's patterns backtrack quadratically in the length of what they search (the JWT pattern takes ~5 s on
# a 120 kB line of "eyJ"; OpenAI's ~50 s on a line of "sk-" holding one "T3BlbkFJ"); a window bounds that
# cost, so a line costs time in proportion to its length (and to the step). A window reports only the matches
# that start in its first `step` characters; the next window, which starts there, finds the rest. So every match
# up to `step` long is found whole, as in a search of the whole line (lookbehinds and "^" see the real line: a
# search position does not cut the string). A match the window cuts is longer than `step`: it is matched again
# from its start over up to _LONGEST characters, one attempt, so a 3 kB bearer token is still redacted whole.
# The default step, 2,048, is more than a JWT of 1-2 kB or any other token we know; windows twice the step cost
# the least for that overlap.
_LONGEST = 16_384


def _windowed(pattern: re.Pattern[str], line: str, step: int = _STEP) -> Iterator[re.Match[str]]:
    """The matches of a pattern in one line, in order: all at once for a line up to 2 * step long, window by
    window for a longer one."""
    if len(line) <= 2 * step:
        yield from pattern.finditer(line)
        return
    pos = 0  # like finditer, a match never starts before the end of the previous one
    for first in range(0, len(line), step):
        handoff, stop = first + step, first + 2 * step
        if stop >= len(line):
            yield from pattern.finditer(line, max(pos, first))
            return
        if pos >= handoff:
            continue
        for m in pattern.finditer(line, max(pos, first), stop):
            if m.start() >= handoff:
                break
            if m.end() == stop:  # cut by the window (or ends there): match it again over more of the line
                m = pattern.match(line, m.start(), min(len(line), m.start() + _LONGEST)) or m
            yield m
            pos = m.end()
            if pos >= stop:  # the search goes on after it, in the window where it ends
                break


def _matches(pattern: re.Pattern[str], doc: _Text, needles: Sequence[str],
             step: int | None = _STEP) -> Iterator[tuple[re.Match[str], int]]:
    """Matches in text order, with the offset of the string they were found in (a line, when needles narrow the
    search). Long lines are searched in windows (see _windowed); step None: not windowed, for patterns known to
    run in linear time."""
    if not needles:
        done = 0  # the text before here has been searched
        for index in doc.lines_longer_than(2 * step) if step else ():
            line_start = doc.starts[index]
            for m in pattern.finditer(doc.text, done, line_start):
                yield m, 0
            for m in _windowed(pattern, doc.lines[index], step):
                yield m, line_start
            done = line_start + len(doc.lines[index])
        for m in pattern.finditer(doc.text, done):
            yield m, 0
        return
    for index in doc.lines_holding(needles):
        line = doc.lines[index]
        for m in _windowed(pattern, line, step) if step else pattern.finditer(line):
            yield m, doc.starts[index]


def _span(m: re.Match[str], group: int | str) -> tuple[int, int] | None:
    if group == -1:
        for g in range(1, (m.re.groups or 0) + 1):
            if m.group(g):
                return m.span(g)
        return None
    if m.group(group) is None:
        return None
    return m.span(group)


# How many more candidates are checked inside the extended span of a candidate that was turned down (see
# _token_hits); real text never comes near this, a line of "eyJa." repeated has tens of thousands.
_RETRIES = 8


@functools.cache
def _extension(chars: str) -> re.Pattern[str]:
    return re.compile(f"[{re.escape(chars)}]*")


def _token_hits(rule: _Rule, doc: _Text) -> Iterator[tuple[int, int]]:
    text = doc.text
    extension = _extension(rule.extend) if rule.extend else None
    # A rule's `extend` carries a candidate over the rest of its run of token characters, up to `reach`. A later
    # candidate that starts and ends inside that run extends to the same `reach`: it is skipped when the earlier
    # one was a secret (its span holds the later one), and only a few are tried when it was not (each check reads
    # the whole rest of the run: checking them all is quadratic on a long run such as "eyJa.eyJa.eyJa...").
    reach, accepted, retries = -1, False, 0
    for m, base in _matches(rule.pattern, doc, rule.needles, rule.step):
        span = _span(m, rule.group)
        if span is None:
            continue
        start, end = span[0] + base, span[1] + base
        while start < end and text[start] in " \t\"':=":  # patterns that include their delimiters
            start += 1
        while end > start and text[end - 1] in " \t\"'\r":
            end -= 1
        if start >= end:
            continue
        if rule.boundary and start > 0 and text[start - 1].isalnum():
            continue
        if extension is not None:
            if start < reach and end <= reach:
                retries += 1
                if accepted or retries > _RETRIES:
                    continue
                end = reach
            else:
                end = extension.match(text, end).end()
                reach, accepted, retries = end, False, 0
        value = text[start:end]
        if _is_placeholder(value) or (rule.check and not rule.check(value)):
            continue
        accepted = True
        yield start, end


def _assignment_hits(doc: _Text) -> Iterator[tuple[int, int]]:
    for pattern, quoted in ((_QUOTED_ASSIGNMENT, True), (_UNQUOTED_ASSIGNMENT, False)):
        check = _assignment_check(quoted)
        # Not windowed: both patterns run in linear time (bounded names, a value that stops at the first quote or
        # space), and a long value, such as a base64 key, must be seen whole.
        for m, base in _matches(pattern, doc, _ASSIGNMENT_NEEDLES, step=None):
            if check(m):
                start, end = m.span("value")
                yield start + base, end + base


def _active_rules(doc: _Text, present: frozenset[str]) -> list[tuple[int, _Rule]]:
    """(priority, rule) of every rule that could match: a library plugin only when its gate matches."""
    rules: list[tuple[int, _Rule]] = []
    for index, plugin in enumerate(_LIBRARY_PLUGINS):
        if plugin.needles and present.isdisjoint(plugin.needles):
            continue
        if next(_matches(plugin.gate, doc, plugin.needles), None) is not None:
            rules.extend(_plugin_rules(index))
    rules.extend(_OWN_RULES)
    return rules


def _raw_hits(doc: _Text) -> list[tuple[int, int, int, int]]:
    """(priority, line index, start, end) for every candidate, before filtering and merging."""
    found = [(0, i, s, e) for i, s, e in _key_blocks(doc.lines)] if "PRIVATE KEY" in doc.text else []
    present = doc.present(_NEEDLES)  # one pass decides which rules can match at all
    for priority, rule in _active_rules(doc, present):
        if rule.needles and present.isdisjoint(rule.needles):
            continue
        for start, end in _token_hits(rule, doc):
            index = doc.line_of(start)
            line_end = doc.starts[index] + len(doc.lines[index])
            found.append((priority, index, start - doc.starts[index], min(end, line_end) - doc.starts[index]))
    if not present.isdisjoint(_ASSIGNMENT_NEEDLES):
        for start, end in _assignment_hits(doc):
            index = doc.line_of(start)
            found.append((_ASSIGNMENT_PRIORITY, index, start - doc.starts[index], end - doc.starts[index]))
    return found


def _kind(priority: int) -> str:
    if priority == 0:
        return PRIVATE_KEY
    if priority >= _ASSIGNMENT_PRIORITY:
        return SECRET_ASSIGNMENT
    if priority >= _OWN_BASE:
        return _OWN_TOKEN_RULES[priority - _OWN_BASE].kind
    plugin_index, pattern_index = divmod(priority - 1, _SLOT)
    return _library_kind(_LIBRARY_PLUGINS[plugin_index], pattern_index)


def _scan(text: str) -> list[SecretHit]:
    doc = _Text(text)
    by_line: dict[int, list[tuple[int, int, int]]] = {}
    for priority, index, start, end in _raw_hits(doc):
        line = doc.lines[index]
        brk = _OTHER_BREAKS.search(line, start, end)
        if brk:
            end = brk.start()
        if start >= end:
            continue
        by_line.setdefault(index, []).append((start, end, priority))
    hits: list[SecretHit] = []
    for index in sorted(by_line):
        line = doc.lines[index]
        if _ALLOWLIST_RE.search(line):
            continue
        spans = _outside(by_line[index], [m.span() for m in _PLACEHOLDER_RE.finditer(line)])
        for start, end, priority in _merge(spans):
            hits.append(SecretHit(_kind(priority), index + 1, start, end))
    return hits


def _outside(spans: list[tuple[int, int, int]], taken: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """The spans that overlap none of the taken ones (sorted, apart): a bisection each, not a look at them all."""
    if not taken:
        return spans
    ends = [end for _, end in taken]
    kept = []
    for span in spans:
        nearest = bisect.bisect_right(ends, span[0])  # the first taken span ending after this one starts
        if nearest == len(taken) or taken[nearest][0] >= span[1]:
            kept.append(span)
    return kept


def _merge(spans: Iterable[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """Overlapping spans become one, covering them all, with the kind of the best-priority rule among them."""
    merged: list[list[int]] = []
    for start, end, priority in sorted(spans):
        if merged and start < merged[-1][1]:
            last = merged[-1]
            last[1] = max(last[1], end)
            last[2] = min(last[2], priority)
        else:
            merged.append([start, end, priority])
    return [(s, e, p) for s, e, p in merged]


def find_secrets(text: str) -> list[SecretHit]:
    """Every secret in the text, in order; lines are counted by "\\n" as git does. Multi-line key blocks give one
    hit per line of the block. Already-redacted placeholders and allowlisted lines are never reported."""
    if not text:
        return []
    # A review scans most texts more than once (a file's new side for the local findings, then again with its old
    # side for redaction; the same standards for every chunk): remember results by a digest of the text.
    key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
    hits = _SCANNED.get(key)
    if hits is None:
        hits = tuple(_scan(text))
        if len(_SCANNED) >= _SCANNED_LIMIT:
            _SCANNED.clear()
        _SCANNED[key] = hits
    return list(hits)


_SCANNED: dict[bytes, tuple[SecretHit, ...]] = {}
_SCANNED_LIMIT = 50_000  # ~100 bytes an entry without hits


# -- redaction ---------------------------------------------------------------------------------------------------

def placeholder(kind: str) -> str:
    return f"«REDACTED:{kind}»"


def _secret_count(hits: Sequence[SecretHit]) -> int:
    """Secrets, not spans: the lines of one key block count once."""
    return len(_group(hits))


def _group(hits: Sequence[SecretHit]) -> list[list[SecretHit]]:
    groups: list[list[SecretHit]] = []
    for hit in sorted(hits, key=lambda h: (h.line, h.start)):
        last = groups[-1][-1] if groups else None
        if (last is not None and hit.kind == PRIVATE_KEY and last.kind == PRIVATE_KEY
                and hit.line - last.line <= 2):  # a blank line may follow a block's own headers
            groups[-1].append(hit)
        else:
            groups.append([hit])
    return groups


def _replaced(line: str, hits: Iterable[SecretHit]) -> str:
    """The line with each hit's span (apart, in order) replaced by its placeholder, built in one pass: one slice
    per hit would copy a long line once for each of its secrets."""
    pieces, done = [], 0
    for hit in hits:
        pieces += (line[done:hit.start], placeholder(hit.kind))
        done = hit.end
    pieces.append(line[done:])
    return "".join(pieces)


def _blanked(line: str, hits: Iterable[SecretHit]) -> str:
    """The line with each part holding a hit replaced whole by one placeholder. Parts are what str.splitlines()
    sees (a span never crosses their breaks), so the line counts stay; a part that is one placeholder is never
    matched again, so this ends the rounds of redaction."""
    parts = _OTHER_BREAKS_SPLIT.split(line)  # text, break, text, break, ..., text
    offsets = list(itertools.accumulate(map(len, parts), initial=0))
    kinds = {}
    for hit in hits:
        index = bisect.bisect_right(offsets, hit.start) - 1
        kinds.setdefault(index - index % 2, hit.kind)  # a hit starts in a text part, never in a break
    return "".join(placeholder(kinds[i]) if i in kinds else part for i, part in enumerate(parts))


# Rounds of redaction before the parts of lines that still show a secret are redacted whole. Real text needs one,
# rarely two (a secret that another candidate's span hid). A hostile line can make each round expose one more,
# and a round is a scan of the whole text.
_ROUNDS = 3


def _redacted_line(line: str, hits: Iterable[SecretHit], round_: int) -> str:
    return _replaced(line, hits) if round_ < _ROUNDS else _blanked(line, hits)


def _apply(lines: list[str], hits: Iterable[SecretHit], round_: int = 0) -> None:
    ordered = sorted(hits, key=lambda h: (h.line, h.start))
    for line, group in itertools.groupby(ordered, key=lambda h: h.line):
        lines[line - 1] = _redacted_line(lines[line - 1], group, round_)


def redact(text: str) -> tuple[str, int]:
    """The text with every secret value replaced by «REDACTED:kind», and how many secrets were replaced.

    Deterministic, keeps the number of lines (by "\\n" and by str.splitlines()), and idempotent: it repeats until
    nothing is left to find, so redact(redact(x)[0]) == redact(x).
    """
    total = 0
    for round_ in range(len(text) + 1):  # each round shrinks the unredacted text, so this always ends
        hits = find_secrets(text)
        if not hits:
            break
        total += _secret_count(hits)
        lines = text.split("\n")
        _apply(lines, hits, round_)
        text = "\n".join(lines)
    return text, total


def _rank(kind: str) -> int:
    """A kind's priority: the private-key rule first, then the single-line rules in order, assignments last."""
    return _RANKS.get(kind, _ASSIGNMENT_PRIORITY)


Position = tuple[int, int]  # (hunk index, line index within the hunk)


def _side(f: FileDiff, left_out: str) -> list[Position]:
    """A file's lines on one side, across its hunks: the new side leaves out "-" lines, the old side "+" lines."""
    return [(h, i) for h, hunk in enumerate(f.hunks) for i, ln in enumerate(hunk.lines) if ln.kind != left_out]


def _scan_positions(texts: Sequence[Sequence[str]], positions: Sequence[Position]) -> list[tuple[Position, SecretHit]]:
    """Scan the lines at these positions as one text (a key block may run across hunks of a file)."""
    if not positions:
        return []
    # A line text never holds "\n"; should one, a space keeps every offset and the line count intact.
    joined = "\n".join(texts[h][i].replace("\n", " ") for h, i in positions)
    return [(positions[hit.line - 1], hit) for hit in find_secrets(joined)]


def _file_hits(f: FileDiff, texts: Sequence[Sequence[str]]) -> list[tuple[Position, SecretHit]]:
    """Hits on both sides of a file's diff, merged per line (a context line is seen from both sides)."""
    per_line: dict[Position, list[tuple[int, int, int]]] = {}
    for left_out in ("-", "+"):
        for pos, hit in _scan_positions(texts, _side(f, left_out)):
            per_line.setdefault(pos, []).append((hit.start, hit.end, _rank(hit.kind)))
    order = {pos: n for n, pos in enumerate(sorted(per_line))}
    return [(pos, SecretHit(_kind(priority), order[pos] + 1, start, end))
            for pos in sorted(per_line) for start, end, priority in _merge(per_line[pos])]


def redact_file_diff(f: FileDiff) -> tuple[FileDiff, int]:
    """The same FileDiff with secrets in its line texts (added, removed and context) and hunk headers redacted.

    A private-key block has every one of its lines redacted. Returns the number of secrets replaced.
    """
    if not f.hunks:
        return f, 0
    texts = [[ln.text for ln in hunk.lines] for hunk in f.hunks]
    total = 0
    for round_ in range(sum(len(t) for lines in texts for t in lines) + 1):  # until nothing is left to find
        found = _file_hits(f, texts)
        if not found:
            break
        total += _secret_count([hit for _, hit in found])
        ordered = sorted(found, key=lambda item: (item[0], item[1].start))
        for (h, i), group in itertools.groupby(ordered, key=lambda item: item[0]):
            texts[h][i] = _redacted_line(texts[h][i], (hit for _, hit in group), round_)
    hunks = []
    for hunk, lines in zip(f.hunks, texts):
        section, n = redact(hunk.section)
        total += n
        new_lines = tuple(ln if ln.text == t else dataclasses.replace(ln, text=t) for ln, t in zip(hunk.lines, lines))
        hunks.append(dataclasses.replace(hunk, lines=new_lines, section=section))
    return (dataclasses.replace(f, hunks=tuple(hunks)) if total else f), total


# -- local findings ----------------------------------------------------------------------------------------------

CATEGORY = "secrets"
_ADVICE = "remove it, load it from the environment or a secret store, and revoke it if it was ever pushed"


def file_secrets(f: FileDiff) -> list[SecretHit]:
    """Secrets on the new side of a file's diff, with new-file line numbers (one hit per line of a key block)."""
    texts = [[ln.text for ln in hunk.lines] for hunk in f.hunks]
    hits = []
    for (h, i), hit in _scan_positions(texts, _side(f, "-")):
        number = f.hunks[h].lines[i].new_no
        if number is not None:
            hits.append(dataclasses.replace(hit, line=number))
    return hits


def _secret_finding(path: str, line: int, message: str) -> Finding:
    return Finding(path=path, line=line, severity=Severity.ERROR, category=CATEGORY, message=message,
                   agent="reviewbot", source=FindingSource.SECRETS)


def secret_phrase(diff: Diff) -> str:
    """How a finding names a secret: nothing is committed yet when the hook reviews what is staged."""
    what = diff.description.split(" -- ", 1)[0]
    if what.startswith("staged changes"):
        return "Secret in staged change"
    revisions = what.removesuffix(" (staged)").split()
    if len(revisions) == 2 or any(".." in r for r in revisions):
        return "Committed secret"
    return "Secret in change"


def secret_findings(diff: Diff) -> list[Finding]:
    """Errors for committed secrets, found without a model, so a commit is blocked even when the model is down.

    One finding per secret on an added line of a file that is not deleted (a key block counts once, at its first
    added line); messages name the kind, never the value. A sensitive file (see `sensitive_reason`) that is added,
    changed, renamed or copied is one finding of its own, at its first added line (line 1 when it has none, e.g. a
    binary key store); its lines are not reported one by one.
    """
    findings: list[Finding] = []
    phrase = secret_phrase(diff)
    for f in diff.files:
        if f.status == "deleted":
            continue
        reason = sensitive_reason(f.path)
        if reason is not None:
            first = min(f.added_lines, default=1)
            verb = "added to" if f.status in ("added", "copied") else "changed in"
            findings.append(_secret_finding(
                f.path, first,
                f"{f.path.rsplit('/', 1)[-1]} is {reason}, and it is being {verb} the repository: keep it out of "
                "git (add it to .gitignore) and revoke anything it holds if it was ever pushed"))
            continue
        added = f.added_lines
        for group in _group(file_secrets(f)):
            lines = sorted({h.line for h in group if h.line in added})
            if not lines:
                continue
            findings.append(_secret_finding(f.path, lines[0], f"{phrase} ({group[0].kind}): {_ADVICE}"))
    return _unique(findings)


def _unique(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, int, str]] = set()
    out = []
    for finding in findings:
        key = (finding.path, finding.line, finding.message)
        if key not in seen:
            seen.add(key)
            out.append(finding)
    return out
