"""The model's read-only tools run against the reviewed revision: reads by line range, fixed-string search and folder
listings, and a sentence back (never an exception) for anything outside the tracked files or too sensitive to send."""

from __future__ import annotations

import json

from reviewbot.adapters.git import DiffSpec, Repository
from reviewbot.adapters.reviewed_side import SideListing
from reviewbot.adapters.reviewed_tree import ReviewedTree
from reviewbot.pipeline.model_tools import ToolBox, ToolLimits, agents_with_tools, describe_call


def _toolbox(repo, **limits) -> ToolBox:
    repo.commit_files({"app/geo.py": "".join(f"line {i}\n" for i in range(1, 11)) + "def lookup_country(ip):\n",
                       "app/.env": "TOKEN=x\n", "docs/guide.md": "lookup_country in prose\n"}, "base")
    git_repo = Repository(repo.path)
    tree = ReviewedTree(SideListing(git_repo, DiffSpec(revisions=("HEAD",)).reviewed_side))  # HEAD vs the work tree
    return ToolBox(tree, ToolLimits(**limits), excluded=lambda path: path.endswith(".env"))


def call(box: ToolBox, name: str, **args) -> tuple[str, bool]:
    return box.call(name, json.dumps(args))


def test_read_file_returns_numbered_lines_within_the_bounds(repo):
    box = _toolbox(repo, read_lines=3)
    text, refused = call(box, "read_file", path="app/geo.py", start_line=2, end_line=9)
    assert not refused
    assert text.splitlines() == ["app/geo.py lines 2-4 of 11", "2 | line 2", "3 | line 3", "4 | line 4"]


def test_search_and_list_folder_see_the_tracked_files(repo):
    box = _toolbox(repo)
    text, refused = call(box, "search", text="lookup_country", path="app")
    assert not refused and text == "app/geo.py:11: def lookup_country(ip):"
    assert call(box, "search", text="nowhere to be found") == ("no match for 'nowhere to be found'", False)
    listing, _ = call(box, "list_folder", path="")
    assert listing.splitlines() == ["README.md", "app/", "docs/"]


def test_calls_outside_the_repository_or_on_sensitive_files_are_refused_with_a_reason(repo):
    box = _toolbox(repo)
    for name, args, reason in [
        ("read_file", {"path": "/etc/passwd"}, "absolute path"),
        ("read_file", {"path": "../outside.py"}, "outside the repository"),
        ("read_file", {"path": "app/missing.py"}, "not a regular file"),
        ("read_file", {"path": "app/.env"}, "sensitive file"),
        ("list_folder", {"path": "nope"}, "not a folder"),
        ("delete_file", {"path": "app/geo.py"}, "unknown tool"),
    ]:
        text, refused = call(box, name, **args)
        assert refused and text.startswith("refused: ") and reason in text, (name, args, text)
    assert box.call("read_file", "not json")[1] is True


def test_describe_call_and_which_agents_get_tools():
    assert describe_call("read_file", '{"path": "a.py"}', "a\nb\nc", False) == (
        'tool read_file {"path": "a.py"} -> 3 lines'
    )
    assert describe_call("search", "{}", "refused: text must be given\nmore", True).endswith(
        "-> refused: text must be given"
    )

    class Agent:
        def __init__(self, name, tools=()):
            self.name, self.tools = name, tools

    class Settings:
        tools = False

    agents = [Agent("plain"), Agent("reader", ("Read", "Edit")), Agent("writer", ("Edit",))]
    assert agents_with_tools(agents, Settings()) == frozenset({"reader"})
    Settings.tools = True
    assert agents_with_tools(agents, Settings()) == frozenset({"plain", "reader", "writer"})
