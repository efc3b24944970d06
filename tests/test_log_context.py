"""Records written while a hook call is served name it, whoever writes them; none do outside a call."""

from __future__ import annotations

import logging
import uuid

import pytest

from stratcare.log_context import StampHookInstance, serving_hook_call


@pytest.fixture
def stamped(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.handler.addFilter(StampHookInstance())
    caplog.set_level(logging.INFO)
    return caplog


def test_records_during_a_call_carry_its_hook_instance(stamped: pytest.LogCaptureFixture) -> None:
    instance = uuid.uuid4()
    with serving_hook_call(instance):
        logging.getLogger("some.library").info("outbound request")
        logging.getLogger("stratcare.x").info("own value kept", extra={"hookInstance": "explicit"})
    logging.getLogger("some.library").info("after the call")

    during, explicit, after = stamped.records
    assert during.__dict__["hookInstance"] == str(instance)
    assert explicit.__dict__["hookInstance"] == "explicit"
    assert "hookInstance" not in after.__dict__
