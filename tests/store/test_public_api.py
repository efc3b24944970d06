"""The store's public surface is what ``stratcare.store`` re-exports, and nothing else."""

from __future__ import annotations

import stratcare.store


def test_the_public_names_are_exactly_these() -> None:
    assert sorted(stratcare.store.__all__) == [
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
    assert all(hasattr(stratcare.store, name) for name in stratcare.store.__all__)
