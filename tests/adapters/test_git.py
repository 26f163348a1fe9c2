"""adapters/git.py: which side of each kind of diff spec is reviewed, and blobs read in one git run."""

from __future__ import annotations

from reviewbot.adapters.git import DiffSpec, Repository
from reviewbot.core.models import ReviewedSide


def test_reviewed_side_of_each_kind_of_spec():
    assert DiffSpec(revisions=("a..b",)).reviewed_side == ReviewedSide.at("b")
    assert DiffSpec(revisions=("a...b",)).reviewed_side == ReviewedSide.at("b")
    assert DiffSpec(revisions=("a..",)).reviewed_side == ReviewedSide.at("HEAD")
    assert DiffSpec(revisions=("a", "b")).reviewed_side == ReviewedSide.at("b")
    assert DiffSpec(staged=True).reviewed_side == ReviewedSide.index()
    assert DiffSpec(staged=True, revisions=("a",)).reviewed_side == ReviewedSide.index()  # --staged REV: the index
    assert DiffSpec(revisions=("a",)).reviewed_side == ReviewedSide.worktree()  # REV against the work tree
    assert DiffSpec().reviewed_side == ReviewedSide.worktree()


def test_blobs_are_read_in_one_batch(repo):
    repo.commit_files({f"m{i}.py": f"x = {i}\n" for i in range(30)}, "base")
    git_repo = Repository(repo.path)
    ids = [line.split()[2] for line in str(git_repo.run("ls-tree", "HEAD")).splitlines()]
    blobs = git_repo.read_blobs(ids + ["0" * 40])
    assert sorted(blobs.values()) == sorted([b"# Demo project\n", *(f"x = {i}\n".encode() for i in range(30))])
    assert "0" * 40 not in blobs
