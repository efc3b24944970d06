"""The one rule for which EHR statuses a later attempt may change, and the three callers that follow it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import UUID

import httpx
import pytest
import respx
from joserfc.jwk import ECKey

from stratcare.errors import EhrError, EhrRejectedError, EhrTechnicalError
from stratcare.fhir.client import HttpxFhirClient
from stratcare.fhir.retryable import is_retryable_status, status_error
from stratcare.writeback.backend_auth import BackendServicesConfig, BackendServicesToken
from stratcare.writeback.delivery import Deliverer
from stratcare.writeback.outbox import ClaimedWrite

RETRYABLE = [408, 429, 500, 501, 502, 503, 504, 599]
FINAL = [400, 401, 403, 404, 405, 409, 410, 412, 413, 422, 428, 431]


@pytest.mark.parametrize("status", RETRYABLE)
def test_timeouts_rate_limits_and_server_errors_may_pass_later(status: int) -> None:
    assert is_retryable_status(status)


@pytest.mark.parametrize("status", FINAL)
def test_other_client_errors_are_final(status: int) -> None:
    assert not is_retryable_status(status)


@pytest.mark.parametrize("status", RETRYABLE + FINAL)
def test_the_error_for_a_status_follows_the_rule(status: int) -> None:
    error = status_error("answered", status, retry_after_seconds=3.0)
    assert (type(error), error.status) == (expected_class(status), status)


def expected_class(status: int) -> type[EhrError]:
    return EhrTechnicalError if is_retryable_status(status) else EhrRejectedError


class TestEveryCallerFollowsTheRule:
    """A FHIR read, a write-back delivery and a token request classify each status alike."""

    BASE = "https://ehr.example.org/fhir"
    TOKEN_URL = "https://ehr.example.org/oauth2/token"
    STATUSES = [400, 403, 408, 409, 422, 429, 500, 503]  # not 404 or 410: a read answers None

    @pytest.fixture
    async def http(self) -> AsyncIterator[httpx.AsyncClient]:
        async with httpx.AsyncClient() as client:
            yield client

    @pytest.mark.parametrize("status", STATUSES)
    @respx.mock
    async def test_a_read(self, http: httpx.AsyncClient, status: int) -> None:
        respx.get(f"{self.BASE}/Patient/p1").mock(return_value=httpx.Response(status))
        with pytest.raises(EhrError) as caught:
            await HttpxFhirClient(http).read(self.BASE, "Patient/p1", None)
        assert type(caught.value) is expected_class(status)

    @pytest.mark.parametrize("status", STATUSES)
    @respx.mock
    async def test_a_delivery(self, http: httpx.AsyncClient, status: int) -> None:
        respx.post(self.BASE).mock(return_value=httpx.Response(status))
        write = ClaimedWrite(1, "k", UUID(int=1), self.BASE, {"resourceType": "Bundle"}, attempts=0)
        with pytest.raises(EhrError) as caught:
            await Deliverer(http, ehr_base_url=self.BASE).deliver(write)
        assert type(caught.value) is expected_class(status)

    @pytest.mark.parametrize("status", STATUSES)
    @respx.mock
    async def test_a_token_request(self, http: httpx.AsyncClient, tmp_path: Path, status: int) -> None:
        respx.post(self.TOKEN_URL).mock(return_value=httpx.Response(status))
        key_file = tmp_path / "key.json"
        key_file.write_text(json.dumps(ECKey.generate_key("P-384").as_dict(private=True)))
        config = BackendServicesConfig(
            token_url=self.TOKEN_URL, client_id="c", private_key_file=key_file, key_id="k", algorithm="ES384"
        )
        with pytest.raises(EhrError) as caught:
            await BackendServicesToken(config, http).token()
        assert type(caught.value) is expected_class(status)
