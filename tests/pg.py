"""A PostgreSQL schema of its own for each test, on the machine's server.

`fresh_schema()` creates `t_<random>` in the test database and yields a URL whose
search_path is that schema, so every table a backend creates lands there and runs never
collide; the schema is dropped afterwards. Without a server the test skips, unless
LAMBENT_REQUIRE_SERVICES=1 (CI), where it fails.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import psycopg
import pytest

BASE_URL = os.environ.get("LAMBENT_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _require() -> bool:
    return os.environ.get("LAMBENT_REQUIRE_SERVICES") == "1"


def schema_url(schema: str, base: str = BASE_URL) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-csearch_path={schema}')}"


def create_schema() -> str:
    """A new, empty schema's name (the caller drops it with `drop_schema`)."""
    schema = "t_" + secrets.token_hex(6)
    try:
        admin = psycopg.connect(BASE_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        if _require():
            raise
        pytest.skip(f"no PostgreSQL at {BASE_URL}: {exc}")
    with admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    return schema


def drop_schema(schema: str) -> None:
    with psycopg.connect(BASE_URL, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@contextmanager
def fresh_schema() -> Iterator[str]:
    """A URL on a new, empty schema, dropped (with everything in it) afterwards."""
    schema = create_schema()
    try:
        yield schema_url(schema)
    finally:
        drop_schema(schema)
