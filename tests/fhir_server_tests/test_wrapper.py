"""The FHIR test server behaves as the FHIR R4 REST API says, over real HTTP.

Each test makes its own identifiers, so the tests share one server and still see only their own
data. They also pass against HAPI FHIR (``STRATCARE_TEST_FHIR_BASE_URL``), apart from those that
need a restart or fault injection, which skip there.
"""

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from fhir.resources.R4B import get_fhir_model_class

from support.fhir_server import FhirTestServer, running_fhir_server

pytestmark = pytest.mark.integration

FHIR_JSON = "application/fhir+json"
IDENTIFIER_SYSTEM = "http://stratcare.org/fhir/test-identifier"

Resource = dict[str, Any]


def new_identifier() -> str:
    return uuid.uuid4().hex


def patient(identifier: str) -> Resource:
    return {
        "resourceType": "Patient",
        "identifier": [{"system": IDENTIFIER_SYSTEM, "value": identifier}],
    }


def questionnaire_response(subject: str, authored: str, identifier: str | None = None) -> Resource:
    resource: Resource = {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "questionnaire": "http://stratcare.org/fhir/Questionnaire/start-back",
        "subject": {"reference": subject},
        "authored": authored,
    }
    if identifier is not None:
        resource["identifier"] = {"system": IDENTIFIER_SYSTEM, "value": identifier}
    return resource


def create(fhir: httpx.Client, resource: Resource) -> Resource:
    response = fhir.post(f"/{resource['resourceType']}", json=resource)
    assert response.status_code == httpx.codes.CREATED, response.text
    created: Resource = response.json()
    return created


def search(fhir: httpx.Client, resource_type: str, params: dict[str, str]) -> Resource:
    response = fhir.get(f"/{resource_type}", params=params)
    assert response.status_code == httpx.codes.OK, response.text
    bundle: Resource = response.json()
    return bundle


def search_total(fhir: httpx.Client, resource_type: str, params: dict[str, str]) -> int:
    total = search(fhir, resource_type, params).get("total")
    assert isinstance(total, int)
    return total


def entry_resources(bundle: Resource) -> list[Resource]:
    return [entry["resource"] for entry in bundle.get("entry", [])]


def next_link(bundle: Resource) -> str | None:
    links = {link["relation"]: link["url"] for link in bundle.get("link", [])}
    return links.get("next")


def transaction_entry(full_url: str, resource: Resource, if_none_exist: str) -> Resource:
    return {
        "fullUrl": full_url,
        "resource": resource,
        "request": {"method": "POST", "url": resource["resourceType"], "ifNoneExist": if_none_exist},
    }


def skip_unless_local(server: FhirTestServer) -> None:
    if not server.can_restart:
        pytest.skip("needs the local FHIR test server")


class TestMetadata:
    def test_serves_an_r4_capability_statement(self, fhir: httpx.Client) -> None:
        response = fhir.get("/metadata")

        assert response.status_code == httpx.codes.OK
        assert response.headers["content-type"].startswith(FHIR_JSON)
        statement = response.json()
        get_fhir_model_class("CapabilityStatement").model_validate(statement)
        assert statement["fhirVersion"] == "4.0.1"
        resource_types = {resource["type"] for resource in statement["rest"][0]["resource"]}
        assert {"Patient", "QuestionnaireResponse", "Observation"} <= resource_types


class TestCreateAndRead:
    def test_create_answers_201_with_location_and_etag(self, fhir: httpx.Client) -> None:
        response = fhir.post("/Patient", json=patient(new_identifier()))

        assert response.status_code == httpx.codes.CREATED
        created = response.json()
        assert f"/Patient/{created['id']}" in response.headers["location"]
        assert response.headers["etag"] == f'W/"{created["meta"]["versionId"]}"'

    def test_read_returns_the_created_resource(self, fhir: httpx.Client) -> None:
        identifier = new_identifier()
        created = create(fhir, patient(identifier))

        response = fhir.get(f"/Patient/{created['id']}")

        assert response.status_code == httpx.codes.OK
        assert response.json()["identifier"][0]["value"] == identifier

    def test_unknown_id_is_404_with_operation_outcome(self, fhir: httpx.Client) -> None:
        response = fhir.get(f"/Patient/{new_identifier()}")

        assert response.status_code == httpx.codes.NOT_FOUND
        assert response.json()["resourceType"] == "OperationOutcome"

    def test_invalid_resource_is_400_with_operation_outcome(self, fhir: httpx.Client) -> None:
        response = fhir.post("/Observation", json={"resourceType": "Observation", "status": "final"})

        assert response.status_code == httpx.codes.BAD_REQUEST
        assert response.json()["resourceType"] == "OperationOutcome"


class TestUpdateAndDelete:
    def test_update_with_stale_if_match_is_412(self, fhir: httpx.Client) -> None:
        created = create(fhir, patient(new_identifier()))
        stale_etag = f'W/"{created["meta"]["versionId"]}"'
        assert fhir.put(f"/Patient/{created['id']}", json=created).status_code == httpx.codes.OK

        response = fhir.put(f"/Patient/{created['id']}", json=created, headers={"If-Match": stale_etag})

        assert response.status_code == httpx.codes.PRECONDITION_FAILED

    def test_deleted_resource_reads_410(self, fhir: httpx.Client) -> None:
        created = create(fhir, patient(new_identifier()))

        assert fhir.delete(f"/Patient/{created['id']}").status_code == httpx.codes.OK
        assert fhir.get(f"/Patient/{created['id']}").status_code == httpx.codes.GONE


class TestSearch:
    def test_subject_search_sorted_newest_first_and_paged(self, fhir: httpx.Client) -> None:
        subject = f"Patient/{create(fhir, patient(new_identifier()))['id']}"
        other = f"Patient/{create(fhir, patient(new_identifier()))['id']}"
        for authored in ("2024-01-10T09:00:00Z", "2024-03-10T09:00:00Z", "2024-02-10T09:00:00Z"):
            create(fhir, questionnaire_response(subject, authored))
        create(fhir, questionnaire_response(other, "2024-04-10T09:00:00Z"))

        first_page = search(
            fhir, "QuestionnaireResponse", {"subject": subject, "_sort": "-authored", "_count": "2"}
        )
        next_url = next_link(first_page)
        assert next_url is not None
        second_page = fhir.get(next_url).json()

        assert [r["authored"] for r in entry_resources(first_page)] == [
            "2024-03-10T09:00:00Z",
            "2024-02-10T09:00:00Z",
        ]
        assert [r["authored"] for r in entry_resources(second_page)] == ["2024-01-10T09:00:00Z"]
        assert next_link(second_page) is None

    def test_identifier_token_search_finds_exactly_one(self, fhir: httpx.Client) -> None:
        identifier = new_identifier()
        created = create(fhir, patient(identifier))
        create(fhir, patient(new_identifier()))

        bundle = search(fhir, "Patient", {"identifier": f"{IDENTIFIER_SYSTEM}|{identifier}"})

        assert [r["id"] for r in entry_resources(bundle)] == [created["id"]]

    def test_identifier_search_follows_updates_and_deletes(self, fhir: httpx.Client) -> None:
        old, new = new_identifier(), new_identifier()
        created = create(fhir, patient(old))
        changed = {**created, "identifier": [{"system": IDENTIFIER_SYSTEM, "value": new}]}
        assert fhir.put(f"/Patient/{created['id']}", json=changed).status_code == httpx.codes.OK

        assert search_total(fhir, "Patient", {"identifier": f"{IDENTIFIER_SYSTEM}|{old}"}) == 0
        assert search_total(fhir, "Patient", {"identifier": f"{IDENTIFIER_SYSTEM}|{new}"}) == 1
        assert search_total(fhir, "Patient", {"identifier": new}) == 1  # any system: the general path

        assert fhir.delete(f"/Patient/{created['id']}").status_code == httpx.codes.OK
        assert search_total(fhir, "Patient", {"identifier": f"{IDENTIFIER_SYSTEM}|{new}"}) == 0

    def test_summary_count_gives_the_total_without_entries(self, fhir: httpx.Client) -> None:
        identifier = new_identifier()
        create(fhir, patient(identifier))

        bundle = search(
            fhir,
            "Patient",
            {"identifier": f"{IDENTIFIER_SYSTEM}|{identifier}", "_summary": "count"},
        )

        assert bundle["total"] == 1
        assert "entry" not in bundle

    def test_unknown_search_parameter_is_400(self, fhir: httpx.Client) -> None:
        response = fhir.get("/Patient", params={"no-such-parameter": "x"})

        assert response.status_code == httpx.codes.BAD_REQUEST
        assert response.json()["resourceType"] == "OperationOutcome"


class TestConditionalCreate:
    async def test_parallel_identical_requests_create_one_resource(
        self, fhir_server: FhirTestServer, fhir: httpx.Client
    ) -> None:
        identifier = new_identifier()
        headers = {
            **fhir_server.auth_headers(),
            "If-None-Exist": f"identifier={IDENTIFIER_SYSTEM}|{identifier}",
        }
        async with httpx.AsyncClient(base_url=fhir_server.base_url, timeout=20.0) as client:
            responses = await asyncio.gather(
                *(client.post("/Patient", json=patient(identifier), headers=headers) for _ in range(20))
            )

        statuses = sorted(response.status_code for response in responses)
        assert statuses == [httpx.codes.OK] * 19 + [httpx.codes.CREATED]
        assert len({response.json()["id"] for response in responses}) == 1
        assert search_total(fhir, "Patient", {"identifier": f"{IDENTIFIER_SYSTEM}|{identifier}"}) == 1


class TestTransaction:
    def test_urn_uuid_references_and_if_none_exist_keep_one_copy(self, fhir: httpx.Client) -> None:
        patient_identifier, response_identifier = new_identifier(), new_identifier()
        patient_url = f"urn:uuid:{uuid.uuid4()}"
        bundle = {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                transaction_entry(
                    f"urn:uuid:{uuid.uuid4()}",
                    questionnaire_response(patient_url, "2024-05-01T10:00:00Z", response_identifier),
                    f"identifier={IDENTIFIER_SYSTEM}|{response_identifier}",
                ),
                transaction_entry(
                    patient_url,
                    patient(patient_identifier),
                    f"identifier={IDENTIFIER_SYSTEM}|{patient_identifier}",
                ),
            ],
        }

        responses = [fhir.post("/", json=bundle) for _ in range(2)]

        assert [response.status_code for response in responses] == [httpx.codes.OK] * 2, responses[0].text
        assert all(r.json()["type"] == "transaction-response" for r in responses)
        patients = entry_resources(
            search(fhir, "Patient", {"identifier": f"{IDENTIFIER_SYSTEM}|{patient_identifier}"})
        )
        answers = entry_resources(
            search(
                fhir,
                "QuestionnaireResponse",
                {"identifier": f"{IDENTIFIER_SYSTEM}|{response_identifier}"},
            )
        )
        assert len(patients) == 1
        assert len(answers) == 1
        assert answers[0]["subject"]["reference"] == f"Patient/{patients[0]['id']}"

    def test_failed_transaction_leaves_nothing_behind(self, fhir: httpx.Client) -> None:
        patient_identifier = new_identifier()
        invalid_observation = {"resourceType": "Observation", "status": "final"}
        bundle = {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                {
                    "fullUrl": f"urn:uuid:{uuid.uuid4()}",
                    "resource": patient(patient_identifier),
                    "request": {"method": "POST", "url": "Patient"},
                },
                {
                    "fullUrl": f"urn:uuid:{uuid.uuid4()}",
                    "resource": invalid_observation,
                    "request": {"method": "POST", "url": "Observation"},
                },
            ],
        }

        response = fhir.post("/", json=bundle)

        assert response.status_code == httpx.codes.BAD_REQUEST
        assert response.json()["resourceType"] == "OperationOutcome"
        assert search_total(fhir, "Patient", {"identifier": f"{IDENTIFIER_SYSTEM}|{patient_identifier}"}) == 0


class TestBatch:
    def test_each_entry_gets_its_own_status(self, fhir: httpx.Client) -> None:
        bundle = {
            "resourceType": "Bundle",
            "type": "batch",
            "entry": [
                {"request": {"method": "GET", "url": f"Patient/{new_identifier()}"}},
                {"resource": patient(new_identifier()), "request": {"method": "POST", "url": "Patient"}},
            ],
        }

        response = fhir.post("/", json=bundle)

        assert response.status_code == httpx.codes.OK
        statuses = [entry["response"]["status"] for entry in response.json()["entry"]]
        assert [status.split()[0] for status in statuses] == ["404", "201"]


class TestFaultInjection:
    def test_injected_failures_answer_the_status_then_recover(
        self, fhir_server: FhirTestServer, fhir: httpx.Client
    ) -> None:
        skip_unless_local(fhir_server)
        fhir_server.fail_next_requests(count=2, status=503, retry_after_seconds=1)

        statuses = [fhir.get("/Patient").status_code for _ in range(3)]

        assert statuses == [503, 503, 200]

    def test_dropped_connection_is_a_transport_error(
        self, fhir_server: FhirTestServer, fhir: httpx.Client
    ) -> None:
        skip_unless_local(fhir_server)
        fhir_server.drop_next_connections(1)

        with pytest.raises(httpx.TransportError):
            fhir.get("/Patient")

    def test_delayed_request_times_out(self, fhir_server: FhirTestServer, fhir: httpx.Client) -> None:
        skip_unless_local(fhir_server)
        fhir_server.delay_requests(milliseconds=500, count=1)

        with pytest.raises(httpx.ReadTimeout):
            fhir.get("/Patient", timeout=0.1)


class TestBearerToken:
    def test_token_is_required_except_for_metadata(self, fhir_server: FhirTestServer) -> None:
        skip_unless_local(fhir_server)
        with (
            running_fhir_server(bearer_token="test-token") as server,
            httpx.Client(base_url=server.base_url, timeout=10.0) as client,
        ):
            without_token = client.get("/Patient")
            with_token = client.get("/Patient", headers=server.auth_headers())
            metadata = client.get("/metadata")

        assert without_token.status_code == httpx.codes.UNAUTHORIZED
        assert with_token.status_code == httpx.codes.OK
        assert metadata.status_code == httpx.codes.OK


class TestRestart:
    def test_restart_keeps_the_base_url_and_starts_empty(
        self, fhir_server: FhirTestServer, fhir: httpx.Client
    ) -> None:
        skip_unless_local(fhir_server)
        created = create(fhir, patient(new_identifier()))
        base_url = fhir_server.base_url

        fhir_server.stop()
        with pytest.raises(httpx.ConnectError):
            fhir.get("/metadata")
        fhir_server.start()

        assert fhir_server.base_url == base_url
        assert fhir.get(f"/Patient/{created['id']}").status_code == httpx.codes.NOT_FOUND
