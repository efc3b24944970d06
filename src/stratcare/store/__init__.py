"""Storage of hook calls, assessments, cards, feedback, the write-back outbox and JWT replay records."""

from stratcare.store.calls import SqlHookLedger
from stratcare.store.database import async_url, create_engine
from stratcare.store.feedback import SqlFeedbackLedger
from stratcare.store.ledger import SqlLedgers
from stratcare.store.migrate import SchemaNotCurrent, current_revision, head_revision, upgrade_schema
from stratcare.store.outbox import SqlOutbox
from stratcare.store.replay import SqlReplayGuard

__all__ = [
    "SchemaNotCurrent",
    "SqlFeedbackLedger",
    "SqlHookLedger",
    "SqlLedgers",
    "SqlOutbox",
    "SqlReplayGuard",
    "async_url",
    "create_engine",
    "current_revision",
    "head_revision",
    "upgrade_schema",
]
