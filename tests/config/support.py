"""Shared by the config tests: settings loaded from a repository file, a user file, the environment and flags,
with nothing read from the real home directory."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reviewbot.adapters.repository_files import MemorySource
from reviewbot.config import Settings, load_settings


def load(repo_toml: str | None = None, *, env: Mapping[str, str] | None = None, cli: Mapping[str, Any] | None = None,
         user: str | None = None, tmp_path: Path | None = None) -> Settings:
    """Settings from `repo_toml` as .reviewbot.toml, `user` as the user's file (under tmp_path), `env` and `cli`."""
    files = {".reviewbot.toml": repo_toml} if repo_toml is not None else {}
    user_path = None
    if user is not None:
        assert tmp_path is not None
        user_path = tmp_path / "user.toml"
        user_path.write_text(user, encoding="utf-8")
    return load_settings(repo_source=MemorySource(files), cli=cli or {}, environ=env or {},
                         user_path=user_path or (tmp_path / "none.toml" if tmp_path else None))
