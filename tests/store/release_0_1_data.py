"""A store as release 0.1.0 left it, with a row in every table: what the upgrade tests start from."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from store import schema_release_0_1 as release_0_1

AT = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
CALL, CARD, SUGGESTION = UUID(int=1), UUID(int=2), UUID(int=3)
EHR = "https://ehr.example.org/fhir"

SEED: dict[str, list[dict[str, Any]]] = {
    "hook_calls": [
        {
            "id": 1,
            "hook_instance": CALL,
            "service_id": "start-back-encounter-start",
            "hook": "encounter-start",
            "patient_id": "p1",
            "encounter_id": "e1",
            "user_id": "Practitioner/dr",
            "fhir_server": EHR,
            "received_at": AT,
            "outcome": "cards",
        }
    ],
    "assessments": [
        {
            "id": 1,
            "hook_call_id": 1,
            "kind": "scored",
            "instrument": "https://stratcare.example.org/Questionnaire/start-back",
            "instrument_version": "1.0.0",
            "questionnaire": "https://stratcare.example.org/Questionnaire/start-back|1.0.0",
            "response_id": "qr-1",
            "response_version": "2",
            "authored": AT,
            "total": 7,
            "psychosocial": 5,
            "risk_group": "high",
            "duration_code": None,
            "frequency_code": None,
            "chronicity": None,
            "rejection_reasons": None,
        },
        {
            "id": 2,
            "hook_call_id": 1,
            "kind": "rejected",
            "instrument": "https://stratcare.example.org/Questionnaire/nih-clbp",
            "instrument_version": None,
            "questionnaire": "https://stratcare.example.org/Questionnaire/nih-clbp",
            "response_id": "qr-2",
            "response_version": None,
            "authored": None,
            "total": None,
            "psychosocial": None,
            "risk_group": None,
            "duration_code": None,
            "frequency_code": None,
            "chronicity": None,
            "rejection_reasons": ["item 1 is not answered"],
        },
        {
            "id": 3,
            "hook_call_id": 1,
            "kind": "scored",
            "instrument": "https://stratcare.example.org/Questionnaire/nih-clbp",
            "instrument_version": "1.0.0",
            "questionnaire": "https://stratcare.example.org/Questionnaire/nih-clbp|1.0.0",
            "response_id": "qr-3",
            "response_version": "1",
            "authored": AT,
            "total": None,
            "psychosocial": None,
            "risk_group": None,
            "duration_code": "more-than-1-year",
            "frequency_code": "every-day",
            "chronicity": "chronic",
            "rejection_reasons": None,
        },
    ],
    "cards": [
        {
            "id": 1,
            "uuid": CARD,
            "hook_call_id": 1,
            "service_id": "start-back-encounter-start",
            "pathway_action": "high-risk",
            "indicator": "warning",
            "summary": "High risk of persistent disabling back pain",
            "risk_group": "high",
            "referral_suggested": True,
        }
    ],
    "card_suggestions": [{"card_uuid": CARD, "suggestion_uuid": SUGGESTION, "label": "Refer"}],
    "feedback": [
        {
            "id": 1,
            "dedupe_key": "a" * 64,
            "service_id": "start-back-encounter-start",
            "card_uuid": CARD,
            "outcome": "accepted",
            "outcome_timestamp": AT,
            "accepted_suggestions": [str(SUGGESTION)],
            "override_reason_system": None,
            "override_reason_code": None,
            "received_at": AT,
        }
    ],
    "outbox": [
        {
            "id": 1,
            "key": "qr-1:2:1.0.0:start-back",
            "hook_instance": CALL,
            "fhir_server": EHR,
            "bundle": {"resourceType": "Bundle", "type": "transaction", "entry": []},
            "state": "pending",
            "attempts": 3,
            "next_attempt_at": AT,
            "lease_until": None,
            "claimed_by": None,
            "last_error": "POST failed: ConnectError",
            "created_at": AT,
            "updated_at": AT,
            "delivered_at": None,
        },
        {
            "id": 2,
            "key": "qr-0:-:1.0.0:start-back",
            "hook_instance": CALL,
            "fhir_server": None,
            "bundle": {"resourceType": "Bundle", "type": "transaction"},
            "state": "delivered",
            "attempts": 1,
            "next_attempt_at": AT,
            "lease_until": None,
            "claimed_by": "host-1",
            "last_error": None,
            "created_at": AT,
            "updated_at": AT,
            "delivered_at": AT,
        },
    ],
    "jwt_replay": [{"issuer": "https://ehr.example.org", "jti": "j1", "expires_at": AT}],
}


async def create_release_0_1_database(engine: AsyncEngine) -> None:
    """What release 0.1.0 left behind: tables from ``create_all``, no ``alembic_version``, and data."""
    async with engine.begin() as connection:
        await connection.run_sync(release_0_1.metadata.create_all)
        for name, rows in SEED.items():
            await connection.execute(insert(release_0_1.metadata.tables[name]), rows)


LEGACY_ASSESSMENT_COLUMNS = ("total", "psychosocial", "duration_code", "frequency_code", "chronicity")
MOVED: dict[int, dict[str, Any]] = {
    1: {"band": "high-risk", "scores": {"total": 7, "psychosocial": 5}, "answers": {}, "flags": []},
    2: {"band": None, "scores": None, "answers": None, "flags": None},
    3: {
        "band": "chronic",
        "scores": {},
        "answers": {"nih-duration": "more-than-1-year", "nih-frequency": "every-day"},
        "flags": [],
    },
}


def upgraded(name: str) -> list[dict[str, Any]]:
    """The seeded rows of table ``name`` as the newest schema holds them: per-instrument assessment
    columns moved into the generic ones, everything else as seeded."""
    if name != "assessments":
        return SEED[name]
    return [
        {key: value for key, value in row.items() if key not in LEGACY_ASSESSMENT_COLUMNS} | MOVED[row["id"]]
        for row in SEED[name]
    ]
