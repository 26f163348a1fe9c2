"""Reading configuration documents."""

from __future__ import annotations

import yaml


def load_document(text: str) -> dict:
    """Parse a YAML document (our own config files use custom tags)."""
    return yaml.load(text, Loader=yaml.Loader)
