"""The store as the service uses it: one engine, ledgers as units of work, the outbox, the replay guard, and
the group commit that hook calls and token checks share (``group_commit``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from stratcare.auth.replay import ReplayGuard
from stratcare.engine.ports import HookRecorder
from stratcare.store.batch_writes import PURGE_INTERVAL, CoreBatchWriter
from stratcare.store.calls import SqlHookLedger
from stratcare.store.captures import SqlCaptureLedger
from stratcare.store.database import create_engine, write_serialised
from stratcare.store.feedback import SqlFeedbackLedger
from stratcare.store.group_commit import GroupCommit
from stratcare.store.migrate import require_current_schema, upgrade_schema
from stratcare.store.outbox import SqlOutbox
from stratcare.store.recorder import SqlHookRecorder
from stratcare.store.replay import SqlReplayGuard
from stratcare.store.report_summary import ReportLabels
from stratcare.writeback.outbox import OutboxStore


class SqlLedgers:
    """Owns the engine; each ``*_ledger()`` is one transaction, committed on exit, rolled back on error."""

    def __init__(self, engine: AsyncEngine, *, purge_interval: timedelta = PURGE_INTERVAL) -> None:
        self.engine = engine
        self._report_labels = ReportLabels()
        self._writer = CoreBatchWriter(engine, purge_interval, self._report_labels)
        self.writes = GroupCommit(self._writer)
        self._replay_guard = SqlReplayGuard(self.writes)
        self._recorder = SqlHookRecorder(self.writes)

    @classmethod
    async def open(cls, url: str, *, upgrade: bool = True) -> SqlLedgers:
        """Connect to ``url`` and upgrade its schema to this release's (see ``store.migrate``); with
        ``upgrade=False``, raise ``SchemaNotCurrent`` unless it is already there."""
        engine = create_engine(url)
        try:
            await (upgrade_schema(engine) if upgrade else require_current_schema(engine))
        except BaseException:
            await engine.dispose()
            raise
        return cls(engine)

    @asynccontextmanager
    async def hook_ledger(self) -> AsyncIterator[SqlHookLedger]:
        async with write_serialised(self.engine) as connection:
            yield SqlHookLedger(connection, self._report_labels)

    @asynccontextmanager
    async def feedback_ledger(self) -> AsyncIterator[SqlFeedbackLedger]:
        async with write_serialised(self.engine) as connection:
            yield SqlFeedbackLedger(connection)

    def outbox(self) -> OutboxStore:
        return SqlOutbox(self.engine)

    def capture_ledger(self) -> SqlCaptureLedger:
        return SqlCaptureLedger(self.engine)

    def replay_guard(self) -> ReplayGuard:
        """The one guard of this store; its checks are group-committed with the other writes."""
        return self._replay_guard

    def hook_recorder(self) -> HookRecorder:
        """Hook calls as the engine records them: group-committed, with the call's token use."""
        return self._recorder

    async def close(self) -> None:
        await self.writes.close()
        await self._writer.close()
        await self.engine.dispose()
