"""How a raw setting becomes a typed value, or a ValueError that says what was expected."""

from __future__ import annotations

import pytest

from reviewbot.config.converters import (
    MAX_LIST_ITEMS,
    Choice,
    at_least,
    boolean,
    bounded_list,
    choice,
    fraction,
    glob_list,
    glob_table,
    http_url,
    number,
    positive,
    quoted,
    report_format,
    string,
    string_list,
    string_table,
    whole_number,
)


def _refusal(convert, value) -> str:
    with pytest.raises(ValueError) as err:
        convert(value)
    return str(err.value)


def test_strings_and_numbers():
    assert string("x") == "x" and _refusal(string, 5) == "expected a string"
    assert whole_number(" 1_000 ") == 1000 and whole_number(7) == 7
    assert _refusal(whole_number, True) == "expected a whole number"
    assert number("2.5") == 2.5 and _refusal(number, False) == "expected a number"


def test_at_least_refuses_nan_infinity_and_smaller_values():
    one = at_least(1)
    assert one("3") == 3
    for bad in ("0", -2):
        assert _refusal(one, bad) == "expected a finite number of at least 1"
    real = at_least(0, number)
    assert real("0.25") == 0.25
    for bad in ("nan", "inf", "-inf"):
        assert _refusal(real, bad) == "expected a finite number of at least 0"


def test_positive_and_fraction():
    assert positive("0.1") == 0.1
    for bad in ("0", "-1", "inf", "nan"):
        assert _refusal(positive, bad) == "expected a number above 0"
    assert fraction("0") == 0.0 and fraction(1) == 1.0
    assert _refusal(fraction, "1.01") == "expected a number from 0 to 1"


@pytest.mark.parametrize("raw, value", [(True, True), ("yes", True), (" ON ", True), ("1", True), ("off", False),
                                        ("", False), ("False", False), (False, False)])
def test_booleans_in_the_words_people_use(raw, value):
    assert boolean(raw) is value


def test_anything_else_is_not_a_boolean():
    assert _refusal(boolean, "maybe") == _refusal(boolean, 1) == "expected true or false"


def test_lists_come_as_lists_or_as_one_comma_separated_string():
    assert string_list(" a, b ,,c ") == ["a", "b", "c"] and string_list(("x",)) == ["x"]
    assert _refusal(string_list, ["a", 1]) == "expected a list of strings"
    assert string_table({"a": "b"}) == {"a": "b"} and _refusal(string_table, {"a": 1}) == "expected a table of strings"


def test_lists_are_bounded():
    assert len(bounded_list(["x"] * MAX_LIST_ITEMS)) == MAX_LIST_ITEMS
    too_many = MAX_LIST_ITEMS + 1
    assert _refusal(bounded_list, ["x"] * too_many) == f"expected at most {MAX_LIST_ITEMS} entries, not {too_many}"
    assert _refusal(glob_table, {f"d{i}/**": "x" for i in range(501)}) == "expected at most 500 entries, not 501"


def test_globs_are_checked_and_named_safely():
    assert glob_list("src/**, *.py") == ["src/**", "*.py"] and glob_table({"src/**": "x"}) == {"src/**": "x"}
    said = _refusal(glob_list, ["[z-a]\x1b[2J"])
    assert said.startswith("the glob '[z-a]") and "is not valid (" in said and "\x1b" not in said
    assert "is not valid" in _refusal(glob_table, {"*a*a*a*b": "x"})


def test_urls_must_be_http_with_a_host_and_a_real_port():
    assert http_url(" http://127.0.0.1:8080/v1 ") == "http://127.0.0.1:8080/v1"
    expected = "expected an http:// or https:// URL with a host, e.g. https://api.openai.com/v1"
    assert _refusal(http_url, "ftp://x/v1") == _refusal(http_url, "https:///v1") == expected
    assert _refusal(http_url, "https://x:+443/v1") == "the URL's port is not a number from 0 to 65535"


def test_choices_accept_any_case_and_list_the_options():
    convert = choice("warn", "fail")
    assert isinstance(convert, Choice) and convert.options == ("warn", "fail")
    assert convert(" FAIL ") == "fail"
    assert _refusal(convert, "sometimes") == "expected one of warn, fail"


def test_report_formats_are_the_reporters_names():
    assert report_format(" SARIF ") == "sarif"
    assert _refusal(report_format, "nope").startswith("expected one of ") and "text" in _refusal(report_format, "x")


def test_quoted_names_stay_on_one_line():
    assert quoted("evil\x1b]52;c;Y3VybA==\x07\nkey") == "'evil key'"
    assert quoted("plain") == "'plain'"
