"""The next appointment of a patient, where the FHIR server has one (for missed-patient lists).

``GET Appointment?patient=…&date=ge<now>&status=proposed,pending,booked&_sort=date&_count=1`` (FHIR R4
Appointment search parameters). Optional and best effort: a server that refuses, fails or answers
something else yields no appointment, never an error in the report.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from stratcare.errors import EhrError
from stratcare.fhir.client import FhirReader
from stratcare.fhir_datetime import parse_fhir_datetime

logger = logging.getLogger(__name__)

MAX_IN_FLIGHT = 8
UPCOMING = "proposed,pending,booked"


class NextAppointments:
    def __init__(self, reader: FhirReader) -> None:
        self._reader = reader
        self._slots = asyncio.Semaphore(MAX_IN_FLIGHT)

    async def find(
        self, patients: Iterable[tuple[str | None, str]], now: datetime
    ) -> dict[tuple[str | None, str], datetime | None]:
        """For each (FHIR server, patient id), the start of the next upcoming appointment, or None."""
        unique = sorted(set(patients), key=lambda pair: (pair[0] or "", pair[1]))
        starts = await asyncio.gather(*(self._next(server, patient, now) for server, patient in unique))
        return dict(zip(unique, starts, strict=True))

    async def _next(self, server: str | None, patient: str, now: datetime) -> datetime | None:
        if server is None:
            return None
        query = urlencode(
            {
                "patient": f"Patient/{patient}",
                "date": f"ge{now.isoformat()}",
                "status": UPCOMING,
                "_sort": "date",
                "_count": "1",
            }
        )
        async with self._slots:
            try:
                bundle = await self._reader.read(server, f"Appointment?{query}", None)
            except EhrError as error:
                logger.info("next appointment unavailable", extra={"status": error.status})
                return None
        return _earliest_start(bundle, now)


def _earliest_start(bundle: dict[str, Any] | None, now: datetime) -> datetime | None:
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        return None
    starts = []
    for entry in bundle.get("entry") or []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and resource.get("resourceType") == "Appointment":
            start = parse_fhir_datetime(resource.get("start"))
            if start is not None and start >= now:
                starts.append(start)
    return min(starts, default=None)
