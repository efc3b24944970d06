"""Alembic migrations of the store (``stratcare db upgrade``); see ``stratcare.store.migrate``."""
