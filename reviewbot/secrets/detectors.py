"""The detection rules: detect-secrets' plugins (imported only when their cheap gate could match) and our own token and
assignment rules, in priority order."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

from reviewbot.secrets.literals import (
    _basic_credentials_ok,
    _has_digit_and_letter,
    _jwt_shape_ok,
    _literal_secret,
    _mixed_token,
    _name_class,
)
from reviewbot.secrets.records import PRIVATE_KEY, SECRET_ASSIGNMENT

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
