"""SecretHit: a plain frozen record."""

from __future__ import annotations

import pytest

from reviewbot.secrets.records import SecretHit


def test_secret_hit_is_a_plain_frozen_record() -> None:
    hit = SecretHit("GitHub token", 3, 4, 10)
    with pytest.raises(AttributeError):
        hit.line = 4  # type: ignore[misc]
