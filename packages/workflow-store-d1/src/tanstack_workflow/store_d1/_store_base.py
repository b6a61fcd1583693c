"""Shared plumbing of the D1 store: statement helpers, schema errors, run reads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tanstack_workflow.runtime import StoreSchemaError, WorkflowExecution

from ._binding import D1Database, D1Error, D1Result, Row
from ._rows import EVENT_COLUMNS, RUN_COLUMNS, column_list, run_from_row
from ._schema import D1StoreTables, quote_identifier

Statement = tuple[str, Sequence[Any]]

_SCHEMA_ERRORS = ("no such table", "no such column", "has no column named", "no such index")


def schema_error(exc: D1Error) -> StoreSchemaError | None:
    """A ``StoreSchemaError`` when ``exc`` says the schema is missing or outdated."""
    text = str(exc).lower()
    if not any(marker in text for marker in _SCHEMA_ERRORS):
        return None
    return StoreSchemaError(
        f"the D1 workflow store schema is missing or outdated ({exc}). Apply the package "
        "migrations: write get_cloudflare_d1_workflow_store_migrations() into your "
        "migrations directory and run `wrangler d1 migrations apply <database>`, or call "
        "`await store.ensure_schema()` (tests, demos, local files)."
    )


class D1StoreBase:
    """Holds the binding and table names; runs statements, mapping schema errors."""

    def __init__(self, db: D1Database, tables: Mapping[str, str] | D1StoreTables | None) -> None:
        self.db = db
        self.tables = D1StoreTables.resolve(tables)
        quoted = self.tables.quoted()
        self._runs = quoted["runs"]
        self._events = quoted["events"]
        self._schedules = quoted["schedules"]
        self._buckets = quoted["schedule_buckets"]
        self._run_cols = column_list(RUN_COLUMNS)
        self._event_cols = column_list(EVENT_COLUMNS)

    def _index(self, suffix: str) -> str:
        # Without ANALYZE statistics SQLite prefers the (status, ...) index and sorts;
        # the claims name their partial index so they read only due rows, in order.
        return quote_identifier(f"{self.tables.runs}__{suffix}")

    async def _all(self, sql: str, *params: Any) -> list[Row]:
        try:
            result = await self.db.prepare(sql).bind(*params).all()
        except D1Error as exc:
            raise schema_error(exc) or exc from exc
        return result.results

    async def _query(self, statement: Statement) -> list[Row]:
        sql, params = statement
        return await self._all(sql, *params)

    async def _batch(self, statements: Sequence[Statement]) -> list[D1Result]:
        try:
            return await self.db.batch([self.db.prepare(sql).bind(*p) for sql, p in statements])
        except D1Error as exc:
            raise schema_error(exc) or exc from exc

    # -- shared reads --------------------------------------------------------------

    def _select_run(self, run_id: str) -> Statement:
        return f"SELECT {self._run_cols} FROM {self._runs} WHERE run_id = ?", (run_id,)

    def _select_events(self, run_id: str, from_index: int = 0) -> Statement:
        return (
            f"SELECT {self._event_cols} FROM {self._events} "
            "WHERE run_id = ? AND event_index >= CAST(? AS INTEGER) ORDER BY event_index",
            (run_id, from_index),
        )

    async def _load_run_row(self, run_id: str) -> Row | None:
        rows = await self._query(self._select_run(run_id))
        return rows[0] if rows else None

    async def load_run(self, run_id: str) -> WorkflowExecution | None:
        """The run, or ``None``."""
        row = await self._load_run_row(run_id)
        return run_from_row(row) if row is not None else None
