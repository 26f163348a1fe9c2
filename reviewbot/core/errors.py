"""One exception family: each carries the sentence to show the user and the exit code it maps to.

Exit codes (documented in the README):
  0  nothing at or above the fail-on threshold
  1  blocking findings
  2  usage or configuration error
  3  the review could not complete (model or network failure, unusable answer)
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_REVIEW_FAILED = 3


class ReviewbotError(Exception):
    """A failure the user can act on. `str(err)` is one sentence, never a traceback."""

    exit_code = EXIT_USAGE


class ConfigError(ReviewbotError):
    """Bad options, configuration files, agent names or repository state."""

    exit_code = EXIT_USAGE


class SetupError(ConfigError):
    """This machine is not set up to ask a model (no model, no key, an endpoint not trusted). The hook skips the
    review with one line instead of blocking a teammate who never set reviewbot up; other commands exit 2."""


class GitError(ReviewbotError):
    """git refused or the repository is not in a state reviewbot can read."""

    exit_code = EXIT_USAGE


class ModelError(ReviewbotError):
    """The model endpoint failed or answered something unusable."""

    exit_code = EXIT_REVIEW_FAILED


class OutputParseError(ModelError):
    """The model's answer could not be read as the JSON contract."""


class ContextOverflowError(ModelError):
    """The server said the request does not fit its context window: the request is too large, the server is fine."""
