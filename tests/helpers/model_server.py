"""An OpenAI-compatible Chat Completions server on loopback, for tests and benchmarks.

Tests talk to it through the real `openai` client over real HTTP: point `base_url` (or `OPENAI_BASE_URL`) at
`server.url`. Answers are scripted in a queue (`answer`, `fail`, `stall`, `drop_connection`, `malformed`); when the
queue is empty the server asks `default` (a function of the request body) or answers a clean `{"findings": []}`.
Every request body and its headers are recorded in order.

Like a real server it can also limit how many requests it works on at once (`max_concurrent`: 429 beyond, with
`busy_retry_after` as Retry-After) and report a prompt cache (`cache_prompts`: usage.prompt_tokens_details.
cached_tokens counts the longest prefix a request's prompt shares with any earlier one, at 4 characters a token).

Run it by hand for a benchmark:  python -m tests.helpers.model_server --latency 1 --port 8765
"""

from __future__ import annotations

import argparse
import collections
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CLEAN_ANSWER: dict[str, Any] = {"findings": []}


# --- scripted replies ----------------------------------------------------------------------------------------------
# `default` may return one of these (or plain content) to route failures by request content.


@dataclass(frozen=True)
class Answer:
    """A 200 chat completion whose message content is `content` (a dict is sent as its JSON text)."""

    content: str | dict | list | None
    usage: tuple[int, int] | None = (100, 20)
    status: int = 200
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    finish_reason: str = "stop"
    tool_calls: tuple[tuple[str, dict | str], ...] = ()  # (function name, arguments) the answer asks to call


@dataclass(frozen=True)
class Fail:
    """An HTTP error with an OpenAI-style error body (or the given body)."""

    status: int
    body: dict | str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Stall:
    """Wait `seconds` before answering `then` (the client should have timed out by then)."""

    seconds: float
    then: Answer | None = None


@dataclass(frozen=True)
class Drop:
    """Close the connection without sending anything."""


@dataclass(frozen=True)
class Malformed:
    """A 200 whose body is `raw`, not a valid chat completion."""

    raw: str
    content_type: str = "application/json"


Reply = Answer | Fail | Stall | Drop | Malformed
DefaultFn = Callable[[dict], "str | dict | list | None | Reply"]


def error_body(status: int, message: str | None = None) -> dict:
    """The JSON shape OpenAI uses for errors, so the SDK builds its usual exception message."""
    kinds = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error",
             429: "rate_limit_exceeded", 500: "server_error", 503: "server_error"}
    return {"error": {"message": message or f"scripted error {status}", "type": kinds.get(status, "api_error"),
                      "param": None, "code": None}}


# --- the server ----------------------------------------------------------------------------------------------------


class ModelServer:
    """A loopback Chat Completions endpoint with a thread-safe queue of scripted replies.

    Attributes tests read or set:
      url       "http://127.0.0.1:PORT/v1", the base_url to give the client
      requests  JSON bodies of every POST .../chat/completions, in arrival order
      headers   the matching request headers, keys lower-cased (e.g. headers[0]["authorization"])
      paths     the matching request paths (with query string)
      default   None, or fn(request_body) -> content or Reply, used when the queue is empty
      latency   seconds added before every answer (benchmarks)
      models    ids listed by GET /v1/models
      models_status  HTTP status of GET /v1/models (200; e.g. 404 for a server that lists no models, 401)
      errors    exceptions raised by `default` (answered as a 500; the pytest fixture fails the test on them)
      max_concurrent    None, or how many chat requests it works on at once; beyond that it answers 429 at once
      busy_retry_after  the Retry-After header (seconds, as text) of those 429s, or None for none
      busy_rejections   how many requests were turned away that way
      peak_in_flight    most chat requests it worked on at once (turned-away ones not counted)
      cache_prompts     report cached prompt tokens (and prompt_tokens from the prompt's length) in usage
      cached_tokens     the cached token counts reported, one per answered request, in answer order
    """

    def __init__(self, *, port: int = 0, latency: float = 0.0, default: DefaultFn | None = None) -> None:
        self.requests: list[dict] = []
        self.headers: list[dict[str, str]] = []
        self.paths: list[str] = []
        self.errors: list[str] = []
        self.default: DefaultFn | None = default
        self.latency = latency
        self.models: list[str] = ["test-model"]
        self.models_status = 200
        self._queue: collections.deque[Reply] = collections.deque()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._reject_response_format = False
        self._reject_tools = False
        self._counter = 0
        self.max_concurrent: int | None = None
        self.busy_retry_after: str | None = None
        self.busy_rejections = 0
        self.peak_in_flight = 0
        self._in_flight = 0
        self.cache_prompts = False
        self.cached_tokens: list[int] = []
        self._seen_prompts: list[str] = []
        self._httpd = _Server(("127.0.0.1", port), _Handler)
        self._httpd.owner = self
        self.port: int = self._httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"model-server-{self.port}", daemon=True)
        self._thread.start()

    # scripting ----------------------------------------------------------------------------------------------------

    def answer(self, content: str | dict | list | None, *, usage: tuple[int, int] | None = (100, 20),
               status: int = 200, delay: float = 0.0, headers: dict[str, str] | None = None,
               finish_reason: str = "stop") -> None:
        """Queue one chat completion. A dict/list is json.dumps'ed into message.content; None sends null content."""
        self._push(Answer(content, usage, status, delay, dict(headers or {}), finish_reason))

    def answer_findings(self, findings: list[dict], summary: str = "", **kw: Any) -> None:
        """Queue an answer in reviewbot's contract: {"findings": [...], "summary": "..."}."""
        self.answer({"findings": findings, "summary": summary}, **kw)

    def fail(self, status: int, body: dict | str | None = None, headers: dict[str, str] | None = None, *,
             times: int = 1) -> None:
        """Queue `times` HTTP errors, e.g. fail(429, headers={"Retry-After": "0"}) or fail(500)."""
        self._push(Fail(status, body, dict(headers or {})), times)

    def stall(self, seconds: float, then: str | dict | None = None, *, times: int = 1) -> None:
        """Queue a reply that waits `seconds` before answering (`then`, or the default answer)."""
        self._push(Stall(seconds, None if then is None else Answer(then)), times)

    def drop_connection(self, *, times: int = 1) -> None:
        """Queue a reply that closes the socket without a response. The SDK retries these, hence `times`."""
        self._push(Drop(), times)

    def malformed(self, raw: str, *, times: int = 1, content_type: str = "application/json") -> None:
        """Queue a 200 whose body is `raw` (not a chat completion, usually not JSON)."""
        self._push(Malformed(raw, content_type), times)

    def call_tools(self, *calls: tuple[str, dict | str], times: int = 1) -> None:
        """Queue an answer that asks to call tools, e.g. call_tools(("read_file", {"path": "a.py"})); a str
        argument is sent as it is (for malformed JSON)."""
        self._push(Answer(None, finish_reason="tool_calls", tool_calls=tuple(calls)), times)

    def reject_tools(self, reject: bool = True) -> None:
        """Answer 400 to every request carrying `tools`, like servers without tool support."""
        self._reject_tools = reject

    def reject_response_format(self, reject: bool = True) -> None:
        """Answer 400 to every request carrying `response_format`, like servers without json_schema support."""
        self._reject_response_format = reject

    def _push(self, reply: Reply, times: int = 1) -> None:
        with self._lock:
            self._queue.extend([reply] * times)

    # inspection ---------------------------------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        """Scripted replies not used yet."""
        with self._lock:
            return len(self._queue)

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self.requests)

    def prompt_text(self, index: int = -1) -> str:
        """All message contents of one recorded request joined by newlines (for `in` checks)."""
        return "\n".join(_message_text(m) for m in self.requests[index].get("messages", []))

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.request_count >= count:
                return True
            time.sleep(0.01)
        return self.request_count >= count

    # lifecycle ----------------------------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop serving; stalled handlers wake up and give up."""
        if self._closing.is_set():
            return
        self._closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ModelServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ModelServer({self.url}, requests={len(self.requests)}, pending={self.pending})"

    # used by the handler ------------------------------------------------------------------------------------------

    def _record(self, path: str, headers: dict[str, str], body: dict) -> None:
        with self._lock:
            self.requests.append(body)
            self.headers.append(headers)
            self.paths.append(path)

    def _enter(self) -> bool:
        """Take a working slot; False when `max_concurrent` are already taken (the caller answers 429)."""
        with self._lock:
            if self.max_concurrent is not None and self._in_flight >= self.max_concurrent:
                self.busy_rejections += 1
                return False
            self._in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self._in_flight)
            return True

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _prompt_usage(self, body: dict) -> tuple[int, int]:
        """(prompt tokens, cached prompt tokens) for a caching server: the longest prefix shared with any earlier
        prompt is read from the cache. The prompt is the messages as a chat template lays them out."""
        prompt = "".join(f"<|{m.get('role')}|>{_message_text(m)}" for m in body.get("messages", []))
        with self._lock:
            shared = max((_common_prefix(prompt, seen) for seen in self._seen_prompts), default=0)
            self._seen_prompts.append(prompt)
        return max(1, len(prompt) // 4), shared // 4

    def _next_reply(self, body: dict) -> Reply:
        if self._reject_tools and "tools" in body:
            return Fail(400, error_body(400, "tools are not supported by this server"))
        if self._reject_response_format and "response_format" in body:
            return Fail(400, error_body(400, "response_format json_schema is not supported by this server"))
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        if self.default is None:
            return Answer(CLEAN_ANSWER)
        try:
            produced = self.default(body)
        except Exception as err:  # a bug in the test's routing function: make it visible, not a silent drop
            with self._lock:
                self.errors.append(f"{type(err).__name__}: {err}")
            return Fail(500, error_body(500, f"the test's default() raised {type(err).__name__}: {err}"),
                        {"x-should-retry": "false"})
        if isinstance(produced, (Answer, Fail, Stall, Drop, Malformed)):
            return produced
        return Answer(produced)

    def _completion(self, answer: Answer, body: dict) -> dict:
        with self._lock:
            self._counter += 1
            number = self._counter
        content = answer.content
        if isinstance(content, (dict, list)):
            content = json.dumps(content)
        completion: dict[str, Any] = {
            "id": f"chatcmpl-test{number:06d}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "unknown"),
            "system_fingerprint": "fp_test",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "refusal": None},
                         "logprobs": None, "finish_reason": answer.finish_reason}],
        }
        if answer.tool_calls:
            completion["choices"][0]["message"]["tool_calls"] = [
                {"id": f"call_{number}_{i}", "type": "function",
                 "function": {"name": name, "arguments": args if isinstance(args, str) else json.dumps(args)}}
                for i, (name, args) in enumerate(answer.tool_calls)]
        if answer.usage is not None:
            prompt, completion_tokens = answer.usage
            completion["usage"] = {"prompt_tokens": prompt, "completion_tokens": completion_tokens,
                                   "total_tokens": prompt + completion_tokens}
            if self.cache_prompts:
                prompt, cached = self._prompt_usage(body)
                with self._lock:
                    self.cached_tokens.append(cached)
                completion["usage"].update(prompt_tokens=prompt, total_tokens=prompt + completion_tokens,
                                           prompt_tokens_details={"cached_tokens": cached})
        return completion

    def _sleep(self, seconds: float) -> bool:
        """Sleep unless the server is closing; True when the sleep was cut short."""
        return seconds > 0 and self._closing.wait(seconds)


def _common_prefix(a: str, b: str) -> int:
    """Length of the longest common prefix of a and b."""
    n = min(len(a), len(b))
    lo, hi = 0, n
    while lo < hi:  # binary search on slices: C-speed comparisons for long prompts
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _message_text(message: dict) -> str:
    content = message.get("content")
    if isinstance(content, list):  # content parts
        return "\n".join(part.get("text", "") for part in content if isinstance(part, dict))
    return content or ""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: ModelServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out leave broken pipes behind; that is expected here, not worth a traceback.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like real servers (the SDK pools connections)
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        route = self.path.split("?", 1)[0].rstrip("/")
        if route.endswith("/models") and self.server.owner.models_status != 200:
            status = self.server.owner.models_status
            self._send_json(status, error_body(status))
        elif route.endswith("/models"):
            owner = self.server.owner
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "reviewbot-tests"} for m in owner.models]
            self._send_json(200, {"object": "list", "data": data})
        else:
            self._send_json(404, error_body(404, f"no route for GET {route}"))

    def do_POST(self) -> None:
        owner = self.server.owner
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        route = self.path.split("?", 1)[0].rstrip("/")
        if not route.endswith("/chat/completions"):
            self._send_json(404, error_body(404, f"no route for POST {route}"))
            return
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self._send_json(400, error_body(400, "request body is not JSON"))
            return
        owner._record(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        if not owner._enter():
            headers = {"Retry-After": owner.busy_retry_after} if owner.busy_retry_after is not None else {}
            self._send_json(429, error_body(429, "too many requests in flight"), headers)
            return
        try:
            self._reply(owner._next_reply(body), body)
        finally:
            owner._leave()

    def _reply(self, reply: Reply, body: dict) -> None:
        owner = self.server.owner
        if isinstance(reply, Stall):
            if owner._sleep(reply.seconds):
                self._drop()
                return
            reply = reply.then or Answer(CLEAN_ANSWER)
        if isinstance(reply, Drop):
            self._drop()
            return
        if owner._sleep(owner.latency + getattr(reply, "delay", 0.0)):
            self._drop()
            return
        if isinstance(reply, Fail):
            payload = reply.body if reply.body is not None else error_body(reply.status)
            if isinstance(payload, str):
                self._send(reply.status, payload.encode(), "text/plain; charset=utf-8", reply.headers)
            else:
                self._send_json(reply.status, payload, reply.headers)
        elif isinstance(reply, Malformed):
            self._send(200, reply.raw.encode(), reply.content_type, {})
        elif body.get("stream"):
            self._send_stream(owner._completion(reply, body), reply.headers)
        else:
            self._send_json(reply.status, owner._completion(reply, body), reply.headers)

    def _send_stream(self, completion: dict, headers: dict[str, str]) -> None:
        """The same answer as server-sent events, for clients that ask for stream=True."""
        choice = completion["choices"][0]
        base = {k: completion[k] for k in ("id", "created", "model", "system_fingerprint")}
        base["object"] = "chat.completion.chunk"
        chunks = [
            {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": choice["message"]["content"]},
                                  "finish_reason": None}]},
            {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": choice["finish_reason"]}],
             **({"usage": completion["usage"]} if "usage" in completion else {})},
        ]
        events = "".join(f"data: {json.dumps(chunk)}\n\n" for chunk in chunks) + "data: [DONE]\n\n"
        self._send(200, events.encode(), "text/event-stream", headers)

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json", headers or {})

    def _send(self, status: int, data: bytes, content_type: str, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve an OpenAI-compatible stub on 127.0.0.1 until interrupted.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds to wait before every answer")
    parser.add_argument("--answer", default=None, help="JSON content to answer every request with")
    parser.add_argument("--max-concurrent", type=int, default=None, help="answer 429 beyond this many at once")
    parser.add_argument("--cache-prompts", action="store_true", help="report cached prompt tokens in usage")
    args = parser.parse_args(argv)
    fixed = json.loads(args.answer) if args.answer else None
    server = ModelServer(port=args.port, latency=args.latency,
                         default=(lambda body: fixed) if fixed is not None else None)
    server.max_concurrent = args.max_concurrent
    server.cache_prompts = args.cache_prompts
    print(server.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        print(f"served {len(server.requests)} requests", flush=True)


if __name__ == "__main__":
    main()
