"""The plan cache (reviewbot/pipeline/plan_cache.py): an unchanged rerun reads the whole plan back, and nothing else
changes.

What is proved here:
- a plan read back equals the plan computed afresh, field by field, and shares objects with the diff the same way
  (which files are the diff's own objects, which requests share a chunk), on a diff with secrets in content and in
  a file name, nested and glob-scoped standards, a clipped hunk, a file split by hunks, two agents and two samples;
- the CLI prints the same bytes and exits with the same code whether the plan was computed, stored or read back;
- every input changes the key: the diff, a setting, an agent's persona, a standards file (even one no changed path
  uses yet), the code;
- plan() runs no reviewbot code outside PLAN_MODULES except where its inputs come from;
- a stored entry naming any other class is refused without running it, and a damaged one is a miss.
"""

from __future__ import annotations

import io
import pickle
import sys
import zlib
from pathlib import Path

import pytest

from reviewbot.adapters.diff_parser import ParsedFiles, parse_diff
from reviewbot.adapters.git import DiffSpec
from reviewbot.adapters.result_cache import ResultCache
from reviewbot.core.models import Diff
from reviewbot.pipeline import plan_cache as plancache, planning
from reviewbot.session import collect_diff, load_agents, model_for_agent, prepare

TOKEN = "ghp_R8fK2mQ9xL4vT7wZ1pN6sJ3hB5cD0eA9gF2k"  # a GitHub token's shape, not a real one
PICKY = "---\nname: picky\ndescription: Finds everything\nmodel: sonnet\n---\nYou are picky about {what}.\n"


def _rich_change(repo) -> None:
    """A staged change that exercises every part of the plan."""
    repo.write("CLAUDE.md", "# Rules\nNo global state.\n")
    repo.write("services/api/AGENTS.md", "API handlers validate their input.\n")
    repo.write(".github/instructions/ts.instructions.md", '---\napplyTo: "**/*.ts"\n---\nPrefer const.\n')
    repo.write(".claude/agents/picky.md", PICKY.format(what="names"))
    for i in range(8):
        repo.write(f"src/m{i}.py", "".join(f"v{j} = {j}\n" for j in range(40)))
    repo.write("src/hunks.py", "".join(f"line_{j} = {j}\n" for j in range(400)))
    repo.write("services/api/h.py", "x = 1\n")
    repo.commit("base", all=True)
    for i in range(8):
        repo.write(f"src/m{i}.py", "".join(f"v{j} = {j * (i + 3)}\n" for j in range(40)))
    repo.write("src/hunks.py", "".join(f"line_{j} = {j * 7 if j % 20 == 0 else j}\n" for j in range(400)))
    repo.write("services/api/h.py", f'GITHUB_TOKEN = "{TOKEN}"\nimport time\ntime.sleep(1)\n')
    repo.write(f"cfg/{TOKEN}.txt", "a = 1\n")
    repo.write("src/app.ts", "const a: number = 1;\n")
    repo.write("src/big.py", "".join(f"big_value_{j} = {j}\n" for j in range(1500)))
    repo.stage_all()


SETTINGS = {"max_request_tokens": 6500, "samples": 2, "agents": ["senior-backend-engineer", "picky"],
            "path_instructions": {"src/**": "Check the types."}}


def _inputs(repo, **cli):
    ctx = prepare({**SETTINGS, **cli}, cwd=repo.path)
    diff = collect_diff(ctx, DiffSpec(staged=True))
    agents = load_agents(ctx)
    return ctx, diff, agents, model_for_agent(ctx.settings)


def _plan(ctx, diff, agents, model_for):
    return planning.plan(diff, ctx.settings, agents=agents, source=ctx.source, model_for=model_for)


def _key(ctx, diff, agents, model_for):
    return plancache.plan_key(diff, ctx.settings, agents=agents, source=ctx.source, model_for=model_for)


def _shape(the_plan, diff):
    """How a plan shares objects: with the diff (file numbers) and among its requests (chunk numbers)."""
    own = {id(f): i for i, f in enumerate(diff.files)}
    chunks: dict[int, int] = {}
    return (
        the_plan.diff is diff,
        [own.get(id(f)) for f in the_plan.reviewable],
        [chunks.setdefault(id(r.chunk), len(chunks)) for r in the_plan.requests],
        [[own.get(id(f)) for f in r.chunk.files] for r in the_plan.requests],
        [id(r.messages) == id(the_plan.requests[max(0, n - 1)].messages) for n, r in enumerate(the_plan.requests)],
    )


def test_a_plan_read_back_equals_the_fresh_one(repo):
    _rich_change(repo)
    ctx, diff, agents, model_for = _inputs(repo)
    fresh = planning._make_plan(diff, ctx.settings, agents=agents, source=ctx.source, model_for=model_for)
    # The scenario really has what it claims.
    assert fresh.redactions >= 1 and fresh.path_aliases and fresh.local_findings
    assert any(c.notes for c in (r.chunk for r in fresh.requests))  # a clipped hunk
    assert sum("src/hunks.py" in r.chunk.paths for r in fresh.requests) >= 4  # split by hunks (2 agents x 2+)
    assert {r.agent for r in fresh.requests} == {"senior-backend-engineer", "picky"}
    assert any("services/api/AGENTS.md" in r.messages[1]["content"] for r in fresh.requests)
    assert any("Check the types." in r.messages[1]["content"] for r in fresh.requests)

    stored = _plan(ctx, diff, agents, model_for)  # computes and stores
    key = _key(ctx, diff, agents, model_for)
    with ResultCache() as cache:
        assert plancache.load(cache, key, diff) is not None  # the next call is a hit
    again = _plan(ctx, diff, agents, model_for)
    assert stored == fresh and again == fresh
    assert _shape(stored, diff) == _shape(fresh, diff) == _shape(again, diff)
    assert [r.estimated_tokens for r in again.requests] == [r.estimated_tokens for r in fresh.requests]

    # A new process has a new Diff object with the same content: the plan binds to it.
    ctx2, diff2, agents2, model_for2 = _inputs(repo)
    assert diff2 is not diff and diff2 == diff
    third = _plan(ctx2, diff2, agents2, model_for2)
    assert third == fresh and _shape(third, diff2) == _shape(fresh, diff)


def test_the_cli_prints_the_same_whether_the_plan_is_computed_stored_or_read(repo, run_reviewbot, isolated_env):
    _rich_change(repo)
    args = ["diff", "--staged", "--dry-run", "--max-request-tokens", "6500", "--samples", "2"]
    computed = run_reviewbot(*args, "--no-cache")
    stored = run_reviewbot(*args)
    read = run_reviewbot(*args)
    assert computed.returncode == 0, computed.stderr[-2000:]
    assert "request(s)" in computed.stdout and "secret(s) redacted" in computed.stdout
    for run in (stored, read):
        assert (run.returncode, run.stdout, run.stderr) == (computed.returncode, computed.stdout, computed.stderr)
    with ResultCache(isolated_env.cache / "reviewbot" / "cache.sqlite3") as cache:
        blobs = cache._run(lambda db: db.execute("SELECT COUNT(*) FROM results WHERE typeof(value) = 'blob'")
                           .fetchone()[0])
    assert blobs == 1  # the --no-cache run stored nothing; the other two share one plan


def test_a_review_from_a_stored_plan_reports_the_same_findings(repo, model_server, run_reviewbot):
    _rich_change(repo)

    def route(body):
        text = body["messages"][1]["content"]
        if "services/api/h.py" in text:
            return {"findings": [{"path": "services/api/h.py", "line": 3, "severity": "error", "category": "async",
                                  "message": "time.sleep blocks the event loop"}], "summary": ""}
        return {"findings": [], "summary": ""}

    model_server.default = route
    first = run_reviewbot("diff", "--staged")
    sent = model_server.request_count
    again = run_reviewbot("diff", "--staged")
    assert first.returncode == 1, first.stderr[-2000:]
    assert "services/api/h.py:3: error: time.sleep blocks the event loop" in first.stdout
    assert (again.returncode, again.stdout) == (first.returncode, first.stdout)
    assert model_server.request_count == sent  # everything came from the cache
    assert f"0 requests ({sent} cached)" in again.stderr, again.stderr


def test_every_input_changes_the_key(repo):
    _rich_change(repo)
    base = _key(*_inputs(repo))
    assert base is not None
    keys = {"base": base}
    keys["setting"] = _key(*_inputs(repo, max_request_tokens=7000))
    keys["unrelated setting"] = _key(*_inputs(repo, fail_on="warning"))
    repo.write(".claude/agents/picky.md", PICKY.format(what="spelling"))
    keys["persona"] = _key(*_inputs(repo))
    repo.write("CLAUDE.md", "# Rules\nNo global state. No print.\n")
    keys["standards text"] = _key(*_inputs(repo))
    repo.write("docs/AGENTS.md", "Docs rules.\n")  # applies to no changed path, but discovery may read it
    repo.add("docs/AGENTS.md")
    keys["diff and a new nested file"] = _key(*_inputs(repo))
    repo.write("src/m0.py", "changed = True\n")
    repo.add("src/m0.py")
    keys["diff"] = _key(*_inputs(repo))
    assert len(set(keys.values())) == len(keys), keys
    assert _key(*_inputs(repo)) == keys["diff"]  # and the same inputs give the same key


def test_the_code_is_in_the_key(repo):
    stamp = plancache.code_stamp()
    assert stamp is not None
    for module, dist in plancache.PLAN_LIBRARIES:
        assert plancache._library_stamp(module, dist).startswith(f"{module}: ['")  # found its .dist-info
    assert plancache._library_stamp("no_such_module_here", "x") == "no_such_module_here: absent"
    planning_source = Path(planning.__file__).read_text(encoding="utf-8")
    from reviewbot.adapters.result_cache import cache_key

    parts = [plancache.module_file(m).read_text(encoding="utf-8")
             for m in plancache.PLAN_MODULES]
    libraries = [plancache._library_stamp(m, d) for m, d in plancache.PLAN_LIBRARIES]
    assert stamp == cache_key(*parts, *libraries)
    parts[plancache.PLAN_MODULES.index("reviewbot.pipeline.planning")] = planning_source + "\n# edited\n"
    assert cache_key(*parts, *libraries) != stamp


# Where plan()'s inputs come from: the model chooser (session), the Settings record (config.settings), agents and
# the file source (repository_files, git). Their results are in the key; their code does not compute the plan.
INPUT_MODULES = {
    "reviewbot.session",
    "reviewbot.config.settings",
    "reviewbot.rules.agents",
    "reviewbot.adapters.repository_files",
    "reviewbot.adapters.git",
}


def _module_name(filename: str, package: Path) -> str | None:
    """reviewbot.x.y for a file of the package, None for any other file."""
    path = Path(filename)
    if not path.is_relative_to(package) or path.suffix != ".py":
        return None
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_plan_runs_no_reviewbot_code_outside_the_keyed_modules(repo):
    _rich_change(repo)
    ctx, diff, agents, model_for = _inputs(repo, cache=False)
    ran: set[str] = set()

    def profile(frame, event, arg):
        if event == "call":
            ran.add(frame.f_code.co_filename)

    sys.setprofile(profile)
    try:
        planning.plan(diff, ctx.settings, agents=agents, source=ctx.source, model_for=model_for,
                    reviewed=ctx.reviewed)
    finally:
        sys.setprofile(None)
    package = Path(planning.__file__).parents[1]  # reviewbot/
    modules = {m for m in (_module_name(f, package) for f in ran) if m is not None}
    # the probe saw the plan's work
    assert all(any(m == e or m.startswith(e + ".") for m in modules)
               for e in {"reviewbot.pipeline.planning", "reviewbot.secrets", "reviewbot.pipeline.chunking",
                         "reviewbot.pipeline.prompt", "reviewbot.pipeline.context"})
    assert modules - INPUT_MODULES <= set(plancache.PLAN_MODULES)


def test_a_diff_not_made_by_the_parser_is_planned_without_the_cache(repo):
    _rich_change(repo)
    ctx, diff, agents, model_for = _inputs(repo)
    plain = Diff(files=tuple(diff.files), description=diff.description)
    assert _key(ctx, plain, agents, model_for) is None
    assert _plan(ctx, plain, agents, model_for) == planning._make_plan(
        plain, ctx.settings, agents=agents, source=ctx.source, model_for=model_for)


def test_parsed_files_behave_as_the_tuple_they_are():
    raw = "diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b\n"
    files = parse_diff(raw)
    assert isinstance(files, ParsedFiles) and len(files.source_digest) == 64
    assert files == tuple(files) and hash(files) == hash(tuple(files)) and repr(files) == repr(tuple(files))
    assert type(files[:1]) is tuple
    assert parse_diff(raw.encode()).source_digest == files.source_digest
    assert parse_diff(raw.replace("+b", "+c")).source_digest != files.source_digest
    copy = pickle.loads(pickle.dumps(files))
    assert copy == files and copy.source_digest == files.source_digest


class _Boom:
    """Would write a file if a stored plan could make the reader call it."""

    def __reduce__(self):
        return (Path.write_text, (Path(self.target), "ran"))


def test_a_foreign_or_damaged_entry_is_refused_and_the_plan_computed(repo, tmp_path):
    _rich_change(repo)
    ctx, diff, agents, model_for = _inputs(repo)
    key = _key(ctx, diff, agents, model_for)
    fresh = planning._make_plan(diff, ctx.settings, agents=agents, source=ctx.source, model_for=model_for)
    boom = _Boom()
    boom.target = str(tmp_path / "ran.txt")
    for entry in (zlib.compress(pickle.dumps(boom)), b"not zlib at all", zlib.compress(b"not a pickle"),
                  zlib.compress(pickle.dumps({"a": 1}))):
        with ResultCache() as cache:
            cache.put_blob(key, entry)
            assert plancache.load(cache, key, diff) is None
        assert _plan(ctx, diff, agents, model_for) == fresh  # computed, and stored over the bad entry
        with ResultCache() as cache:
            assert plancache.load(cache, key, diff) is not None
    assert not (tmp_path / "ran.txt").exists()


def test_a_reference_outside_the_diff_is_refused(repo):
    _rich_change(repo)
    ctx, diff, agents, model_for = _inputs(repo)
    for pid in (("file", len(diff.files)), ("file", -1), ("hunk", 0, 99), ("other",), "diff"):
        buffer = io.BytesIO()

        class Pickler(pickle.Pickler):
            def persistent_id(self, obj, pid=pid):
                return pid if obj == "marker" else None

        Pickler(buffer, protocol=5).dump(["marker"])
        with pytest.raises((pickle.UnpicklingError, IndexError)):
            plancache._PlanUnpickler(io.BytesIO(buffer.getvalue()), diff).load()


def test_cache_off_leaves_no_plan_behind(repo, isolated_env):
    _rich_change(repo)
    ctx, diff, agents, model_for = _inputs(repo, cache=False)
    _plan(ctx, diff, agents, model_for)
    assert not (isolated_env.cache / "reviewbot" / "cache.sqlite3").exists()


def test_blobs_round_trip_and_refresh_their_use_time_at_most_hourly(tmp_path):
    with ResultCache(tmp_path / "c.sqlite3") as cache:
        cache.put_blob("b", b"\x00\xffdata")
        cache.put("t", "text")
        assert cache.get_blob("b") == b"\x00\xffdata"
        assert cache.get_blob("t") is None and cache.get_blob("missing") is None

        def used(key):
            return cache._run(lambda db: db.execute("SELECT used FROM results WHERE key = ?", (key,)).fetchone()[0])

        cache._run(lambda db: db.execute("UPDATE results SET used = 1000 WHERE key = 'b'"))
        cache.get_blob("b")
        refreshed = used("b")
        assert refreshed > 1000  # over an hour old: refreshed
        cache.get_blob("b")
        assert used("b") == refreshed  # fresh: the large row is not rewritten
