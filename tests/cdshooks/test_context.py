"""Hook contexts follow the hook definitions: who may be the user of each hook."""

from __future__ import annotations

import pytest

from stratcare.cdshooks.context import parse_context
from stratcare.errors import InvalidHookRequest


def context(user: str) -> dict[str, str]:
    return {"userId": user, "patientId": "p1", "encounterId": "e1"}


class TestUserTypes:
    @pytest.mark.parametrize(
        "user", ["Practitioner/1", "PractitionerRole/1", "Patient/p1", "RelatedPerson/2"]
    )
    def test_patient_view_users(self, user: str) -> None:
        assert parse_context("patient-view", context(user)).userId == user

    @pytest.mark.parametrize("user", ["Practitioner/1", "PractitionerRole/1"])
    def test_encounter_start_users(self, user: str) -> None:
        assert parse_context("encounter-start", context(user)).userId == user

    @pytest.mark.parametrize(
        ("hook", "user"),
        [
            ("encounter-start", "Patient/p1"),
            ("encounter-start", "RelatedPerson/2"),
            ("encounter-discharge", "Patient/p1"),
            ("patient-view", "Device/1"),
            ("patient-view", "Organization/1"),
        ],
    )
    def test_a_user_type_the_hook_does_not_define_is_400(self, hook: str, user: str) -> None:
        with pytest.raises(InvalidHookRequest) as raised:
            parse_context(hook, context(user))
        (issue,) = raised.value.issues
        assert raised.value.status_code == 400
        assert issue.expression == ("context.userId",)
        assert "cannot be the user of this hook" in issue.diagnostics
