"""The first ten minutes, timed: what a newcomer and a teammate wait for (issue 13).

Each row is a real `python -m reviewbot ...` subprocess in a real git repository with one staged file, in an
isolated HOME, against the loopback model server (or a loopback port where nothing listens). Printed figures are the
median wall time of --runs runs (default 5) and the requests the server received. Not part of the unit tests.

    .venv/bin/python benchmarks/first_run.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers import ModelServer  # noqa: E402

SCRUB = ("OPENAI_", "REVIEWBOT_", "GIT_", "PRE_COMMIT", "XDG_", "NO_COLOR")


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def make_repo(base: Path) -> Path:
    repo = base / "repo"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.name=Bench", "-c", "user.email=bench@example.com"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    (repo / "app.py").write_text("def total(prices):\n    return sum(prices)\n")
    subprocess.run([*git, "add", "app.py"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "first"], check=True)
    (repo / "app.py").write_text("def total(prices):\n    # the sum of all prices\n    return sum(prices)\n")
    subprocess.run([*git, "add", "app.py"], check=True)
    return repo


def run(repo: Path, home: Path, args: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith(SCRUB)}
    full.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_CACHE_HOME=str(home / ".cache"),
                PYTHONPATH=str(ROOT), PYTHONPYCACHEPREFIX=str(home / "pycache"), **env)
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "reviewbot", *args], cwd=repo, env=full, capture_output=True,
                          text=True, timeout=300)
    return time.perf_counter() - started, proc.returncode, (proc.stderr.strip().splitlines() or [""])[-1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="reviewbot-first-run-") as tmp, ModelServer() as server:
        base = Path(tmp)
        repo = make_repo(base)
        home = base / "home"
        home.mkdir()
        up = {"OPENAI_BASE_URL": server.url, "OPENAI_API_KEY": "sk-bench", "REVIEWBOT_MODEL": "test-model"}
        rows = [
            ("doctor, all good", ["doctor"], up),
            ("doctor, nothing listening", ["doctor"], {**up, "OPENAI_BASE_URL": closed_port_url()}),
            ("hook, no model configured", ["hook", "app.py"], {}),
            ("hook, nothing listening (default retries)", ["hook", "app.py", "--no-cache"],
             {**up, "OPENAI_BASE_URL": closed_port_url()}),
            ("hook, model answers", ["hook", "app.py", "--no-cache"], up),
        ]
        run(repo, home, ["--version"], {})  # warm the bytecode cache
        print(f"{'row':<45} {'median s':>9} {'min s':>7} {'exit':>5} {'requests':>9}  last stderr line")
        for label, argv, env in rows:
            before = server.request_count
            times, code, last = [], 0, ""
            for _ in range(args.runs):
                took, code, last = run(repo, home, argv, env)
                times.append(took)
            requests = (server.request_count - before) / args.runs
            print(f"{label:<45} {statistics.median(times):>9.2f} {min(times):>7.2f} {code:>5} {requests:>9.1f}  "
                  f"{last[:90]}")


if __name__ == "__main__":
    main()
