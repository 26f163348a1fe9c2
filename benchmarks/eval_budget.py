"""Does the derived request budget change what the eval corpus measures? (issue 15, "measure both ways")

Runs the bundled eval corpus (`reviewbot eval`) against the loopback scripted server twice: once with the old
fixed 16,000-token budget and once with the budget reviewbot now derives for a model with a known 128k window
(32,000 tokens), and compares the request messages. Identical messages mean identical eval scores for any model:
the larger budget only changes diffs whose diff text exceeds ~11,000 tokens, and each corpus case is smaller.

    .venv/bin/python benchmarks/eval_budget.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers.model_server import ModelServer  # noqa: E402


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="reviewbot-eval-budget-") as home:
        drop = ("OPENAI_", "REVIEWBOT_", "XDG_", "GIT_")
        env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
        env.update(PYTHONPATH=str(ROOT), OPENAI_API_KEY="sk-bench", HOME=home, XDG_CACHE_HOME=f"{home}/cache",
                   XDG_CONFIG_HOME=f"{home}/config")
        runs = {}
        for label, extra in (("16,000 tokens (the old fixed default)", {"REVIEWBOT_MAX_REQUEST_TOKENS": "16000"}),
                             ("32,000 tokens (derived for gpt-4o-mini)", {})):
            with ModelServer() as server:
                out = subprocess.run(
                    [sys.executable, "-m", "reviewbot", "eval", "--model", "gpt-4o-mini", "--format", "json"],
                    env={**env, "OPENAI_BASE_URL": server.url, **extra}, capture_output=True, text=True, cwd=home)
                runs[label] = sorted(json.dumps(b["messages"]) for b in server.requests)
                print(f"budget {label}: exit {out.returncode}, {len(server.requests)} requests")
        same = len(set(map(tuple, runs.values()))) == 1
        print(f"identical request messages in both runs: {same}")
        return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
