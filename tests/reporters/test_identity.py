"""A finding's names and fingerprints: rule slugs, security categories, and hashes that survive line shifts and
rewording but tell different places, categories and agents apart."""

from __future__ import annotations

from dataclasses import replace

import pytest

from reviewbot.reporters.identity import (
    anchor_text,
    fingerprint,
    is_security_category,
    location_hash,
    slug,
    unique_fingerprints,
)
from tests.reporters.support import finding


@pytest.mark.parametrize(("category", "expected"), [
    ("SQL Injection", "sql-injection"), ("  blocking_io!! ", "blocking-io"), ("", "general"), ("???", "general"),
])
def test_slug(category, expected):
    assert slug(category) == expected


@pytest.mark.parametrize(("category", "security"), [
    ("SQL Injection", True), ("xss", True), ("hard-coded secret", True), ("Auth bypass", True),
    ("resource leak", False), ("performance", False), ("blocking-io", False),
])
def test_is_security_category_matches_whole_words_and_prefixes(category, security):
    assert is_security_category(category) is security


def test_the_quote_identifies_the_place_when_given_else_the_message():
    assert anchor_text(finding(quote="  time.sleep(5)\t", message="x")) == "quote:time.sleep(5)"
    assert anchor_text(finding(quote="   ", message="Blocks  the\nloop")) == "message:Blocks the loop"


def test_fingerprints_ignore_lines_and_wording_but_not_place_category_or_agent():
    base = finding(line=21, quote="time.sleep(5)", message="blocks", agent="async")
    moved = replace(base, line=90, message="This call blocks the event loop", end_line=91)
    assert fingerprint(moved) == fingerprint(base) and location_hash(moved) == location_hash(base)
    other_agent = replace(base, agent="general")
    assert fingerprint(other_agent) != fingerprint(base)
    assert location_hash(other_agent) == location_hash(base)  # which agent spoke does not move the place
    for changed in (replace(base, path="app/other.py"), replace(base, category="performance"),
                    replace(base, quote="time.sleep(6)")):
        assert fingerprint(changed) != fingerprint(base)
    assert len(fingerprint(base)) == 64


def test_unique_fingerprints_tell_duplicates_apart_deterministically():
    twin = finding(quote="time.sleep(5)")
    fps = unique_fingerprints([twin, twin, finding(quote="other()"), twin])
    assert fps[0] == fingerprint(twin) and len(set(fps)) == 4
    assert unique_fingerprints([twin, twin, finding(quote="other()"), twin]) == fps
