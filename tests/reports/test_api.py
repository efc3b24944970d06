"""Report endpoints: who may see what (401/403 and no data), the JSON and CSV they answer, the audit log."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import respx

from stratcare.reports.pseudonym import pseudonym
from stratcare.reports.tables import MEASURE_COLUMNS

from .app import ADMIN_TOKEN, JWKS_URL, OTHER_KEY, jwks_document, report_client, user_token
from .seed import CLINIC_A, CLINIC_B

PERIOD = {"from": "2025-03-03", "to": "2025-03-16"}


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    with respx.mock(assert_all_called=False) as router:
        router.get(JWKS_URL).mock(return_value=httpx.Response(200, json=jwks_document()))
        async with report_client(tmp_path) as http:
            yield http


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


ENDPOINTS = [
    "/reports/measures",
    "/reports/measures.csv",
    "/reports/missed-patients",
    "/reports/missed-patients.csv",
]


class TestAccess:
    @pytest.mark.parametrize("path", ENDPOINTS)
    @pytest.mark.parametrize(
        "headers",
        [
            {},
            bearer("wrong-token"),
            {"Authorization": f"Basic {ADMIN_TOKEN}"},
            bearer(user_token(OTHER_KEY, clinic=CLINIC_A)),  # signed by a key the issuer does not hold
            bearer(user_token(clinic=CLINIC_A, aud="another-app")),
            bearer(user_token(clinic=CLINIC_A, iss="https://evil.example.org")),
            bearer(user_token(clinic=CLINIC_A, exp=1_000_000_000)),
        ],
    )
    async def test_unauthenticated_gets_401_and_no_data(
        self, client: httpx.AsyncClient, path: str, headers: dict[str, str]
    ) -> None:
        response = await client.get(path, params=PERIOD, headers=headers)
        assert response.status_code == 401
        assert "p2" not in response.text
        assert CLINIC_A not in response.text

    @pytest.mark.parametrize("path", ENDPOINTS)
    async def test_other_clinic_gets_403_and_no_data(self, client: httpx.AsyncClient, path: str) -> None:
        token = user_token(clinic=CLINIC_B)
        response = await client.get(path, params={**PERIOD, "clinic": CLINIC_A}, headers=bearer(token))
        assert response.status_code == 403
        assert "p2" not in response.text
        assert "identified" not in response.text

    async def test_a_user_without_a_clinic_gets_403(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/reports/measures", params=PERIOD, headers=bearer(user_token()))
        assert response.status_code == 403

    async def test_clinic_user_sees_only_their_clinic(self, client: httpx.AsyncClient) -> None:
        response = await client.get(
            "/reports/measures", params=PERIOD, headers=bearer(user_token(clinic=CLINIC_B))
        )
        assert response.status_code == 200
        body = response.json()
        assert [row["clinic"] for row in body["rows"]] == [CLINIC_B]
        assert body["overall"]["identified"] == 1

    async def test_closed_when_nothing_is_configured(self, tmp_path: Path) -> None:
        async with report_client(tmp_path, admin_token=None, oidc_issuer=None) as http:
            response = await http.get("/reports/measures", params=PERIOD, headers=bearer(ADMIN_TOKEN))
        assert response.status_code == 401


class TestMeasures:
    async def test_json_rows_and_definitions(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/reports/measures", params=PERIOD, headers=bearer(ADMIN_TOKEN))
        assert response.status_code == 200
        body = response.json()
        a = next(row for row in body["rows"] if row["clinic"] == CLINIC_A)
        assert (a["identified"], a["stratified"], a["stratification_rate"]) == (5, 3, 0.6)
        assert (a["cards"], a["cards_with_feedback"], a["cards_accepted"]) == (7, 3, 2)
        assert body["overall"]["identified"] == 6
        assert "first such call" in body["definitions"]["identified"]
        assert body["overrideReasons"][0]["code"] == "patient-declined"

    async def test_bad_period_is_400(self, client: httpx.AsyncClient) -> None:
        params = {"from": "2025-03-16", "to": "2025-03-01"}
        response = await client.get("/reports/measures", params=params, headers=bearer(ADMIN_TOKEN))
        assert response.status_code == 400
        assert "end after it starts" in response.text

    async def test_csv_round_trips(self, client: httpx.AsyncClient) -> None:
        params = {**PERIOD, "by": ["clinic", "clinician"]}
        json_rows = (
            await client.get("/reports/measures", params=params, headers=bearer(ADMIN_TOKEN))
        ).json()["rows"]
        response = await client.get("/reports/measures.csv", params=params, headers=bearer(ADMIN_TOKEN))
        assert response.headers["content-type"].startswith("text/csv")
        read = list(csv.DictReader(io.StringIO(response.text)))
        assert list(read[0]) == ["clinic", "clinician", *MEASURE_COLUMNS]
        assert read == [
            {name: "" if value is None else str(value) for name, value in row.items()} for row in json_rows
        ]

    async def test_views_are_audit_logged(
        self, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.INFO, logger="stratcare.audit"):
            await client.get("/reports/measures", params=PERIOD, headers=bearer(user_token(clinic=CLINIC_A)))
        (record,) = [r for r in caplog.records if r.name == "stratcare.audit"]
        assert record.getMessage() == "report viewed"
        assert (record.subject, record.clinics, record.path) == ("user-1", [CLINIC_A], "/reports/measures")  # type: ignore[attr-defined]


class TestMissedPatients:
    async def test_pseudonymous_for_a_clinic_user(self, client: httpx.AsyncClient) -> None:
        token = user_token(clinic=CLINIC_A)
        body = (await client.get("/reports/missed-patients", params=PERIOD, headers=bearer(token))).json()
        key = b"pseudonym-key-for-tests"
        assert [row["patient"] for row in body["patients"]] == [pseudonym(key, "p2"), pseudonym(key, "p4")]
        assert all(row["identifiable"] is False for row in body["patients"])

    async def test_identifiable_with_the_scope(self, client: httpx.AsyncClient) -> None:
        token = user_token(clinic=CLINIC_A, scope="openid reports:identifiable")
        body = (await client.get("/reports/missed-patients", params=PERIOD, headers=bearer(token))).json()
        assert [row["patient"] for row in body["patients"]] == ["p2", "p4"]

    async def test_csv_round_trips(self, client: httpx.AsyncClient) -> None:
        headers = bearer(ADMIN_TOKEN)
        rows = (await client.get("/reports/missed-patients", params=PERIOD, headers=headers)).json()[
            "patients"
        ]
        text = (await client.get("/reports/missed-patients.csv", params=PERIOD, headers=headers)).text
        read = list(csv.DictReader(io.StringIO(text)))
        assert [row["patient"] for row in read] == ["p2", "p4", "p8"]
        assert read == [{k: "" if v is None else str(v) for k, v in row.items()} for row in rows]
