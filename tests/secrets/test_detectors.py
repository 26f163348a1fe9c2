"""The detector table: every match of a detect-secrets pattern passes the cheap gate that decides whether the library
is loaded, and every plugin fits its priority slot."""

from __future__ import annotations

import importlib

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from reviewbot.secrets.detectors import _LIBRARY_PLUGINS, _SLOT


def _patterns():
    for plugin in _LIBRARY_PLUGINS:
        detector = getattr(importlib.import_module(f"detect_secrets.plugins.{plugin.module}"), plugin.cls)
        for index, pattern in enumerate(detector.denylist):
            yield pytest.param(plugin, pattern, id=f"{plugin.cls}-{index}")


@pytest.mark.parametrize(("plugin", "pattern"), list(_patterns()))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_every_match_of_a_library_pattern_passes_its_gate(plugin, pattern, data):
    value = data.draw(st.from_regex(pattern, fullmatch=True))
    assert plugin.gate.search(value), (plugin.cls, value)


def test_every_plugin_fits_its_priority_slot():
    for plugin in _LIBRARY_PLUGINS:
        detector = getattr(importlib.import_module(f"detect_secrets.plugins.{plugin.module}"), plugin.cls)
        assert 0 < len(detector.denylist) < _SLOT
