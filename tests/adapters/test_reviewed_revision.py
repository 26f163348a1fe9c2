"""adapters/reviewed_revision.py: the repository at the reviewed revision, read in one git run for many files."""

from __future__ import annotations

from reviewbot.adapters.git import DiffSpec, Repository
from reviewbot.adapters.reviewed_revision import INDEX, WORKTREE, ReviewedTree, reviewed_where


def _tree(repo, spec: DiffSpec) -> ReviewedTree:
    git_repo = Repository(repo.path)
    return ReviewedTree(git_repo, reviewed_where(git_repo, spec))


def test_prefetch_reads_what_one_read_at_a_time_reads(repo):
    repo.commit_files({"a.py": "a = 1\n", "b.py": "b = 'caf\u00e9'\n", "c.bin": b"x\xff\n"}, "base")
    repo.write("a.py", "a = 2\n")
    repo.write("b.py", "b = 3\n")
    repo.add("a.py", "b.py")
    repo.write("a.py", "a = 'work tree, not staged'\n")
    repo.symlink("link.py", "a.py")
    repo.add("link.py")
    for spec in (DiffSpec(staged=True), DiffSpec(revisions=("HEAD",))):
        one_by_one = _tree(repo, spec)
        expected = {p: one_by_one.read(p) for p in ("a.py", "b.py", "c.bin", "link.py", "missing.py")}
        batched = _tree(repo, spec)
        batched.prefetch(["a.py", "b.py", "c.bin", "link.py", "missing.py"])
        assert {p: batched.read(p) for p in expected} == expected
    staged = _tree(repo, DiffSpec(staged=True))
    staged.prefetch(["a.py"])
    assert staged.read("a.py") == "a = 2\n"  # the index, not the work tree
    assert staged.read("link.py") is None  # a link is never read, batched or not


def test_which_revision_each_kind_of_diff_reviews(repo):
    first = repo.head()
    repo.commit_files({"a.py": "x = 1\n"}, "second")
    second = repo.head()
    git = Repository(repo.path)
    assert reviewed_where(git, DiffSpec(staged=True)) == INDEX
    assert reviewed_where(git, DiffSpec(staged=True, revisions=(first,))) == INDEX
    assert reviewed_where(git, DiffSpec()) == WORKTREE
    assert reviewed_where(git, DiffSpec(revisions=(first,))) == WORKTREE  # REV against the work tree
    assert reviewed_where(git, DiffSpec(revisions=(first, second))) == second
    assert reviewed_where(git, DiffSpec(revisions=(f"{first}..{second}",))) == second
    assert reviewed_where(git, DiffSpec(revisions=(f"{first}...{second}",))) == second
    assert reviewed_where(git, DiffSpec(revisions=(f"{first}..",))) == second  # B left out: HEAD
