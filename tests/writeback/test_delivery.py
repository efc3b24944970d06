"""Delivering one outbox row: which credentials, and which failures a later attempt may fix."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import httpx
import pytest
import respx
from joserfc.jwk import ECKey
from pydantic import SecretStr

from stratcare.errors import EhrError, EhrRejectedError, EhrTechnicalError
from stratcare.writeback.backend_auth import BackendServicesConfig, BackendServicesToken
from stratcare.writeback.delivery import Deliverer, TokenHandoff
from stratcare.writeback.outbox import ClaimedWrite

EHR = "https://ehr.example.org/fhir"
OTHER = "https://other.example.org/r4"
TOKEN_URL = "https://ehr.example.org/oauth2/token"
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
BUNDLE = {"resourceType": "Bundle", "type": "transaction", "entry": []}
APPLIED = {
    "resourceType": "Bundle",
    "type": "transaction-response",
    "entry": [{"response": {"status": "201 Created"}}, {"response": {"status": "200 OK"}}],
}


def claimed(fhir_server: str | None = None, key: str = "qr1:2:1.0.0:start-back") -> ClaimedWrite:
    return ClaimedWrite(1, key, UUID(int=7), fhir_server, BUNDLE, attempts=0)


async def failure(deliverer: Deliverer, write: ClaimedWrite) -> EhrError:
    """What the delivery of ``write`` raised (it must raise)."""
    with pytest.raises(EhrError) as caught:
        await deliverer.deliver(write)
    return caught.value


def bearer(route: respx.Route) -> str | None:
    value: str | None = route.calls.last.request.headers.get("Authorization")
    return value


class Clock:
    def __init__(self) -> None:
        self.seconds = 1_000.0

    def __call__(self) -> float:
        return self.seconds


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def backend(tmp_path: Path, http: httpx.AsyncClient) -> BackendServicesToken:
    key = ECKey.generate_key("P-384")
    path = tmp_path / "key.json"
    path.write_text(json.dumps(key.as_dict(private=True)))
    config = BackendServicesConfig(
        token_url=TOKEN_URL, client_id="stratcare", private_key_file=path, key_id="k1", algorithm="ES384"
    )
    return BackendServicesToken(config, http)


class TestTokenHandoff:
    def test_a_token_is_taken_once(self) -> None:
        handoff = TokenHandoff(Clock())
        handoff.hand_over("k", EHR, SecretStr("lent"), 300)
        assert handoff.take("k", EHR + "/") == SecretStr("lent")
        assert handoff.take("k", EHR) is None

    def test_an_expired_token_is_not_given(self) -> None:
        clock = Clock()
        handoff = TokenHandoff(clock)
        handoff.hand_over("k", EHR, SecretStr("lent"), 60)
        clock.seconds += 60
        assert handoff.take("k", EHR) is None

    def test_a_token_lent_for_another_server_is_kept_for_that_server_only(self) -> None:
        """The same results may be queued for two servers: each write gets its own server's token."""
        handoff = TokenHandoff(Clock())
        handoff.hand_over("k", OTHER, SecretStr("lent-other"), 300)
        handoff.hand_over("k", EHR, SecretStr("lent-ehr"), 300)
        assert handoff.take("k", EHR) == SecretStr("lent-ehr")
        assert handoff.take("k", EHR) is None
        assert handoff.take("k", OTHER) == SecretStr("lent-other")
        assert len(handoff) == 0

    def test_expired_tokens_are_dropped_when_another_is_lent(self) -> None:
        clock = Clock()
        handoff = TokenHandoff(clock)
        handoff.hand_over("old", EHR, SecretStr("a"), 10)
        clock.seconds += 11
        handoff.hand_over("new", EHR, SecretStr("b"), 10)
        assert len(handoff) == 1

    def test_a_long_lived_token_is_kept_for_five_minutes_at_most(self) -> None:
        clock = Clock()
        handoff = TokenHandoff(clock)
        handoff.hand_over("k", EHR, SecretStr("lent"), 3600)
        clock.seconds += 301
        assert handoff.take("k", EHR) is None


class TestDeliverer:
    @pytest.fixture(autouse=True)
    def _mock_http(self) -> Iterator[None]:
        with respx.mock:
            yield

    async def test_success_posts_the_bundle_to_the_hook_fhir_server(self, http: httpx.AsyncClient) -> None:
        route = respx.post(OTHER).mock(return_value=httpx.Response(200, json=APPLIED))
        await Deliverer(http, ehr_base_url=EHR).deliver(claimed(OTHER + "/"))
        request = route.calls.last.request
        assert json.loads(request.content) == BUNDLE
        assert request.headers["Content-Type"] == "application/fhir+json"
        assert "Authorization" not in request.headers

    async def test_no_hook_fhir_server_means_the_configured_ehr(self, http: httpx.AsyncClient) -> None:
        route = respx.post(EHR).mock(return_value=httpx.Response(200, json=APPLIED))
        await Deliverer(http, ehr_base_url=EHR).deliver(claimed(None))
        assert route.called

    async def test_no_server_at_all_is_permanent(self, http: httpx.AsyncClient) -> None:
        assert isinstance(await failure(Deliverer(http, ehr_base_url=None), claimed(None)), EhrRejectedError)

    async def test_the_lent_token_is_used_once_then_not(self, http: httpx.AsyncClient) -> None:
        route = respx.post(EHR).mock(return_value=httpx.Response(200, json=APPLIED))
        handoff = TokenHandoff()
        handoff.hand_over(claimed().key, EHR, SecretStr("lent-token"), 300)
        deliverer = Deliverer(http, ehr_base_url=EHR, handoff=handoff)
        await deliverer.deliver(claimed(EHR))
        assert bearer(route) == "Bearer lent-token"
        await deliverer.deliver(claimed(EHR))
        assert bearer(route) is None

    async def test_tokens_lent_after_start_up_reach_the_deliverer(self, http: httpx.AsyncClient) -> None:
        """The service builds the deliverer with an empty handoff at start-up; hooks lend into it later."""
        route = respx.post(EHR).mock(return_value=httpx.Response(200, json=APPLIED))
        handoff = TokenHandoff()
        deliverer = Deliverer(http, ehr_base_url=EHR, handoff=handoff)
        handoff.hand_over(claimed().key, EHR, SecretStr("lent-later"), 300)
        await deliverer.deliver(claimed(EHR))
        assert bearer(route) == "Bearer lent-later"

    async def test_backend_services_token_when_nothing_was_lent(
        self, http: httpx.AsyncClient, backend: BackendServicesToken
    ) -> None:
        token_route = respx.post(TOKEN_URL).mock(
            return_value=httpx.Response(200, json={"access_token": "own-token", "expires_in": 300})
        )
        route = respx.post(EHR).mock(return_value=httpx.Response(200, json=APPLIED))
        deliverer = Deliverer(http, ehr_base_url=EHR, backend_tokens={EHR + "/": backend})
        await deliverer.deliver(claimed(None))
        assert token_route.call_count == 1
        assert bearer(route) == "Bearer own-token"

    async def test_the_lent_token_comes_before_backend_services(
        self, http: httpx.AsyncClient, backend: BackendServicesToken
    ) -> None:
        token_route = respx.post(TOKEN_URL).mock(return_value=httpx.Response(200, json={"access_token": "x"}))
        route = respx.post(EHR).mock(return_value=httpx.Response(200, json=APPLIED))
        handoff = TokenHandoff()
        handoff.hand_over(claimed().key, EHR, SecretStr("lent-token"), 300)
        await Deliverer(http, ehr_base_url=EHR, handoff=handoff, backend_tokens={EHR: backend}).deliver(
            claimed()
        )
        assert bearer(route) == "Bearer lent-token"
        assert not token_route.called

    async def test_backend_services_is_not_used_for_another_server(
        self, http: httpx.AsyncClient, backend: BackendServicesToken
    ) -> None:
        token_route = respx.post(TOKEN_URL).mock(return_value=httpx.Response(200, json={"access_token": "x"}))
        route = respx.post(OTHER).mock(return_value=httpx.Response(200, json=APPLIED))
        await Deliverer(http, ehr_base_url=EHR, backend_tokens={EHR: backend}).deliver(claimed(OTHER))
        assert bearer(route) is None
        assert not token_route.called

    async def test_a_token_endpoint_outage_is_transient(
        self, http: httpx.AsyncClient, backend: BackendServicesToken
    ) -> None:
        respx.post(TOKEN_URL).mock(return_value=httpx.Response(503))
        failed = await failure(Deliverer(http, ehr_base_url=EHR, backend_tokens={EHR: backend}), claimed())
        assert isinstance(failed, EhrTechnicalError)
        assert "token endpoint" in failed.message

    async def test_503_with_retry_after_is_transient(self, http: httpx.AsyncClient) -> None:
        respx.post(EHR).mock(return_value=httpx.Response(503, headers={"Retry-After": "120"}))
        failed = await failure(Deliverer(http, ehr_base_url=EHR), claimed())
        assert isinstance(failed, EhrTechnicalError)
        assert (failed.message, failed.retry_after_seconds) == (f"POST {EHR} answered 503", 120.0)

    async def test_retry_after_as_an_http_date(self, http: httpx.AsyncClient) -> None:
        headers = {"Retry-After": "Fri, 20 Nov 2026 09:01:30 GMT"}
        respx.post(EHR).mock(return_value=httpx.Response(429, headers=headers))
        failed = await failure(Deliverer(http, ehr_base_url=EHR, clock=lambda: NOW), claimed())
        assert isinstance(failed, EhrTechnicalError)
        assert failed.retry_after_seconds == 90.0

    @pytest.mark.parametrize("status", [408, 429, 500, 502, 504])
    async def test_transient_statuses(self, http: httpx.AsyncClient, status: int) -> None:
        respx.post(EHR).mock(return_value=httpx.Response(status))
        failed = await failure(Deliverer(http, ehr_base_url=EHR), claimed())
        assert isinstance(failed, EhrTechnicalError)
        assert failed.retry_after_seconds is None

    @pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 412, 422])
    async def test_permanent_statuses(self, http: httpx.AsyncClient, status: int) -> None:
        outcome_body = {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "invalid", "diagnostics": "Missing required property"}],
        }
        respx.post(EHR).mock(return_value=httpx.Response(status, json=outcome_body))
        failed = await failure(Deliverer(http, ehr_base_url=EHR), claimed())
        assert isinstance(failed, EhrRejectedError)
        assert failed.message == f"POST {EHR} answered {status}: Missing required property"

    async def test_a_refused_lent_token_is_retried_with_other_credentials(
        self, http: httpx.AsyncClient
    ) -> None:
        respx.post(EHR).mock(return_value=httpx.Response(403))
        handoff = TokenHandoff()
        handoff.hand_over(claimed().key, EHR, SecretStr("lent-token"), 300)
        assert isinstance(
            await failure(Deliverer(http, ehr_base_url=EHR, handoff=handoff), claimed()), EhrTechnicalError
        )

    @pytest.mark.parametrize(
        "error",
        [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("closed")],
    )
    async def test_transport_errors_are_transient(self, http: httpx.AsyncClient, error: Exception) -> None:
        respx.post(EHR).mock(side_effect=error)
        failed = await failure(Deliverer(http, ehr_base_url=EHR), claimed())
        assert isinstance(failed, EhrTechnicalError)
        assert failed.message == f"POST {EHR} failed: {type(error).__name__}"

    @pytest.mark.parametrize(
        "response",
        [
            httpx.Response(200, text="<html>login</html>"),
            httpx.Response(200, json={"resourceType": "OperationOutcome"}),
            httpx.Response(200, json={"resourceType": "Bundle", "entry": [{"response": {"status": "400"}}]}),
        ],
    )
    async def test_an_answer_that_is_not_an_applied_transaction_is_permanent(
        self, http: httpx.AsyncClient, response: httpx.Response
    ) -> None:
        respx.post(EHR).mock(return_value=response)
        assert isinstance(await failure(Deliverer(http, ehr_base_url=EHR), claimed()), EhrRejectedError)

    async def test_the_token_never_appears_in_the_error(self, http: httpx.AsyncClient) -> None:
        echo = {
            "resourceType": "OperationOutcome",
            "issue": [{"code": "security", "diagnostics": "bad Bearer s3cr3t"}],
        }
        respx.post(EHR).mock(return_value=httpx.Response(400, json=echo))
        handoff = TokenHandoff()
        handoff.hand_over(claimed().key, EHR, SecretStr("s3cr3t"), 300)
        failed = await failure(Deliverer(http, ehr_base_url=EHR, handoff=handoff), claimed())
        assert "s3cr3t" not in failed.message
        assert "[redacted]" in failed.message
