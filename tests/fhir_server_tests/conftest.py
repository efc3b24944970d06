"""One FHIR test server for the whole session: starting one takes about a second."""

from collections.abc import Iterator

import httpx
import pytest

from support.fhir_server import FhirTestServer, running_fhir_server


@pytest.fixture(scope="session")
def fhir_server() -> Iterator[FhirTestServer]:
    with running_fhir_server() as server:
        yield server


@pytest.fixture
def fhir(fhir_server: FhirTestServer) -> Iterator[httpx.Client]:
    """A client on the server's base URL, with its auth header and FHIR JSON headers."""
    headers = {"Accept": "application/fhir+json", **fhir_server.auth_headers()}
    with httpx.Client(base_url=fhir_server.base_url, headers=headers, timeout=10.0) as client:
        yield client
