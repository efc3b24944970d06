"""fhirServer allowlist: only configured FHIR servers, compared after normalisation."""

from __future__ import annotations

import pytest

from stratcare.auth import FhirServerNotAllowed, IssuerConfig, check_fhir_server, normalise_fhir_url
from stratcare.errors import InvalidHookRequest

SMART = "https://launch.smarthealthit.org/v/r4/fhir"


def issuer(*fhir_servers: str) -> IssuerConfig:
    return IssuerConfig(jwks_url="https://ehr.example.org/jwks.json", fhir_servers=fhir_servers)


class TestNormalise:
    @pytest.mark.parametrize(
        ("url", "expected"),
        [
            ("HTTPS://Launch.SmartHealthIT.org/v/r4/fhir/", SMART),
            ("https://launch.smarthealthit.org:443/v/r4/fhir", SMART),
            ("http://ehr.local:8080/fhir", "http://ehr.local:8080/fhir"),
            ("http://ehr.local:80/fhir", "http://ehr.local/fhir"),
            ("https://[::1]:8443/fhir", "https://[::1]:8443/fhir"),
            ("https://ehr.example.org/R4/Fhir", "https://ehr.example.org/R4/Fhir"),
        ],
    )
    def test_forms(self, url: str, expected: str) -> None:
        assert normalise_fhir_url(url) == expected

    @pytest.mark.parametrize(
        "url",
        [
            "file:///etc/passwd",
            "ftp://ehr.example.org/fhir",
            "https://user:pw@ehr.example.org/fhir",
            "https:///fhir",
            "https://ehr.example.org:99999/fhir",
            "https://ehr.example.org/fhir#x",
            "not a url",
        ],
    )
    def test_not_usable(self, url: str) -> None:
        assert normalise_fhir_url(url) is None


class TestCheckFhirServer:
    @pytest.mark.parametrize("url", [SMART, SMART + "/", SMART.upper().replace("/V/R4/FHIR", "/v/r4/fhir")])
    def test_allowed_for_the_issuer(self, url: str) -> None:
        check_fhir_server(issuer(SMART), url)

    @pytest.mark.parametrize(
        "url",
        [
            "https://launch.smarthealthit.org/v/r4/fhir/Patient",
            "https://launch.smarthealthit.org/v/R4/fhir",
            "http://launch.smarthealthit.org/v/r4/fhir",
            "https://launch.smarthealthit.org.evil.example/v/r4/fhir",
            "https://169.254.169.254/latest/meta-data",
            "file:///etc/passwd",
        ],
    )
    def test_refused_for_the_issuer(self, url: str) -> None:
        with pytest.raises(FhirServerNotAllowed) as caught:
            check_fhir_server(issuer(SMART), url)
        assert isinstance(caught.value, InvalidHookRequest)
        assert caught.value.status_code == 400
        assert caught.value.outcome()["issue"][0]["expression"] == ["fhirServer"]

    def test_the_issuer_list_wins_over_the_unauthenticated_one(self) -> None:
        with pytest.raises(FhirServerNotAllowed):
            check_fhir_server(
                issuer(SMART),
                "https://other.example/fhir",
                unauthenticated_allowlist=["https://other.example/fhir"],
            )

    def test_empty_issuer_list_allows_any_http_url(self) -> None:
        check_fhir_server(issuer(), "https://anything.example/fhir")
        with pytest.raises(FhirServerNotAllowed):
            check_fhir_server(issuer(), "gopher://anything.example/fhir")

    def test_auth_off_uses_the_unauthenticated_allowlist(self) -> None:
        check_fhir_server(None, SMART + "/", unauthenticated_allowlist=[SMART])
        with pytest.raises(FhirServerNotAllowed):
            check_fhir_server(None, "https://other.example/fhir", unauthenticated_allowlist=[SMART])

    def test_auth_off_with_no_allowlist_allows_any_http_url(self) -> None:
        check_fhir_server(None, "http://localhost:8080/fhir")
