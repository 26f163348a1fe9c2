"""adapters/reviewed_side.py: one listing per reviewed side, shared by every reader, and the rules readers built on it
(a link is followed only while it stays inside the repository)."""

from __future__ import annotations

from pathlib import Path

from reviewbot.adapters.git import Repository
from reviewbot.adapters.repository_files import RepoFileRefused
from reviewbot.adapters.reviewed_side import IndexSource, RevisionSource, SideListing, side_files
from reviewbot.core.models import ReviewedSide


def _refusals() -> tuple[list[str], object]:
    said: list[str] = []
    return said, lambda err: said.append(str(err))


def test_index_listing_holds_mode_blob_and_stage(repo):
    repo.commit_files({"app.py": "x = 1\n", "run.sh": "echo\n"}, "base")
    repo.chmod("run.sh", executable=True)
    repo.symlink("link.py", "app.py")
    repo.add("run.sh", "link.py")
    listing = SideListing(Repository(repo.path), ReviewedSide.index())
    entries = listing.entries()
    assert (entries["app.py"].mode, entries["run.sh"].mode, entries["link.py"].mode) == ("100644", "100755", "120000")
    assert entries["app.py"].blob == repo.git("rev-parse", ":app.py").strip()
    assert {e.stage for e in entries.values()} == {0}


def test_a_revision_is_resolved_once_so_a_moving_ref_does_not_change_what_is_read(repo):
    first = repo.commit_files({"app.py": "x = 1\n"}, "first")
    listing = SideListing(Repository(repo.path), ReviewedSide.at("HEAD"))
    repo.commit_files({"app.py": "x = 2\n"}, "second")
    assert listing.commit == first
    assert listing.read_text("app.py") == "x = 1\n"


def test_index_source_reads_the_staged_text_and_untracked_files_from_disk(repo):
    repo.commit_files({"CLAUDE.md": "old rules\n"}, "base")
    repo.write("CLAUDE.md", "staged rules\n")
    repo.add("CLAUDE.md")
    repo.write("CLAUDE.md", "unstaged rules\n")
    repo.write("AGENTS.md", "never added\n")
    source = IndexSource(SideListing(Repository(repo.path), ReviewedSide.index()))
    assert source.read_text("CLAUDE.md") == "staged rules\n"
    assert source.read_text("AGENTS.md") == "never added\n"  # on neither side: the work tree's applies
    assert source.read_text("missing.md") is None


def test_index_source_follows_a_link_inside_and_refuses_one_out(repo, tmp_path: Path):
    outside = tmp_path / "secret.txt"
    outside.write_text("canary\n")
    repo.commit_files({"docs/rules.md": "inside rules\n"}, "base")
    repo.symlink("CLAUDE.md", "docs/rules.md")
    repo.symlink("AGENTS.md", "../secret.txt")
    repo.symlink("key.md", ".env")
    repo.write(".env", "TOKEN=canary\n")
    repo.add("CLAUDE.md", "AGENTS.md", "key.md", ".env")
    said, on_refusal = _refusals()
    source = IndexSource(SideListing(Repository(repo.path), ReviewedSide.index()), on_refusal=on_refusal)
    assert source.read_text("CLAUDE.md") == "inside rules\n"
    assert source.read_text("AGENTS.md") is None
    assert source.read_text("key.md") is None
    assert any("leads outside the repository" in s for s in said)
    assert any("'key.md' (a link to '.env')" in s for s in said)
    assert not any("canary" in s for s in said)


def test_revision_source_refuses_a_link_and_raises_without_a_refusal_handler(repo):
    repo.symlink("CLAUDE.md", "/etc/passwd")
    repo.add("CLAUDE.md")
    repo.commit("link out")
    strict = RevisionSource(SideListing(Repository(repo.path), ReviewedSide.at("HEAD")))
    try:
        strict.read_text("CLAUDE.md", what="standards file")
        raise AssertionError("a committed link was read")
    except RepoFileRefused as err:
        assert "the standards file 'CLAUDE.md' is a symbolic link" in str(err)
    assert strict.read_text("README.md") == "# Demo project\n"


def test_side_files_picks_the_reader_of_each_kind_of_side(repo):
    git_repo = Repository(repo.path)
    assert side_files(SideListing(git_repo, ReviewedSide.index())).label == "index"
    assert side_files(SideListing(git_repo, ReviewedSide.at("HEAD"))).label.startswith("revision ")
    assert side_files(SideListing(git_repo, ReviewedSide.worktree())).label == "work tree"


def test_a_staged_review_lists_the_index_once(repo, model_server, run_cli, tmp_path: Path):
    """Rules, file heads, suppressions and context all read the index; git lists it once for all of them."""
    repo.commit_files({"CLAUDE.md": "Use type hints.\n", "app/geo.py": "def lookup(ip):\n    return ip\n"}, "base")
    repo.write("app/geo.py", "def lookup(ip):\n    return ip\n\n\ndef country(ip):\n    return lookup(ip)[:2]\n")
    repo.add("app/geo.py")
    model_server.answer_findings([])
    trace = tmp_path / "git-trace.txt"
    result = run_cli("diff", "--staged", env={"GIT_TRACE": str(trace)})
    assert result.exit_code == 0, result.stderr
    listings = [line for line in trace.read_text().splitlines()
                if "built-in: git" in line and " ls-files" in line and (" -s" in line or " --stage" in line)]
    assert len(listings) == 1, listings
