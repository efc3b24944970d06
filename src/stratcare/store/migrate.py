"""Schema migrations: every change to ``schema.py`` ships as an Alembic revision in ``migrations/versions``.

The migrations are inside the package, so an installed wheel upgrades its own database
(``stratcare db upgrade``). The service and the worker upgrade at start-up unless
``STRATCARE_DATABASE_UPGRADE_ON_START=false`` (deployments that run ``stratcare db upgrade`` as a Job); then
they only check that the database is at the newest revision and refuse to start otherwise.

An empty database is given the newest schema directly and stamped at the newest revision (Alembic's
"building an up to date database from scratch"); a database made by release 0.1.0 (tables from
``create_all``, no ``alembic_version``) is stamped at ``BASELINE``, that release's schema, and upgraded.
On PostgreSQL an advisory lock held for the transaction serialises processes that start at once; on SQLite
the transaction's write lock does.

To add a revision: change ``schema.py``, then
``alembic -c src/stratcare/store/migrations/alembic.ini revision --autogenerate -m "what changes"``, read and
tidy the file, and run the tests (they fail while the migrations and ``schema.py`` differ).
"""

from __future__ import annotations

from functools import cache

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from stratcare.store.schema import metadata

SCRIPT_LOCATION = "stratcare.store:migrations"
BASELINE = "0001"
"""The schema of release 0.1.0, the last made by ``create_all``."""
SCHEMA_LOCK = 0x5374_7261_7443_6172 & 0x7FFF_FFFF_FFFF_FFFF
"""PostgreSQL advisory lock id held while migrating."""


class SchemaNotCurrent(RuntimeError):
    """The database is not at the revision this release needs (and upgrading at start-up is off)."""


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, with no ini file: the scripts in the package, and ``connection``."""
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.attributes["connection"] = connection
    return config


@cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The newest revision shipped with this release."""
    head = _scripts().get_current_head()
    if head is None:
        raise RuntimeError("no migrations are shipped with this package")
    return head


async def upgrade_schema(engine: AsyncEngine) -> None:
    """Bring the database to the newest revision; safe to call again and from several processes at once."""
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": SCHEMA_LOCK})
        await connection.run_sync(_upgrade)


def _upgrade(connection: Connection) -> None:
    migration = MigrationContext.configure(connection)
    tables = inspect(connection).get_table_names()
    if not tables:
        # An empty database gets the newest schema at once (the tests hold the migrations equal to it).
        metadata.create_all(connection)
        migration.stamp(_scripts(), "head")
        return
    if "alembic_version" not in tables and "hook_calls" in tables:
        migration.stamp(_scripts(), BASELINE)  # made by release 0.1.0's create_all
    if migration.get_current_revision() != head_revision():
        command.upgrade(alembic_config(connection), "head")


async def current_revision(engine: AsyncEngine) -> str | None:
    """The database's revision; None for an empty database (or one made before migrations)."""
    async with engine.connect() as connection:
        return await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())


async def require_current_schema(engine: AsyncEngine) -> None:
    """Raise ``SchemaNotCurrent`` unless the database is at the newest revision."""
    current, head = await current_revision(engine), head_revision()
    if current != head:
        raise SchemaNotCurrent(
            f"the database schema is at revision {current or 'none'}, this release needs {head}: "
            "run `stratcare db upgrade` (or set STRATCARE_DATABASE_UPGRADE_ON_START=true)"
        )
