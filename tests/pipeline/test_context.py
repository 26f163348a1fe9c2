"""Context beyond the diff (reviewbot/pipeline/context.py): what is included, from which revision, and within which
budget.

Everything runs on real git repositories; requests are planned (nothing is sent) and read back as text.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from reviewbot.adapters.git import DiffSpec
from reviewbot.evaluation.cases import bundled_corpus_dir, load_case, load_cases
from reviewbot.evaluation.workspace import materialize_case
from reviewbot.pipeline import planning
from reviewbot.pipeline.context import lines_shown
from reviewbot.session import collect_diff, load_agents, model_for_agent, prepare

GOLDEN = Path(__file__).parents[1] / "golden" / "context_off_requests.json"

HELPER = '''\
"""Geo look-ups."""

import requests


def lookup_country(ip):
    resp = requests.get("https://geo.example/v1/" + ip, timeout=3)
    return resp.json().get("country")
'''

API = '''\
"""Sign-up."""

from app.geo import lookup_country


async def signup(request):
    return {"ok": True}


def unrelated():
    return 1
'''


def plan_for(cwd: Path, spec: DiffSpec, **cli):
    ctx = prepare({"cache": False, "model": "m", **cli}, cwd=cwd)
    diff = collect_diff(ctx, spec)
    return planning.plan(diff, ctx.settings, agents=load_agents(ctx), source=ctx.source,
                       model_for=model_for_agent(ctx.settings), reviewed=ctx.reviewed)


def context_section(the_plan) -> str:
    text = "\n".join(m["content"] for r in the_plan.requests for m in r.messages)
    match = re.search(r"# Context from the repository.*?\n<<<DATA-(\w+) context\n(.*?)\nDATA-\1>>>", text, re.S)
    return match.group(2) if match else ""


def context_lines(the_plan) -> list[tuple[str, int, str]]:
    """(path, line, text) of every context line the plan's requests show."""
    out, path = [], None
    for line in context_section(the_plan).splitlines():
        if line.startswith("## Context: "):
            path = line.removeprefix("## Context: ")
        m = re.match(r"^\s*(\d+) \| (.*)$", line)
        if m and path:
            out.append((path, int(m.group(1)), m.group(2)))
    return out


def stage_signup_change(repo) -> None:
    repo.commit_files({"app/geo.py": HELPER, "app/api.py": API}, "base")
    repo.write("app/api.py", API.replace('    return {"ok": True}\n',
                                         '    country = lookup_country(request.ip)\n    return {"ok": country}\n'))
    repo.add("app/api.py")


# -- --no-context is today's request, byte for byte ---------------------------------------------------------------


def test_no_context_reproduces_the_requests_of_the_code_before_context(tmp_path):
    """tests/golden/context_off_requests.json was captured from commit d94a4da (the merged tree just before context
    existed) by planning these eval cases with the same settings; --no-context must give exactly those messages."""
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    for name, requests in golden.items():
        repo = materialize_case(load_case(bundled_corpus_dir() / name), tmp_path)
        off = plan_for(repo, DiffSpec(staged=True), model="golden-model", context=False)
        assert [list(r.messages) for r in off.requests] == requests, name
        on = plan_for(repo, DiffSpec(staged=True), model="golden-model")
        assert [list(r.messages) for r in on.requests] != requests, f"{name}: context on adds nothing"


def test_no_context_flag_on_the_command_line(repo, run_cli):
    stage_signup_change(repo)
    with_context = run_cli("diff", "--staged", "--dry-run", "--no-cache", "-m", "m")
    without = run_cli("diff", "--staged", "--dry-run", "--no-cache", "-m", "m", "--no-context")
    assert "# Context from the repository" in with_context.stdout
    assert "def lookup_country(ip):" in with_context.stdout
    assert "# Context from the repository" not in without.stdout
    assert "def lookup_country" not in without.stdout


# -- what is included -----------------------------------------------------------------------------------------------


def test_python_definition_from_another_module_and_enclosing_function(repo):
    stage_signup_change(repo)
    the_plan = plan_for(repo.path, DiffSpec(staged=True))
    lines = context_lines(the_plan)
    assert ("app/geo.py", 7, '    resp = requests.get("https://geo.example/v1/" + ip, timeout=3)') in lines
    everything = lines_shown(the_plan.requests[0].messages)
    assert ("app/api.py", 6) in everything  # the enclosing function's signature, from the diff or the context
    assert not any(p == "app/api.py" and n >= 10 for p, n, _ in lines)  # unrelated code stays out


def test_callers_of_a_changed_function_are_included(repo):
    repo.commit_files({
        "app/accounts.py": "def deactivate(user_id):\n    rows = db.update(user_id)\n    if not rows:\n"
                           "        raise NotFound(user_id)\n",
        "app/admin.py": "from app.accounts import deactivate\n\n\ndef ban(user_id):\n    deactivate(user_id)\n"
                        "    return {'banned': user_id}\n",
    }, "base")
    repo.write("app/accounts.py", "def deactivate(user_id):\n    rows = db.update(user_id)\n    return rows > 0\n")
    repo.add("app/accounts.py")
    lines = context_lines(plan_for(repo.path, DiffSpec(staged=True)))
    assert ("app/admin.py", 5, "    deactivate(user_id)") in lines


def test_javascript_typescript_and_go_definitions_through_imports(tmp_path):
    corpus = bundled_corpus_dir()
    for name, (path, line) in {
        "ctx-ts-blocking-hash-helper": ("src/auth/hash.ts", 10),
        "ctx-js-query-helper-interpolates": ("src/db/users.js", 4),
        "ctx-go-retry-non-idempotent-charge": ("internal/payments/charge.go", 18),
    }.items():
        repo = materialize_case(load_case(corpus / name), tmp_path)
        shown = {(p, n) for p, n, _ in context_lines(plan_for(repo, DiffSpec(staged=True)))}
        assert (path, line) in shown, name


def test_plain_text_fallback_shows_lines_around_the_change(repo):
    body = "".join(f"line {i}\n" for i in range(1, 41))
    repo.commit_files({"notes.txt": body}, "base")
    repo.write("notes.txt", body.replace("line 20\n", "line twenty\n"))
    repo.add("notes.txt")
    shown = {(p, n) for p, n, _ in context_lines(plan_for(repo.path, DiffSpec(staged=True)))}
    assert ("notes.txt", 10) in shown and ("notes.txt", 30) in shown
    assert ("notes.txt", 5) not in shown


# -- from the reviewed revision only ----------------------------------------------------------------------------------


def _assert_lines_from(lines, read) -> None:
    assert lines
    for path, n, text in lines:
        assert read(path).splitlines()[n - 1] == text, (path, n)


def test_staged_review_reads_the_index_not_the_work_tree(repo):
    stage_signup_change(repo)
    # The work tree now differs from the index in both files; the staged review must not see it.
    repo.write("app/geo.py", HELPER.replace("requests.get(", "WORKTREE_ONLY(").replace("timeout=3", "timeout=9"))
    repo.write("app/api.py", "# WORKTREE_ONLY\n" + repo.read("app/api.py"))
    the_plan = plan_for(repo.path, DiffSpec(staged=True))
    lines = context_lines(the_plan)
    assert "WORKTREE_ONLY" not in context_section(the_plan)
    _assert_lines_from(lines, lambda p: repo.git("show", f":{p}"))


def test_range_review_reads_the_right_hand_commit(repo):
    stage_signup_change(repo)
    first = repo.commit("base plus change")
    repo.write("app/geo.py", HELPER.replace("timeout=3", "timeout=LATER"))
    repo.commit("later", all=True)
    repo.write("app/geo.py", HELPER.replace("timeout=3", "timeout=WORKTREE"))
    the_plan = plan_for(repo.path, DiffSpec(revisions=(f"{first}~1..{first}",)))
    section = context_section(the_plan)
    assert "timeout=3" in section and "LATER" not in section and "WORKTREE" not in section
    _assert_lines_from(context_lines(the_plan), lambda p: repo.git("show", f"{first}:{p}"))


def test_a_symlinked_module_is_never_followed(repo, tmp_path):
    outside = tmp_path / "outside.py"
    outside.write_text("def lookup_country(ip):\n    return OUTSIDE_SECRET\n")
    repo.commit_files({"app/api.py": API}, "base")
    repo.symlink("app/geo.py", str(outside))
    repo.add("app/geo.py")
    repo.commit("link")
    repo.write("app/api.py", API.replace('    return {"ok": True}\n', '    return lookup_country(request.ip)\n'))
    repo.add("app/api.py")
    for spec in (DiffSpec(staged=True), DiffSpec()):
        assert "OUTSIDE_SECRET" not in context_section(plan_for(repo.path, spec))


def test_context_is_redacted_and_sensitive_files_stay_out(repo):
    key = "AKIA" + "Q3EGRIN4TCS7JXZP"
    repo.commit_files({
        "app/settings.py": f'AWS_KEY = "{key}"\n\n\ndef client():\n    return make_client(AWS_KEY)\n',
        ".env": "API_TOKEN=hunter2-very-secret\n",
        "app/api.py": "from app.settings import client\n\n\ndef handler():\n    return 1\n",
    }, "base")
    repo.write("app/api.py", "from app.settings import client\n\n\ndef handler():\n    return client().get()\n")
    repo.add("app/api.py")
    section = context_section(plan_for(repo.path, DiffSpec(staged=True)))
    assert "def client():" in section
    assert key not in section
    assert "hunter2" not in section


# -- budget, ranking, deduplication ------------------------------------------------------------------------------------


def test_budget_bounds_the_context_and_zero_turns_it_off(repo):
    stage_signup_change(repo)
    full = plan_for(repo.path, DiffSpec(staged=True))
    assert context_section(full)
    assert not context_section(plan_for(repo.path, DiffSpec(staged=True), context_budget=0.0))
    from reviewbot.pipeline.tokens import estimate_tokens

    small = plan_for(repo.path, DiffSpec(staged=True), context_budget=0.004)  # 64 of 16,000 tokens
    assert estimate_tokens(context_section(small)) <= 64 + 20  # the fence's own words
    # The most direct dependency is kept first: the enclosing function ranks before the imported helper.
    assert len(context_section(small)) < len(context_section(full))


def test_definitions_are_sent_once_across_chunks(repo):
    helper = "def shared_helper(x):\n" + "".join(f"    x = x + {i}\n" for i in range(10)) + "    return x\n"
    files = {"lib/util.py": helper}
    for i in range(3):
        files[f"pkg{i}/mod.py"] = "from lib.util import shared_helper\n\n\ndef f():\n    return 0\n"
    repo.commit_files(files, "base")
    for i in range(3):
        repo.write(f"pkg{i}/mod.py", "from lib.util import shared_helper\n\n\ndef f():\n    return shared_helper(1)\n"
                   + "".join(f"# padding {i} {j} " + " ".join(f"w{k}" for k in range(60)) + "\n" for j in range(8)))
        repo.add(f"pkg{i}/mod.py")
    the_plan = plan_for(repo.path, DiffSpec(staged=True), max_request_tokens=6000, max_answer_tokens=1000)
    assert len(the_plan.requests) >= 2
    text = "\n".join(m["content"] for r in the_plan.requests for m in r.messages)
    assert text.count("def shared_helper(x):") == 1


# -- evidence recall on the bundled corpus -----------------------------------------------------------------------------


def test_evidence_recall_and_token_ratio_on_the_bundled_cases():
    from reviewbot.evaluation import evidence

    cases = [c for c in load_cases(bundled_corpus_dir()) if c.evidence]
    assert len(cases) >= 12
    rows = evidence.measure(cases, {"model": "m"}, [])
    totals = evidence.totals(rows)
    assert totals["errors"] == 0
    assert totals["recall_on"] >= 0.9, evidence.render_text(rows)
    assert totals["recall_off"] < totals["recall_on"]
    assert totals["token_ratio_evidence_cases"] <= 1.5, evidence.render_text(rows)


def test_eval_dry_run_reports_recall(run_cli, tmp_path):
    corpus = tmp_path / "corpus"
    import shutil

    shutil.copytree(bundled_corpus_dir() / "ctx-query-helper-interpolates", corpus / "ctx-query-helper-interpolates")
    result = run_cli("eval", str(corpus), "--dry-run", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["overall"]["recall_off"] == 0.0 and data["overall"]["recall_on"] == 1.0
    text = run_cli("eval", str(corpus), "--dry-run")
    assert "overall: recall 0.0% off -> 100.0% on" in text.stdout


def test_invalid_evidence_is_a_configuration_error(tmp_path):
    import shutil

    case = tmp_path / "case"
    shutil.copytree(bundled_corpus_dir() / "ctx-query-helper-interpolates", case)
    data = json.loads((case / "expected.json").read_text())
    data["evidence"] = [{"path": "app/queries.py", "lines": [5, 2]}]
    (case / "expected.json").write_text(json.dumps(data))
    from reviewbot.core.errors import ConfigError

    with pytest.raises(ConfigError, match="evidence 1"):
        load_case(case)


def test_findings_on_context_lines_are_dropped_as_before(repo, model_server, run_cli):
    stage_signup_change(repo)
    on_context = {"path": "app/geo.py", "line": 7, "end_line": None, "severity": "error", "category": "async",
                  "message": "requests.get blocks.", "suggestion": None,
                  "quote": '    resp = requests.get("https://geo.example/v1/" + ip, timeout=3)', "confidence": 0.9}
    on_change = {**on_context, "path": "app/api.py", "line": 7, "quote": "    country = lookup_country(request.ip)"}
    model_server.answer_findings([on_context, on_change])
    result = run_cli("diff", "--staged", "--no-cache", "--format", "json")
    assert result.exit_code == 1, result.stderr
    assert "def lookup_country(ip):" in model_server.prompt_text(0)
    shown = [(f["path"], f["line"]) for f in json.loads(result.stdout)["findings"]]
    assert shown == [("app/api.py", 7)]


def test_ci_reads_the_head_under_review_not_the_checkout(repo, run_cli):
    repo.commit_files({"app/geo.py": HELPER, "app/api.py": API}, "base")
    repo.branch("feature")
    repo.write("app/geo.py", HELPER.replace("timeout=3", "timeout=ON_MAIN"))
    repo.commit("main moves on", all=True)  # the checkout (main) is not what is reviewed
    repo.checkout("feature")
    repo.write("app/api.py", API.replace('    return {"ok": True}\n', '    return lookup_country(request.ip)\n'))
    repo.commit("feature", all=True)
    repo.checkout("main")
    result = run_cli("ci", "--base", "main", "--head", "feature", "--dry-run", "--no-cache", "-m", "m")
    assert result.exit_code == 0, result.stderr
    context = result.stdout.split("# Context from the repository", 1)[1]
    assert "timeout=3" in context and "ON_MAIN" not in context


def test_hostile_sources_do_not_break_the_plan(repo):
    deep = "x = " + "(" * 5000 + "1" + ")" * 5000 + "\n"
    repo.commit_files({"app/deep.py": deep, "app/nul.py": "def f():\n    return 1\x00\n",
                       "app/min.js": "var a=" + "[" * 3000 + "]" * 3000 + ";\n",
                       "app/api.py": ("from app.deep import x\nfrom app.nul import f\n\n\n"
                                      "def g():\n    return 0\n")}, "base")
    repo.write("app/api.py", "from app.deep import x\nfrom app.nul import f\n\n\ndef g():\n    return f() + x\n")
    repo.write("app/min.js", "var a=" + "[" * 3000 + "]" * 3000 + ";\nvar b=1;\n")
    repo.add("app/api.py", "app/min.js")
    the_plan = plan_for(repo.path, DiffSpec(staged=True))  # no SystemError, RecursionError or ValueError
    assert [r.chunk.paths for r in the_plan.requests] == [("app/api.py",)]
    assert "(((" not in context_section(the_plan)


def test_the_plan_cache_sees_changes_outside_the_diff(repo):
    repo.commit_files({"app/geo.py": HELPER, "app/api.py": API}, "base")
    repo.write("app/api.py", API.replace('    return {"ok": True}\n', '    return lookup_country(request.ip)\n'))
    spec = DiffSpec(paths=("app/api.py",))  # the work tree, this file only
    first = plan_for(repo.path, spec, cache=True)
    assert "timeout=3" in context_section(first)
    assert plan_for(repo.path, spec, cache=True).requests == first.requests
    repo.write("app/geo.py", HELPER.replace("timeout=3", "timeout=30"))  # not in the diff, but in the context
    assert "timeout=30" in context_section(plan_for(repo.path, spec, cache=True))


def test_context_never_takes_a_request_past_its_budget(repo):
    from reviewbot.pipeline.tokens import estimate_tokens

    helpers = "".join(f"def helper_{i}(value):\n" + "".join(f"    value = value + {j}  # step {j} of helper {i}\n"
                                                            for j in range(8)) + "    return value\n\n\n"
                      for i in range(40))
    repo.commit_files({"app/helpers.py": helpers}, "helpers")
    big = "from app.helpers import " + ", ".join(f"helper_{i}" for i in range(40)) + "\n\n\n" + "".join(
        f"def use_{i}(x):\n    y = helper_{i % 40}(x)\n    return y * {i}\n\n\n" for i in range(150))
    repo.write("app/big.py", big)
    repo.add("app/big.py")
    the_plan = plan_for(repo.path, DiffSpec(staged=True), max_request_tokens=3000, max_answer_tokens=500)
    sizes = [sum(estimate_tokens(m["content"]) for m in r.messages) + r.answer_tokens for r in the_plan.requests]
    assert len(sizes) > 3 and max(sizes) <= 3000, sizes
    assert any("# Context from the repository" in r.messages[-1]["content"] for r in the_plan.requests)
