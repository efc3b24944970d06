"""FHIR I/O: one small port (``FhirReader``) and its httpx adapter."""

from stratcare.fhir.client import FhirReader, HttpxFhirClient, join_fhir_url

__all__ = ["FhirReader", "HttpxFhirClient", "join_fhir_url"]
