"""adapters/reviewed_revision.py: the repository at the reviewed revision, read in one git run for many files."""

from __future__ import annotations

from reviewbot.adapters.git import DiffSpec, Repository
from reviewbot.adapters.reviewed_revision import ReviewedTree, reviewed_where


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


def test_blobs_are_read_in_one_batch(repo):
    repo.commit_files({f"m{i}.py": f"x = {i}\n" for i in range(30)}, "base")
    git_repo = Repository(repo.path)
    ids = [line.split()[2] for line in str(git_repo.run("ls-tree", "HEAD")).splitlines()]
    blobs = git_repo.read_blobs(ids + ["0" * 40])
    assert sorted(blobs.values()) == sorted([b"# Demo project\n", *(f"x = {i}\n".encode() for i in range(30))])
    assert "0" * 40 not in blobs
