"""The request gate on its own, with a fake clock: a probe window then the cap, halving once per round of congestion,
additive recovery, and the breaker that opens after failures of one kind in a row."""

from __future__ import annotations

import threading

import pytest

from reviewbot.adapters.request_gate import RequestGate
from reviewbot.core.errors import ModelError


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_gate_probes_then_opens_to_the_cap():
    gate = RequestGate(16, probe=8, clock=Clock())
    tickets = [gate.acquire() for _ in range(8)]
    assert gate.stats().limit == 8  # the probe window is full: a ninth would wait
    released = threading.Event()
    ninth: list = []

    def wait_for_a_slot() -> None:
        ninth.append(gate.acquire())
        released.set()

    thread = threading.Thread(target=wait_for_a_slot, daemon=True)
    thread.start()
    assert not released.wait(0.1) and not ninth  # still waiting
    gate.succeeded(tickets[0])  # the endpoint answers: open up to the cap
    thread.join(timeout=10)
    assert ninth and gate.stats().limit == 16
    more = [gate.acquire() for _ in range(8)]  # 8 in flight + 8 more = the cap
    assert gate.stats().peak == 16 and len(more) == 8


def test_gate_halves_once_per_round_and_recovers_additively():
    clock = Clock()
    gate = RequestGate(16, probe=16, clock=clock)
    first = [gate.acquire() for _ in range(16)]
    clock.now += 1
    for t in first[:10]:  # a burst of 429s about one round of requests is one decrease, not ten
        assert gate.congested(t, "HTTP 429") is True
    assert gate.stats().limit == 8 and gate.stats().backoffs == 1
    for t in first[10:]:
        gate.succeeded(t)
    clock.now += 1
    t = gate.acquire()  # sent after the cut: news about it is new
    assert gate.congested(t, "HTTP 429") is False  # it was alone in flight: counted for the breaker too
    assert gate.stats().limit == 4 and gate.stats().lowest == 4
    for _ in range(4 + 5 + 6):  # a window of answers per step: 4 -> 5 -> 6 -> 7
        gate.succeeded(gate.acquire())
    assert gate.stats().limit == 7
    for _ in range(200):
        gate.succeeded(gate.acquire())
    assert gate.stats().limit == 16  # never past the cap


def test_gate_breaker_counts_one_kind_in_a_row():
    gate = RequestGate(4, probe=4, breaker_after=3, clock=Clock())
    gate.failed(gate.acquire(), "server error", "HTTP 500")
    gate.failed(gate.acquire(), "server error", "HTTP 500")
    gate.succeeded(gate.acquire())  # an answer resets the count
    gate.failed(gate.acquire(), "server error", "HTTP 500")
    gate.failed(gate.acquire(), "timeout", "slow")  # another kind starts a new count
    gate.failed(gate.acquire(), None, "HTTP 400")  # a rejected request says nothing about the endpoint
    assert not gate.is_open
    gate.failed(gate.acquire(), "server error", "HTTP 500")
    gate.failed(gate.acquire(), "server error", "HTTP 500")
    assert not gate.is_open
    gate.failed(gate.acquire(), "server error", "model answered HTTP 500")
    assert gate.is_open
    with pytest.raises(ModelError, match=r"after 3 failures in a row \(model answered HTTP 500\)"):
        gate.acquire()
    assert gate.stats().sent == 9 and gate.stats().failed == 8


def test_gate_opens_at_once_on_a_refused_connection_and_wakes_the_waiting():
    gate = RequestGate(1, probe=1, clock=Clock())
    ticket = gate.acquire()
    errors: list[str] = []

    def waiter() -> None:
        try:
            gate.acquire()
        except ModelError as exc:
            errors.append(str(exc))

    thread = threading.Thread(target=waiter)
    thread.start()
    gate.failed(ticket, "connection", "connection refused", at_once=True)
    thread.join(timeout=10)
    assert not thread.is_alive() and errors and "after the first failure (connection refused)" in errors[0]


def test_gate_counts_a_lone_busy_answer_towards_the_breaker():
    gate = RequestGate(8, probe=1, breaker_after=2, clock=Clock())
    assert gate.congested(gate.acquire(), "HTTP 503") is False  # alone in flight: the server is failing
    assert gate.congested(gate.acquire(), "HTTP 503") is False
    assert gate.is_open
