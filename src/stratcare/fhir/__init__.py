"""FHIR I/O: two small ports (``FhirReader``, ``FhirWriter``) and the one httpx transport behind both."""

from stratcare.fhir.client import FhirReader, FhirWriter, HttpxFhirClient, join_fhir_url

__all__ = ["FhirReader", "FhirWriter", "HttpxFhirClient", "join_fhir_url"]
