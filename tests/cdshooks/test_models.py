"""The request envelope: what the spec requires, and what it lets clients vary."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pydantic import ValidationError

from stratcare.cdshooks.models import HookRequest


def request_with_token_type(token_type: str) -> dict[str, Any]:
    return {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "fhirServer": "https://ehr.example.org/fhir",
        "fhirAuthorization": {
            "access_token": "t",
            "token_type": token_type,
            "expires_in": 300,
            "scope": "patient/*.read",
            "subject": "stratcare",
        },
        "context": {"userId": "Practitioner/1", "patientId": "p1"},
    }


@pytest.mark.parametrize("token_type", ["Bearer", "bearer", "BEARER"])
def test_the_token_type_is_bearer_in_any_case(token_type: str) -> None:
    request = HookRequest.model_validate(request_with_token_type(token_type))
    assert request.fhirAuthorization is not None
    assert request.fhirAuthorization.token_type == "Bearer"


@pytest.mark.parametrize("token_type", ["MAC", "DPoP", ""])
def test_other_token_types_are_refused(token_type: str) -> None:
    with pytest.raises(ValidationError):
        HookRequest.model_validate(request_with_token_type(token_type))


def test_unknown_top_level_members_are_tolerated() -> None:
    body = request_with_token_type("Bearer") | {"somethingNew": {"x": 1}, "extension": {"org.example": True}}
    assert HookRequest.model_validate(body).hook == "patient-view"
