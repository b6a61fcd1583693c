"""The store's plumbing shared by its method groups: statements, connection, helpers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tanstack_workflow.runtime import check_limit

from ._codec import bigint, text
from ._connection import ConnectionSource, Connector
from ._migrations import apply_migrations
from ._statements import Statements
from ._tables import PostgresWorkflowStoreTables, check_schema, quote, resolve_tables


def findable(run_id: Any) -> bool:
    """False for ids no stored run can have (lookups then answer "not found")."""
    return isinstance(run_id, str) and "\x00" not in run_id


class StoreBase:
    """Schema, table names, rendered statements and the connection of one store."""

    def __init__(
        self,
        source: ConnectionSource,
        *,
        schema: str = "public",
        tables: PostgresWorkflowStoreTables | Mapping[str, str] | None = None,
    ) -> None:
        self.schema = check_schema(schema)
        self.tables = resolve_tables(tables)
        self._sql = Statements.render(self.schema, self.tables)
        where = f"schema {self.schema!r} (table {quote(self.schema, self.tables.runs)})"
        self._db = Connector(source, where=where)

    async def _fetch(self, query: str, **params: Any) -> list[dict[str, Any]]:
        return await self._db.fetch(query, params)

    # -- lifecycle ---------------------------------------------------------------------

    async def ensure_schema(self) -> list[str]:
        """Create the schema and apply missing migrations; return the ids applied now.

        For tests and demos. Production applies migrations ahead of deploys
        (``python -m tanstack_workflow.store_postgres migrate``); the runtime never does.
        """
        async with self._db.connection() as conn:
            return await apply_migrations(conn, self.schema, self.tables)

    async def close(self) -> None:
        """Close the connection pool if the store created it (from a conninfo string)."""
        await self._db.close()

    async def _exists(self, run_id: str) -> bool:
        return findable(run_id) and bool(await self._fetch(self._sql.next_index, run_id=run_id))

    def _claim_params(
        self, now: int, limit: int, lease_owner: str, lease_ms: int
    ) -> dict[str, Any]:
        check_limit(limit, "limit")
        return {
            "now": bigint(now, "now"),
            "limit": bigint(limit, "limit"),
            "lease_owner": text(lease_owner, "lease owner"),
            "lease_expires_at": bigint(now + lease_ms, "lease expiry"),
        }
