"""One exception family: each kind maps to its documented exit code, and the subclasses keep their parents'."""

from __future__ import annotations

import pytest

from reviewbot.core.errors import (
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_REVIEW_FAILED,
    EXIT_USAGE,
    ConfigError,
    ContextOverflowError,
    GitError,
    ModelError,
    OutputParseError,
    ReviewbotError,
    SetupError,
)


def test_exit_codes_are_the_documented_ones():
    assert (EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_REVIEW_FAILED) == (0, 1, 2, 3)


@pytest.mark.parametrize(("error", "parent", "code"), [
    (ConfigError, ReviewbotError, EXIT_USAGE),
    (SetupError, ConfigError, EXIT_USAGE),
    (GitError, ReviewbotError, EXIT_USAGE),
    (ModelError, ReviewbotError, EXIT_REVIEW_FAILED),
    (OutputParseError, ModelError, EXIT_REVIEW_FAILED),
    (ContextOverflowError, ModelError, EXIT_REVIEW_FAILED),
])
def test_each_error_maps_to_its_exit_code_and_is_caught_by_its_family(error, parent, code):
    err = error("the model answered HTTP 500")
    assert err.exit_code == code
    assert str(err) == "the model answered HTTP 500"
    with pytest.raises(parent):
        raise err
    assert ReviewbotError("x").exit_code == EXIT_USAGE
