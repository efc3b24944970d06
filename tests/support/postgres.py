"""PostgreSQL for tests: a URL whose connections see only a fresh schema, dropped afterwards.

The server is 127.0.0.1:5432, database ``test`` (override with ``STRATCARE_TEST_POSTGRES_URL``). Where it is
unreachable the tests skip, unless ``STRATCARE_REQUIRE_POSTGRES`` is set (as the test script sets it): then
they fail, so a green run always means PostgreSQL was really exercised.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy.engine import make_url

POSTGRES_URL = os.environ.get(
    "STRATCARE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def admin_conninfo() -> str:
    return make_url(POSTGRES_URL).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    schema = f"t_{uuid.uuid4().hex[:16]}"
    try:
        admin = psycopg.connect(admin_conninfo(), autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        if os.environ.get("STRATCARE_REQUIRE_POSTGRES"):
            raise
        pytest.skip(f"PostgreSQL unavailable at {POSTGRES_URL}: {error}")
    with admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
            yield url.render_as_string(hide_password=False)
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
