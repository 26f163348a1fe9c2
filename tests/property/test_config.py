"""Property: whatever TOML values a repository (or the user's file, or the environment) gives any setting, loading
the settings either works or raises ConfigError (one line, exit 2); never another exception (issue 11, item 7)."""

from __future__ import annotations

import datetime as dt
import string

from hypothesis import HealthCheck, example, given, settings, strategies as st

from reviewbot.adapters.repository_files import MemorySource
from reviewbot.config import KEYS, key_for_endpoint, load_settings, toml_literal as toml_value
from reviewbot.core.errors import ConfigError

_scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["https://x:+443/v1", "http://api.openai.com/v1", "[z-a]", "**/{a,b", "../../x", "/etc/passwd",
                     "\x1b[2J", "", " ", "1_000", "inf", "nan", "true", "warn", "fail", "error", "added"]),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(string.ascii_letters + "[]*-{}/", max_size=8), inner, max_size=3)),
    max_leaves=8,
)
_names = st.one_of(st.sampled_from(sorted(KEYS)), st.text(max_size=12))


def _toml_key(name: str) -> str:
    return toml_value(name)  # a quoted key is valid for any string


def _check(files: dict[str, str], env: dict[str, str], user_text: str | None, tmp_path) -> None:
    user_path = tmp_path / "user.toml"
    if user_text is None:
        user_path.unlink(missing_ok=True)
    else:
        user_path.write_text(user_text, encoding="utf-8")
    try:
        loaded = load_settings(repo_source=MemorySource(files), cli={}, environ=env, user_path=user_path)
        key_for_endpoint(loaded)
        loaded.fail_on_severity, loaded.agent_refs  # noqa: B018 - derived values must work too
    except ConfigError as err:
        assert "\n" not in str(err)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=st.dictionaries(_names, _values, max_size=5), where=st.sampled_from(["repo", "pyproject", "user"]))
@example(table={"base_url": "https://x:+443/v1"}, where="repo")  # a traceback before issue 11
@example(table={"tool": 5}, where="repo")
@example(table={"include": ["[z-a]"]}, where="user")
def test_any_toml_value_for_any_key_is_accepted_or_a_config_error(table, where, tmp_path):
    body = "".join(f"{_toml_key(k)} = {toml_value(v)}\n" for k, v in table.items())
    if where == "repo":
        _check({".reviewbot.toml": body}, {}, None, tmp_path)
    elif where == "pyproject":
        _check({"pyproject.toml": "[tool.reviewbot]\n" + body}, {}, None, tmp_path)
    else:
        _check({}, {}, body, tmp_path)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.dictionaries(st.sampled_from(sorted(KEYS)), st.text(max_size=20), max_size=4))
def test_any_environment_value_is_accepted_or_a_config_error(values, tmp_path):
    _check({}, {f"REVIEWBOT_{k.upper()}": v for k, v in values.items()}, None, tmp_path)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=st.sampled_from([
    "tool = 5", "[tool]\nreviewbot = 5", "[tool]\nreviewbot = [1]", "tool = []", "[tool.reviewbot]\nx = 1",
    "when = 1979-05-27T07:32:00Z", "model = 1979-05-27", "timeout = 07:32:00", "samples = 1e400",
    "concurrency = 99999999999999999999", "[[path_instructions]]\na = 1",
]), prefix=st.sampled_from([".reviewbot.toml", "pyproject.toml"]))
def test_odd_table_shapes_and_toml_types(shape, prefix, tmp_path):
    _check({prefix: shape + "\n"}, {}, None, tmp_path)


def test_datetimes_are_refused_with_the_setting_named(tmp_path):
    try:
        load_settings(repo_source=MemorySource({".reviewbot.toml": "timeout = 1979-05-27\n"}), cli={}, environ={},
                      user_path=tmp_path / "none.toml")
    except ConfigError as err:
        assert "timeout" in str(err)
    else:  # pragma: no cover - the assertion below documents the expectation
        raise AssertionError(f"a date was accepted as a timeout ({dt.date(1979, 5, 27)})")
