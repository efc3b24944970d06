"""Results are queued only for servers configured for write-back; systemActions go back to the caller."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest
from pydantic import SecretStr

from stratcare.auth import AuthSettings, IssuerConfig
from stratcare.instruments.instrument_result import InstrumentResult
from stratcare.instruments.results import ResponseSource
from stratcare.writeback.delivery import TokenHandoff
from stratcare.writeback.intake import HookWriteback, LentToken, WritebackPlan
from stratcare.writeback.settings import WritebackMode, WritebackSettings
from stratcare.writeback.targets import WritebackTargets
from support.instrument_results import start_back_result

EHR = "https://ehr.example.org/fhir"
SANDBOX = "https://launch.smarthealthit.org/v/r4/fhir"
CLINIC = "https://clinic.example.org/r4"
ISSUER, OTHER_ISSUER = "https://ehr.example.org", "https://other.example.org"
CALL = UUID(int=7)


def score() -> InstrumentResult:
    source = ResponseSource(
        questionnaire="http://example.org/Questionnaire/start-back|1.0.0",
        response_id="qr-1",
        version_id="1",
        authored=datetime(2026, 11, 1, tzinfo=UTC),
    )
    return start_back_result(
        source=source, instrument_version="1.0.0", total=7, psychosocial=5, risk_group="high"
    )


def targets(
    mode: WritebackMode = "outbox",
    *,
    auth: str = "off",
    allowlist: tuple[str, ...] = (),
    ehr_base_url: str | None = None,
    issuers: dict[str, tuple[str, ...]] | None = None,
) -> WritebackTargets:
    writeback = WritebackSettings.model_validate(
        {"mode": mode, "allowlist": allowlist, "ehr_base_url": ehr_base_url}
    )
    configs = {
        name: IssuerConfig(jwks_url=f"{name}/jwks", writeback_servers=servers)
        for name, servers in (issuers or {}).items()
    }
    return WritebackTargets.from_settings(writeback, AuthSettings(mode=auth, issuers=configs))


def plan(
    writeback: HookWriteback, fhir_server: str | None, issuer: str | None = None, token: str | None = None
) -> WritebackPlan:
    return writeback.plan(
        hook_instance=CALL,
        patient_id="p1",
        encounter_id="e1",
        fhir_server=fhir_server,
        issuer=issuer,
        token=LentToken(SecretStr(token), 300) if token else None,
        assessments=[score()],
    )


class TestWhereResultsGo:
    def test_by_default_a_named_fhir_server_is_not_written_to(self) -> None:
        """The default configuration: the sandbox's open server is read from, never written to."""
        assert plan(HookWriteback(targets()), SANDBOX) == WritebackPlan()

    def test_with_authentication_off_the_allowlist_says_where(self) -> None:
        writeback = HookWriteback(targets(allowlist=(CLINIC + "/",)))
        (write,) = plan(writeback, CLINIC).queued
        assert write.fhir_server == CLINIC
        assert plan(writeback, SANDBOX).queued == []

    def test_with_authentication_on_each_issuer_has_its_own_servers(self) -> None:
        writeback = HookWriteback(targets(auth="on", issuers={ISSUER: (CLINIC,), OTHER_ISSUER: ()}))
        assert [write.fhir_server for write in plan(writeback, CLINIC, ISSUER).queued] == [CLINIC]
        assert plan(writeback, CLINIC, OTHER_ISSUER).queued == []

    def test_with_authentication_on_the_unauthenticated_allowlist_counts_for_nothing(self) -> None:
        writeback = HookWriteback(targets(auth="on", allowlist=(CLINIC,), issuers={ISSUER: ()}))
        assert plan(writeback, CLINIC, ISSUER).queued == []

    def test_the_ehr_base_url_is_a_target_with_or_without_a_fhir_server(self) -> None:
        writeback = HookWriteback(targets(ehr_base_url=EHR))
        assert [write.fhir_server for write in plan(writeback, None).queued] == [EHR]
        assert [write.fhir_server for write in plan(writeback, EHR + "/").queued] == [EHR]
        assert plan(writeback, SANDBOX).queued == []

    def test_servers_are_compared_in_normal_form(self) -> None:
        writeback = HookWriteback(targets(allowlist=("HTTPS://Clinic.Example.org:443/r4",)))
        assert [write.fhir_server for write in plan(writeback, CLINIC + "/").queued] == [CLINIC]

    def test_the_lent_token_is_handed_over_for_the_target_only(self) -> None:
        handoff = TokenHandoff()
        writeback = HookWriteback(targets(allowlist=(CLINIC,)), handoff)
        for_target = plan(writeback, CLINIC, token="lent")
        writeback.committed(for_target)
        writeback.committed(plan(writeback, SANDBOX, token="not-for-a-target"))
        (write,) = for_target.queued
        assert len(handoff) == 1
        assert handoff.take(write.key, CLINIC) == SecretStr("lent")

    def test_the_lent_token_is_handed_over_only_once_the_writes_are_committed(self) -> None:
        """Planning lends nothing: a call whose record is not committed queued no write to deliver."""
        handoff, woken = TokenHandoff(), []
        writeback = HookWriteback(targets(allowlist=(CLINIC,)), handoff, lambda: woken.append(True))
        planned = plan(writeback, CLINIC, token="lent")
        assert (len(handoff), woken) == (0, [])
        writeback.committed(planned)
        assert (len(handoff), woken) == (1, [True])


class TestModes:
    @pytest.mark.parametrize("mode", ["system-actions", "both"])
    def test_system_actions_come_back_whatever_the_target(self, mode: WritebackMode) -> None:
        result = plan(HookWriteback(targets(mode)), SANDBOX)
        assert result.queued == []
        assert {action.resource["resourceType"] for action in result.system_actions if action.resource} == {
            "Observation",
            "RiskAssessment",
        }

    def test_both_queues_for_a_target_and_returns_actions(self) -> None:
        result = plan(HookWriteback(targets("both", allowlist=(CLINIC,))), CLINIC)
        assert len(result.queued) == 1
        assert result.system_actions

    @pytest.mark.parametrize("mode", ["off", "system-actions"])
    def test_without_the_outbox_nothing_is_queued_even_for_a_target(self, mode: WritebackMode) -> None:
        assert plan(HookWriteback(targets(mode, allowlist=(CLINIC,), ehr_base_url=EHR)), CLINIC).queued == []


class TestDescription:
    def test_says_where_results_go_and_where_not(self) -> None:
        described = targets(
            auth="on", ehr_base_url=EHR, issuers={ISSUER: (CLINIC + "?tenant=secret",), OTHER_ISSUER: ()}
        )
        assert described.describe() == {
            "mode": "outbox",
            "outbox": True,
            "systemActions": False,
            "ehrBaseUrl": EHR,
            "allowlist": [],
            "issuers": {ISSUER: [CLINIC]},
            "otherServers": "not written to",
        }
        assert "secret" not in described.summary()
        assert EHR in described.summary()
        assert "any other fhirServer is not written to" in described.summary()

    def test_with_nothing_configured_the_summary_says_so(self) -> None:
        assert "no server (none is configured)" in targets().summary()

    def test_system_actions_mode_writes_to_no_server(self) -> None:
        described = targets("system-actions", allowlist=(CLINIC,), ehr_base_url=EHR)
        assert (described.describe()["ehrBaseUrl"], described.describe()["allowlist"]) == (None, [])
        assert "returned as systemActions" in described.summary()

    def test_configured_covers_every_target(self) -> None:
        described = targets(auth="off", allowlist=(CLINIC,), ehr_base_url=EHR)
        assert described.configured(CLINIC + "/")
        assert described.configured(EHR)
        assert not described.configured(SANDBOX)
