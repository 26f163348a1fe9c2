"""The model client: a refused connection is not retried and opens the request gate's breaker."""

from __future__ import annotations

import pytest

from reviewbot.adapters.model_client import ChatModel, ModelSettings
from reviewbot.adapters.request_flow import RequestGate
from reviewbot.core.errors import ModelError
from tests.helpers.ports import closed_port


def test_the_client_does_not_retry_a_refused_connection_either():
    # The run checks loopback endpoints before building a client; the client itself also gives up on a refused
    # connection without retrying (for endpoints the check does not cover), and opens the breaker.
    model = ChatModel(ModelSettings(model="m", base_url=f"http://127.0.0.1:{closed_port()}/v1", api_key="sk-x",
                                    max_retries=3))
    model.gate = RequestGate(4)
    with pytest.raises(ModelError, match="could not connect"):
        model.complete([{"role": "user", "content": "hi"}])
    assert model.gate.stats().sent == 1 and model.gate.stats().failed == 1  # one attempt, no retries
    assert model.gate.is_open
