"""Alembic's environment: migrations run on the connection ``stratcare.store.migrate`` passes in, or, for
``alembic revision --autogenerate`` with ``alembic.ini``, on the ini's ``sqlalchemy.url``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from stratcare.store.schema import metadata

if context.is_offline_mode():
    raise RuntimeError("offline (--sql) migrations are not supported: run `stratcare db upgrade`")


def run_migrations(connection: Connection) -> None:
    # Batch mode: SQLite changes a constraint only by rebuilding the table; elsewhere it is plain ALTER.
    context.configure(
        connection=connection, target_metadata=metadata, render_as_batch=True, compare_type=True
    )
    with context.begin_transaction():
        context.run_migrations()


given: Connection | None = context.config.attributes.get("connection")
if given is not None:
    run_migrations(given)
else:
    with create_engine(context.config.get_main_option("sqlalchemy.url") or "").connect() as opened:
        run_migrations(opened)
