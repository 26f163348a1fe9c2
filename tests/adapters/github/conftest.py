"""The loopback GitHub API stand-in (tests/helpers/github_server.py) as a fixture for the adapter's tests."""

from __future__ import annotations

import pytest

from tests.helpers import GitHubServer


@pytest.fixture
def server():
    gh = GitHubServer()
    gh.diff_lines = {"app/service.py": set(range(1, 41))}
    try:
        yield gh
    finally:
        gh.close()
