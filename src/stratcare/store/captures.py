"""Screens completed on the capture page: the row for the reports and the response's write, in one
transaction, so an accepted screen is either fully recorded and queued or not at all.

A second submission of the same screen (a double tap, a resubmitted page) changes nothing and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from stratcare.store.database import insert_or_ignore
from stratcare.store.schema import as_utc, capture_screens, outbox
from stratcare.writeback.outbox import OutboxState, PendingWrite


@dataclass(frozen=True)
class CapturedScreen:
    response_id: str
    questionnaire: str
    patient_id: str
    encounter_id: str | None
    fhir_server: str
    launch: str
    """``link`` (signed link) or ``smart`` (SMART App Launch)."""
    prompted_at_point: str
    completed_at_point: str
    authored: datetime
    risk_band: str | None


class SqlCaptureLedger:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def record(self, screen: CapturedScreen, write: PendingWrite, now: datetime) -> bool:
        """Store the screen and queue its write; False (and nothing stored) when it was stored before."""
        now = as_utc(now, "now")
        async with self._engine.begin() as connection:
            statement = insert_or_ignore(connection, capture_screens, ["response_id"])
            statement = statement.returning(capture_screens.c.id)
            row = {**screen.__dict__, "authored": as_utc(screen.authored, "authored")}
            if (await connection.execute(statement, row)).first() is None:
                return False
            queue = insert_or_ignore(connection, outbox, ["fhir_server", "key"])
            await connection.execute(
                queue,
                {
                    "key": write.key,
                    "hook_instance": write.hook_instance,
                    "fhir_server": write.fhir_server,
                    "bundle": write.bundle,
                    "state": OutboxState.PENDING.value,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                    "updated_at": now,
                },
            )
        return True
