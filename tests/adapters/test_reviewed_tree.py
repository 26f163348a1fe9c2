"""adapters/reviewed_tree.py: the repository on the reviewed side, read in one git run for many files."""

from __future__ import annotations

from reviewbot.adapters.git import DiffSpec, Repository
from reviewbot.adapters.reviewed_side import SideListing
from reviewbot.adapters.reviewed_tree import ReviewedTree


def _tree(repo, spec: DiffSpec) -> ReviewedTree:
    return ReviewedTree(SideListing(Repository(repo.path), spec.reviewed_side))


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


def test_each_kind_of_diff_is_read_at_its_own_side(repo):
    first = repo.head()
    repo.commit_files({"a.py": "x = 1\n"}, "second")
    second = repo.head()
    repo.write("a.py", "x = 'staged'\n")
    repo.add("a.py")
    repo.write("a.py", "x = 'work tree'\n")
    seen = {spec: _tree(repo, spec).read("a.py") for spec in (
        DiffSpec(staged=True), DiffSpec(), DiffSpec(revisions=(first,)), DiffSpec(revisions=(first, second)),
        DiffSpec(revisions=(f"{first}..{second}",)), DiffSpec(revisions=(f"{first}...",)))}
    assert list(seen.values()) == ["x = 'staged'\n", "x = 'work tree'\n", "x = 'work tree'\n", "x = 1\n",
                                   "x = 1\n", "x = 1\n"]  # `A...` leaves B out: HEAD
    assert _tree(repo, DiffSpec(revisions=(first, second))).label == f"commit {second[:12]}"
    assert _tree(repo, DiffSpec(staged=True)).label == "index"