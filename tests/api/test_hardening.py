"""Hostile input: every malformed, oversized or misdirected request gets a clear 4xx or is handled, no 500.

A resource that is not about the context patient, or that is not well-formed FHIR, is never used; the call
is answered for what remains, and the reason is logged.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from api.conftest import SERVICE

RequestFor = Callable[[str], dict[str, Any]]
CALL = f"/cds-services/{SERVICE}"
FEEDBACK = f"{CALL}/feedback"
MAX_BODY = 5 * 1024 * 1024
MAX_DEPTH = 64
RISK_WORDS = ("low risk", "medium risk", "high risk")


def assert_outcome(response: httpx.Response, status: int) -> list[dict[str, Any]]:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("application/fhir+json")
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"]
    return list(body["issue"])


def risk_summaries(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text[:500]
    return [
        card["summary"]
        for card in response.json()["cards"]
        if any(word in card["summary"] for word in RISK_WORDS)
    ]


def ignored_reasons(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        str(record.__dict__["reason"])
        for record in caplog.records
        if record.getMessage() == "prefetch resource ignored"
    ]


def start_back_responses(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [entry["resource"] for entry in body["prefetch"]["startBackResponses"]["entry"]]


class TestBodySize:
    async def test_a_declared_length_over_the_limit_is_413_before_reading(
        self, client: httpx.AsyncClient
    ) -> None:
        body = b"{" + b" " * MAX_BODY + b"}"
        response = await client.post(CALL, content=body, headers={"Content-Type": "application/json"})
        (issue,) = assert_outcome(response, 413)
        assert issue["code"] == "too-costly"

    async def test_a_chunked_body_that_grows_over_the_limit_is_413(self, client: httpx.AsyncClient) -> None:
        sent = 0

        async def chunks() -> AsyncIterator[bytes]:
            nonlocal sent
            yield b'{"hook": "'
            while sent <= MAX_BODY:
                sent += 64 * 1024
                yield b"x" * 64 * 1024

        request = client.build_request("POST", CALL, content=chunks())
        assert "content-length" not in request.headers
        assert request.headers["transfer-encoding"] == "chunked"
        (issue,) = assert_outcome(await client.send(request), 413)
        assert issue["code"] == "too-costly"

    async def test_a_chunked_body_within_the_limit_is_read_whole(
        self, client: httpx.AsyncClient, request_for: RequestFor
    ) -> None:
        raw = json.dumps(request_for("high-risk")).encode()

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(raw), 100):
                yield raw[start : start + 100]

        json_type = {"Content-Type": "application/json"}
        response = await client.send(client.build_request("POST", CALL, content=chunks(), headers=json_type))
        assert [summary for summary in risk_summaries(response) if "high risk" in summary]


class TestJsonDepth:
    @pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 5_000, 200_000])
    async def test_nesting_deeper_than_the_limit_is_400_not_a_recursion_error(
        self, client: httpx.AsyncClient, request_for: RequestFor, depth: int
    ) -> None:
        body = request_for("low-risk")
        body["extension"] = {"deep": "__DEEP__"}
        raw = json.dumps(body).replace('"__DEEP__"', "[" * depth + "]" * depth)
        response = await client.post(CALL, content=raw, headers={"Content-Type": "application/json"})
        (issue,) = assert_outcome(response, 400)
        assert issue["code"] == "structure"
        assert str(MAX_DEPTH) in issue["diagnostics"]

    async def test_brackets_inside_strings_do_not_count(
        self, client: httpx.AsyncClient, request_for: RequestFor
    ) -> None:
        body = request_for("low-risk")
        body["extension"] = {"note": "[" * 500 + '\\"{' * 100}
        assert risk_summaries(await client.post(CALL, json=body))

    async def test_nesting_at_the_limit_is_accepted(
        self, client: httpx.AsyncClient, request_for: RequestFor
    ) -> None:
        body = request_for("low-risk")
        body["extension"] = {"deep": "__DEEP__"}
        inner = MAX_DEPTH - 2  # the body object and the extension object are two levels
        raw = json.dumps(body).replace('"__DEEP__"', "[" * inner + "]" * inner)
        response = await client.post(CALL, content=raw, headers={"Content-Type": "application/json"})
        assert risk_summaries(response)


class TestMalformedBodies:
    @pytest.mark.parametrize(
        "raw",
        [
            b"",
            b"{",
            b'{"hook": "encounter-start",}',
            b'{"hook": "encounter-start"} trailing',
            b"\xff\xfe\x00{}",
            b"[" * 10 + b"]" * 9,
            b"null",
            b'"just a string"',
        ],
    )
    async def test_unparseable_json_is_400(self, client: httpx.AsyncClient, raw: bytes) -> None:
        response = await client.post(CALL, content=raw, headers={"Content-Type": "application/json"})
        assert_outcome(response, 400)

    async def test_a_body_that_is_not_json_at_all_is_400(self, client: httpx.AsyncClient) -> None:
        response = await client.post(CALL, content=b"hook=x", headers={"Content-Type": "text/plain"})
        assert_outcome(response, 400)

    @pytest.mark.parametrize(
        ("member", "value"),
        [
            ("hook", 7),
            ("hook", ""),
            ("hook", ["encounter-start"]),
            ("hook", None),
            ("hookInstance", 12345),
            ("hookInstance", "0000"),
            ("hookInstance", {"uuid": "x"}),
            ("context", "patient"),
            ("context", ["Patient/1"]),
            ("context", None),
            ("prefetch", ["patient"]),
            ("prefetch", "Patient/1"),
            ("prefetch", 3),
            ("fhirServer", "not a url"),
            ("fhirServer", 42),
            ("fhirAuthorization", "Bearer abc"),
            ("extension", ["x"]),
        ],
    )
    async def test_wrong_types_for_top_level_members_are_400(
        self, client: httpx.AsyncClient, request_for: RequestFor, member: str, value: Any
    ) -> None:
        body = request_for("low-risk")
        body[member] = value
        issues = assert_outcome(await client.post(CALL, json=body), 400)
        assert any(member in issue.get("expression", [""])[0] for issue in issues), issues

    @pytest.mark.parametrize(
        ("member", "value"),
        [
            ("patientId", 17),
            ("patientId", "../../Patient/x"),
            ("patientId", "a" * 65),
            ("userId", "Device/1"),
            ("encounterId", ["e"]),
        ],
    )
    async def test_wrong_context_values_are_400(
        self, client: httpx.AsyncClient, request_for: RequestFor, member: str, value: Any
    ) -> None:
        body = request_for("low-risk")
        body["context"][member] = value
        (issue, *_) = assert_outcome(await client.post(CALL, json=body), 400)
        assert issue["expression"] == [f"context.{member}"]

    @pytest.mark.parametrize("value", [5, "Patient/1", True, ["a"]])
    async def test_prefetch_values_that_are_not_objects_are_400(
        self, client: httpx.AsyncClient, request_for: RequestFor, value: Any
    ) -> None:
        body = request_for("low-risk")
        body["prefetch"]["patient"] = value
        issues = assert_outcome(await client.post(CALL, json=body), 400)
        assert issues[0]["expression"][0].startswith("prefetch.patient")

    async def test_a_service_id_that_is_too_long_is_400(self, client: httpx.AsyncClient) -> None:
        assert_outcome(await client.post("/cds-services/" + "s" * 65, json={}), 400)


class TestToleratedExtras:
    async def test_unknown_members_and_extensions_are_tolerated(
        self, client: httpx.AsyncClient, request_for: RequestFor
    ) -> None:
        plain = risk_summaries(await client.post(CALL, json=request_for("medium-risk")))
        body = request_for("medium-risk")
        body["futureMember"] = {"anything": [1, 2, 3]}
        body["extension"] = {"com.example.ehr": {"session": "abc", "flags": [True, None]}}
        body["context"]["com.example.context"] = "kept"
        body["prefetch"]["notAskedFor"] = {"resourceType": "Observation", "status": "final"}
        assert risk_summaries(await client.post(CALL, json=body)) == plain


class TestPrefetchContent:
    @pytest.mark.parametrize(
        "value",
        [
            {"id": "demo-low"},
            {"resourceType": 7, "id": "demo-low"},
            {"resourceType": "Bundle", "entry": "nothing"},
            {"resourceType": "Bundle", "type": "transaction", "entry": []},
            {"resourceType": "ServiceRequest", "id": "sr1", "subject": {"reference": "Patient/demo-low"}},
        ],
    )
    async def test_a_search_key_sent_without_a_search_bundle_is_412_naming_the_key(
        self, client: httpx.AsyncClient, request_for: RequestFor, value: dict[str, Any]
    ) -> None:
        body = request_for("low-risk")
        body["prefetch"]["serviceRequests"] = value
        (issue,) = assert_outcome(await client.post(CALL, json=body), 412)
        assert issue["expression"] == ["prefetch.serviceRequests"]
        assert "not what the template asks for" in issue["diagnostics"]

    @pytest.mark.parametrize(
        "entries",
        [[1, "x", None, {"resource": {"id": 3}}], [{"search": None, "resource": None}]],
    )
    async def test_entries_that_are_not_resources_are_ignored_with_a_reason(
        self,
        client: httpx.AsyncClient,
        request_for: RequestFor,
        caplog: pytest.LogCaptureFixture,
        entries: list[Any],
    ) -> None:
        body = request_for("low-risk")
        body["prefetch"]["serviceRequests"] = {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": entries,
        }
        caplog.set_level(logging.INFO)
        assert risk_summaries(await client.post(CALL, json=body)) == risk_summaries(
            await client.post(CALL, json=request_for("low-risk"))
        )
        assert "prefetch 'serviceRequests': an entry is not a FHIR resource" in ignored_reasons(caplog)

    @pytest.mark.parametrize(
        ("key", "value", "why"),
        [
            (
                "patient",
                {"resourceType": "Observation", "id": "demo-low", "status": "final"},
                "expected a Patient, got 'Observation'",
            ),
            ("patient", {"resourceType": "Patient", "id": "demo-other"}, "a Patient with another id"),
            ("patient", {"resourceType": "Bundle", "type": "searchset"}, "expected a Patient, got 'Bundle'"),
            (
                "encounter",
                {"resourceType": "Encounter", "id": "elsewhere", "status": "planned"},
                "another id",
            ),
        ],
    )
    async def test_a_read_key_sent_with_the_wrong_resource_is_412_naming_the_key(
        self, client: httpx.AsyncClient, request_for: RequestFor, key: str, value: dict[str, Any], why: str
    ) -> None:
        body = request_for("low-risk")
        body["prefetch"][key] = value
        (issue,) = assert_outcome(await client.post(CALL, json=body), 412)
        assert issue["expression"] == [f"prefetch.{key}"]
        assert why in issue["diagnostics"]

    @pytest.mark.parametrize(
        ("path", "value"),
        [
            (("status",), ["completed"]),
            (("authored",), "last tuesday"),
            (("authored",), ["2026-11-20"]),
            (("item",), "garbage"),
            (("item", 0, "answer"), 1),
            (("item", 0, "answer", 0, "valueCoding"), "agree"),
            (("item", 0, "linkId"), None),
            (("item", 0, "answer"), []),
            (("subject",), {"reference": "Patient/demo-high", "display": {}}),
        ],
    )
    async def test_a_malformed_screen_is_not_scored(
        self,
        client: httpx.AsyncClient,
        request_for: RequestFor,
        caplog: pytest.LogCaptureFixture,
        path: tuple[str | int, ...],
        value: Any,
    ) -> None:
        body = request_for("high-risk")
        target: Any = start_back_responses(body)[0]
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
        caplog.set_level(logging.INFO)
        assert not [s for s in risk_summaries(await client.post(CALL, json=body)) if "high risk" in s]
        (reason,) = [r for r in ignored_reasons(caplog) if "QuestionnaireResponse is not valid FHIR" in r]
        assert reason.startswith("prefetch 'startBackResponses'")

    @pytest.mark.parametrize(
        "code",
        [1, "back pain", {"coding": None}, {"coding": [None]}, {"a": 1}, {}, {"coding": [{"code": 5}]}],
    )
    async def test_a_malformed_condition_is_not_used(
        self, client: httpx.AsyncClient, request_for: RequestFor, code: Any
    ) -> None:
        body = request_for("red-flag")
        for entry in body["prefetch"]["conditions"]["entry"]:
            entry["resource"]["code"] = code
        response = await client.post(CALL, json=body)
        assert response.status_code == 200
        assert not [card for card in response.json()["cards"] if "red-flag" in card["summary"].lower()]

    async def test_the_red_flag_scenario_raises_a_red_flag(
        self, client: httpx.AsyncClient, request_for: RequestFor
    ) -> None:
        """The control for the test above: the unmodified conditions do raise it."""
        response = await client.post(CALL, json=request_for("red-flag"))
        assert [card for card in response.json()["cards"] if "red-flag" in card["summary"].lower()]


class TestAnotherPatientsData:
    async def test_a_high_risk_screen_of_another_patient_gives_no_risk_card(
        self, client: httpx.AsyncClient, request_for: RequestFor, caplog: pytest.LogCaptureFixture
    ) -> None:
        body = request_for("high-risk")
        for response in start_back_responses(body):
            response["subject"] = {"reference": "Patient/someone-else"}
        caplog.set_level(logging.INFO)
        assert risk_summaries(await client.post(CALL, json=body)) == []
        reasons = ignored_reasons(caplog)
        assert "prefetch 'startBackResponses': a QuestionnaireResponse not about this patient" in reasons
        assert not [reason for reason in reasons if "someone-else" in reason]

    async def test_a_whole_prefetch_about_another_patient_is_never_used(
        self, client: httpx.AsyncClient, request_for: RequestFor
    ) -> None:
        body = request_for("high-risk")
        body["context"]["patientId"] = "victim"
        issues = assert_outcome(await client.post(CALL, json=body), 412)
        assert ["prefetch.patient"] in [issue["expression"] for issue in issues]

    @pytest.mark.parametrize(
        "subject",
        [
            {"reference": "Group/demo-high"},
            {"reference": "Patient/demo-high-2"},
            {"display": "demo-high"},
            {"identifier": {"value": "demo-high"}},
            "Patient/demo-high",
        ],
    )
    async def test_subjects_that_do_not_name_the_patient_are_not_trusted(
        self, client: httpx.AsyncClient, request_for: RequestFor, subject: Any
    ) -> None:
        body = request_for("high-risk")
        for response in start_back_responses(body):
            response["subject"] = subject
        assert not [s for s in risk_summaries(await client.post(CALL, json=body)) if "high risk" in s]


class TestHugeBundles:
    async def test_five_thousand_entries_of_other_patients_leave_the_answer_unchanged(
        self, client: httpx.AsyncClient, request_for: RequestFor, caplog: pytest.LogCaptureFixture
    ) -> None:
        body = request_for("high-risk")
        mine = start_back_responses(body)[0]
        theirs = {
            "resourceType": "QuestionnaireResponse",
            "status": "completed",
            "subject": {"reference": "Patient/other"},
        }
        body["prefetch"]["startBackResponses"]["entry"] = [{"resource": mine}] + [
            {"resource": {**theirs, "id": f"other-{index}"}} for index in range(5_000)
        ]
        assert len(json.dumps(body)) < MAX_BODY
        caplog.set_level(logging.INFO)
        summaries = risk_summaries(await client.post(CALL, json=body))
        assert [summary for summary in summaries if "high risk" in summary]
        # One log line per distinct reason, with how many resources it covered: no flood.
        (record,) = [r for r in caplog.records if r.getMessage() == "prefetch resource ignored"]
        assert record.__dict__["count"] == 5_000

    async def test_five_thousand_conditions_of_this_patient_are_handled(
        self, client: httpx.AsyncClient, request_for: RequestFor
    ) -> None:
        body = request_for("low-risk")
        condition = {
            "resourceType": "Condition",
            "clinicalStatus": {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}
                ]
            },
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "38341003"}]},
            "subject": {"reference": "Patient/demo-low"},
        }
        body["prefetch"]["conditions"] = {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"resource": {**condition, "id": f"c-{index}"}} for index in range(5_000)],
        }
        assert len(json.dumps(body)) < MAX_BODY
        assert risk_summaries(await client.post(CALL, json=body))


class TestFeedbackGarbage:
    @pytest.mark.parametrize(
        "body",
        [
            None,
            [],
            "feedback",
            {},
            {"feedback": []},
            {"feedback": {}},
            {"feedback": [1]},
            {"feedback": [{"card": "not-a-uuid", "outcome": "accepted"}]},
            {
                "feedback": [
                    {
                        "card": "7d1f0a5e-0000-4000-8000-000000000000",
                        "outcome": "maybe",
                        "outcomeTimestamp": "2026-11-25T10:00:00Z",
                    }
                ]
            },
            {
                "feedback": [
                    {
                        "card": "7d1f0a5e-0000-4000-8000-000000000000",
                        "outcome": "overridden",
                        "outcomeTimestamp": "yesterday",
                    }
                ]
            },
            {
                "feedback": [
                    {
                        "card": "7d1f0a5e-0000-4000-8000-000000000000",
                        "outcome": "overridden",
                        "outcomeTimestamp": "2026-11-25T10:00:00",
                    }
                ]
            },
            {
                "feedback": [
                    {
                        "card": "7d1f0a5e-0000-4000-8000-000000000000",
                        "outcome": "accepted",
                        "acceptedSuggestions": [],
                        "outcomeTimestamp": "2026-11-25T10:00:00Z",
                    }
                ]
            },
        ],
    )
    async def test_malformed_feedback_is_400(self, client: httpx.AsyncClient, body: Any) -> None:
        assert_outcome(await client.post(FEEDBACK, json=body), 400)

    async def test_feedback_about_a_card_never_issued_is_refused_for_that_item(
        self, client: httpx.AsyncClient
    ) -> None:
        item = {
            "card": "7d1f0a5e-0000-4000-8000-000000000000",
            "outcome": "overridden",
            "outcomeTimestamp": "2026-11-25T10:00:00Z",
        }
        response = await client.post(FEEDBACK, json={"feedback": [item]})
        assert response.status_code == 200
        assert [entry["reason"] for entry in response.json()["items"]] == ["unknown-card"]

    async def test_feedback_nested_too_deep_is_400(self, client: httpx.AsyncClient) -> None:
        raw = '{"feedback": ' + "[" * 10_000 + "]" * 10_000 + "}"
        response = await client.post(FEEDBACK, content=raw, headers={"Content-Type": "application/json"})
        assert_outcome(response, 400)

    async def test_feedback_to_an_unknown_service_is_404(self, client: httpx.AsyncClient) -> None:
        item = {
            "card": "7d1f0a5e-0000-4000-8000-000000000000",
            "outcome": "overridden",
            "outcomeTimestamp": "2026-11-25T10:00:00Z",
        }
        response = await client.post("/cds-services/nope/feedback", json={"feedback": [item]})
        assert_outcome(response, 404)
