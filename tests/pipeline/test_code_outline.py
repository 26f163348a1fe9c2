"""The code outline of a Python file: what it defines (with signature ends), what it imports, which names changed
lines use, and which repository file an import refers to."""

from __future__ import annotations

from reviewbot.pipeline.code_outline import (
    Definition,
    Import,
    is_interesting,
    language_of,
    names_a_module,
    outline,
    references,
    resolve_module,
)

SOURCE = '''\
import os
import xml.etree.ElementTree as ET
from app import billing
from .models import User as Account

LIMIT = 10
CLIENTS = {}


@cache
def charge(user, amount):
    """Charge a user."""
    return billing.charge(user, amount)


class Service:
    def run(self):
        helper()
'''


def test_outline_lists_definitions_with_their_kind_lines_and_parent():
    out = outline("app/service.py", SOURCE)
    assert out.parsed and out.language == "python"
    by_name = {d.name: d for d in out.definitions}
    assert by_name["LIMIT"] == Definition("LIMIT", "constant", 6, 6, 6)
    assert by_name["CLIENTS"].kind == "variable"  # a dict is state, not a constant
    assert by_name["charge"] == Definition("charge", "function", 10, 13, 12)  # decorator in, docstring kept
    assert by_name["Service"].kind == "class"
    assert by_name["run"] == Definition("run", "method", 17, 18, 17, "Service")


def test_outline_maps_local_names_to_imports():
    imports = outline("app/service.py", SOURCE).imports
    assert imports["os"] == Import("os")
    assert imports["ET"] == Import("xml.etree.ElementTree")
    assert imports["billing"] == Import("app", "billing")
    assert imports["Account"] == Import("models", "User", 1)


def test_broken_or_unknown_source_gives_an_empty_outline():
    broken = outline("a.py", "def f(:\n")
    assert broken.language == "python" and not broken.parsed and broken.definitions == ()
    assert outline("notes.txt", "anything").language == "text"
    assert language_of("web/app.TSX") == "tsx" and language_of("README") is None


def test_references_on_the_given_lines_in_order_of_first_use():
    assert references("app/service.py", SOURCE, {13}) == [("", "billing"), ("billing", "charge"), ("", "user"),
                                                           ("", "amount")]
    assert references("app/service.py", SOURCE, {18}) == [("", "helper")]
    assert references("a.py", "def f(:\n", {1}) == []
    assert is_interesting("billing") and not is_interesting("self") and not is_interesting("id")


def test_imports_resolve_to_repository_files_only():
    files = {"app/billing.py", "app/__init__.py", "app/models.py", "src/lib/util.py", "web/db.ts", "web/app.ts"}
    assert resolve_module(Import("app", "billing"), "app/service.py", files) == ["app/billing.py"]
    assert resolve_module(Import("models", "User", 1), "app/service.py", files) == ["app/models.py"]
    assert resolve_module(Import("lib.util"), "main.py", files) == ["src/lib/util.py"]
    assert resolve_module(Import("requests"), "main.py", files) == []
    assert resolve_module(Import("./db.js"), "web/app.ts", files) == ["web/db.ts"]
    assert resolve_module(Import("react"), "web/app.ts", files) == []
    assert names_a_module(Import("app", "billing"), "app/service.py", files)
    assert not names_a_module(Import("app", "LIMIT"), "app/service.py", files)
