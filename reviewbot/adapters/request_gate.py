"""Flow control for one run's model requests: how many are in flight, and when to stop sending.

Adaptive concurrency. Real models answer in seconds to a minute, so what a user waits for is the number of
waves, not the number of requests: the run starts with PROBE_WINDOW requests in flight, and once the first answer
shows the endpoint works it opens up to the cap (`concurrency`, 16 by default), so a large diff takes one or two
waves. A server that is overloaded (HTTP 429 or 503) or failing (5xx, timeouts, connection errors) halves the limit
(multiplicative decrease, at most once per round of requests: answers to requests sent before the last decrease do not
count again) and pauses new requests for as long as its Retry-After asks; every full window of answers after that adds
one (additive increase), up to the cap. Starting below the cap is what keeps a failing endpoint from receiving a whole
wave: see below. A request turned away while others were in flight waits for its turn without using up its retries; one
turned away while it was alone is failing like any other.

Circuit breaker. Failures of the same kind in a row across requests (BREAKER_AFTER of them: server errors 5xx,
connection failures, rejected credentials) mean the endpoint is down, not one request unlucky: the breaker opens
and every request not yet sent fails at once with the reason, so the run reports what was not reviewed within
seconds instead of retrying each request in turn. A refused connection (nothing listens on the port) opens it at
the first failure. Congestion (429/503) counts towards the breaker only for a request that was alone in flight.

A local server that is not running (the usual case for a pre-commit hook against llama.cpp or Ollama) is found
before the model client is even imported (~0.5 s): `refused_locally` tries a TCP connection to a loopback endpoint
first, which takes a fraction of a millisecond; remote endpoints are not probed (that would cost a round trip).

Counting. Every attempt that goes on the wire is counted here, failed ones included, so the summary's
"N requests (M failed)" is what the server saw.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from reviewbot.core.errors import ModelError
from reviewbot.core.models import RequestFlow

PROBE_WINDOW = 8  # requests in flight before the first answer; above BREAKER_AFTER so one slow request does not stall
BREAKER_AFTER = 5  # consecutive failures of one kind that stop the run
MAX_PAUSE = 30.0  # longest Retry-After pause applied to the whole run


@dataclass(frozen=True, slots=True)
class Ticket:
    """One attempt's place in the flow: when it was sent (to tell old congestion news from new) and how many
    attempts were in flight with it, itself included."""

    sent_at: float
    crowd: int = 1


class RequestGate:
    """Shared by every request of a run (thread-safe). Use `with gate.attempt() as ticket:` around each HTTP call,
    then report its outcome with `succeeded`, `congested` or `failed`."""

    def __init__(self, cap: int, *, probe: int = PROBE_WINDOW, breaker_after: int = BREAKER_AFTER,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.cap = max(1, cap)
        self._limit = min(self.cap, max(1, probe))
        self._probing = True  # until the first answer (or the first congestion)
        self._breaker_after = max(1, breaker_after)
        self._clock = clock
        self._cond = threading.Condition()
        self._in_flight = 0
        self._answered = 0  # answers since the limit last changed
        self._paused_until = 0.0
        self._last_decrease = float("-inf")
        self._streak_kind: str | None = None
        self._streak = 0
        self._open: str | None = None
        self._sent = self._failed = self._peak = self._lowest = self._backoffs = 0

    # -- sending --------------------------------------------------------------------------------------------------

    def acquire(self) -> Ticket:
        """Wait for a free slot (and the end of any pause); ModelError when the breaker is open."""
        with self._cond:
            while True:
                if self._open:
                    raise ModelError(self._open)
                now = self._clock()
                if now < self._paused_until:
                    self._cond.wait(self._paused_until - now)
                    continue
                if self._in_flight < self._limit:
                    break
                self._cond.wait(0.5)
            self._in_flight += 1
            self._sent += 1
            self._peak = max(self._peak, self._in_flight)
            return Ticket(sent_at=now, crowd=self._in_flight)

    def _release(self) -> None:
        self._in_flight -= 1
        self._cond.notify_all()

    # -- outcomes -------------------------------------------------------------------------------------------------

    def succeeded(self, ticket: Ticket) -> None:
        with self._cond:
            self._release()
            self._streak_kind, self._streak = None, 0
            if self._probing:
                self._probing = False
                self._limit = self.cap
            elif self._limit < self.cap:
                self._answered += 1
                if self._answered >= self._limit:  # a whole window answered: one more at once
                    self._answered = 0
                    self._limit += 1

    def congested(self, ticket: Ticket, why: str, retry_after: float | None = None) -> bool:
        """The server is overloaded (429/503): fewer in flight, and a pause if it asked for one.

        True when the attempt shared the server with others, so sending fewer at once is the cure and the
        request should wait its turn rather than use up its retries; False when it was alone, which the circuit
        breaker counts like any other failure."""
        with self._cond:
            crowded = ticket.crowd > 1 or self._in_flight > 1  # others in flight when it was sent or turned away
            self._release()
            self._failed += 1
            self._probing = False
            if retry_after:
                self._paused_until = max(self._paused_until, self._clock() + min(retry_after, MAX_PAUSE))
            self._decrease(ticket)
            if not crowded:
                self._count_failure(why, f"the server answered {why} (busy)")
            self._cond.notify_all()
            return crowded

    def failed(self, ticket: Ticket, kind: str | None, message: str, *, at_once: bool = False) -> None:
        """An attempt that got no answer. `kind` names failures the breaker counts (e.g. "HTTP 500",
        "connection", "auth"); None for one that says nothing about the endpoint (a rejected request).
        `at_once` opens the breaker now (a refused connection: nothing is listening)."""
        with self._cond:
            self._release()
            self._failed += 1
            if kind is None:
                return
            self._probing = False
            if at_once:
                self._trip(message)
            else:
                self._decrease(ticket)  # an endpoint in trouble gets fewer requests at once, until the breaker decides
                self._count_failure(kind, message)

    def _decrease(self, ticket: Ticket) -> None:
        """Multiplicative decrease, once per round: news about an attempt sent before the last cut is old."""
        if ticket.sent_at >= self._last_decrease and self._limit > 1:
            self._limit = max(1, self._limit // 2)
            self._lowest = self._limit if not self._lowest else min(self._lowest, self._limit)
            self._backoffs += 1
            self._answered = 0
            self._last_decrease = self._clock()

    def _count_failure(self, kind: str, message: str) -> None:
        if kind == self._streak_kind:
            self._streak += 1
        else:
            self._streak_kind, self._streak = kind, 1
        if self._streak >= self._breaker_after:
            self._trip(message, self._streak)

    def _trip(self, message: str, count: int = 1) -> None:
        if self._open:
            return
        why = f"{count} failures in a row" if count > 1 else "the first failure"
        self._open = f"reviewbot stopped sending requests after {why} ({message})"
        self._cond.notify_all()

    def sleep(self, seconds: float) -> None:
        """Wait before a retry, cut short when the breaker opens (the retry would not be sent anyway)."""
        deadline = self._clock() + seconds
        with self._cond:
            while not self._open:
                left = deadline - self._clock()
                if left <= 0:
                    return
                self._cond.wait(left)

    @property
    def is_open(self) -> bool:
        with self._cond:
            return self._open is not None

    def stats(self) -> RequestFlow:
        with self._cond:
            return RequestFlow(sent=self._sent, failed=self._failed, peak=self._peak, limit=self._limit,
                             lowest=self._lowest, backoffs=self._backoffs, cap=self.cap, stopped=self._open)


def refused_locally(url: str, timeout: float = 0.25) -> bool:
    """True when `url` names a loopback host and nothing listens on its port (the connection is refused)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return False
    if not loopback:
        return False
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return False
    except ConnectionRefusedError:
        return True
    except OSError:
        return False  # anything else (a timeout, no route) is left to the client, which explains it properly
