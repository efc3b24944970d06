"""A fresh store per run: a new PostgreSQL schema (dropped afterwards) or a new SQLite file."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy.engine import make_url

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextmanager
def fresh_postgres_schema(postgres_url: str = POSTGRES_URL) -> Iterator[str]:
    """Yield a store URL whose connections use a new, empty schema."""
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin_url = make_url(postgres_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            url = make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
            yield url.render_as_string(hide_password=False)
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
