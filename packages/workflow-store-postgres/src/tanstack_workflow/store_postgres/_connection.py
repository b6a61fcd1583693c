"""How the store reaches Postgres: a pool it owns, a caller's pool, or one connection."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg import errors
from psycopg.rows import dict_row
from psycopg.types.numeric import Int8BinaryDumper, Int8Dumper
from psycopg_pool import AsyncConnectionPool

from tanstack_workflow.runtime import StoreSchemaError

MIGRATE_HINT = (
    "apply the store's migration first: "
    '`python -m tanstack_workflow.store_postgres migrate --database-url "$DATABASE_URL"` '
    '(or psql -f "$(python -m tanstack_workflow.store_postgres migration-path)"); '
    "tests and demos may call `await store.ensure_schema()`"
)

# What an unmigrated or outdated database answers: missing table, column or schema.
_SCHEMA_ERRORS = (errors.UndefinedTable, errors.UndefinedColumn, errors.InvalidSchemaName)

# A pool may hold several dead connections after a server restart: try a few.
LOST_CONNECTION_ATTEMPTS = 3

ConnectionSource = str | AsyncConnectionPool[Any] | psycopg.AsyncConnection[Any]


def schema_error(exc: psycopg.Error, where: str) -> StoreSchemaError:
    """The error a store pointed at an unmigrated database raises."""
    detail = exc.diag.message_primary or str(exc)
    return StoreSchemaError(
        f"Postgres workflow store schema missing or outdated in {where}: {detail}; {MIGRATE_HINT}"
    )


class Connector:
    """Runs one statement at a time on a connection from ``source``.

    * a conninfo string: the store owns an ``AsyncConnectionPool`` (autocommit, statements
      prepared on first use), opened on first use and closed by ``close()``;
    * an ``AsyncConnectionPool``: connections are borrowed per statement; the caller
      configures and closes the pool;
    * an ``AsyncConnection``: used by one statement at a time (an ``asyncio.Lock``);
      the caller closes it.

    Autocommit connections cost one round trip per statement. A connection that is not
    autocommit works too, at the price of a COMMIT after each statement.
    """

    def __init__(self, source: ConnectionSource, *, where: str) -> None:
        self._where = where
        self._owned = isinstance(source, str)
        self._opened = False
        self._open_lock = asyncio.Lock()
        self._conn_lock = asyncio.Lock()
        self._pool: AsyncConnectionPool[Any] | None = None
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._conninfo = source if isinstance(source, str) else ""
        if isinstance(source, str):
            self._pool = AsyncConnectionPool(
                source,
                min_size=1,
                max_size=10,
                kwargs={"autocommit": True, "prepare_threshold": 0},
                configure=_configure,
                open=False,
                name="tanstack-workflow-store-postgres",
            )
        elif isinstance(source, AsyncConnectionPool):
            self._pool = source
            self._opened = True
        elif isinstance(source, psycopg.AsyncConnection):
            self._conn = source
        else:
            raise TypeError(
                "create_postgres_workflow_store() takes a conninfo string, a "
                "psycopg_pool.AsyncConnectionPool or a psycopg.AsyncConnection, "
                f"not {type(source).__name__} (the store is async: use the Async* classes)"
            )

    @property
    def owns_pool(self) -> bool:
        """True when the store created the pool (from a conninfo string)."""
        return self._owned

    async def _ensure_open(self) -> None:
        if self._opened:
            return
        async with self._open_lock:
            if not self._opened:
                assert self._pool is not None
                # One direct connection first: a wrong URL, password or database fails
                # now with the server's own message instead of a pool timeout later.
                probe = await psycopg.AsyncConnection.connect(self._conninfo)
                await probe.close()
                await self._pool.open(wait=True, timeout=30.0)
                self._opened = True

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A connection for one unit of work (committed at the end if not autocommit)."""
        if self._conn is not None:
            # Leaves the connection idle: commit on success, roll back on error.
            async with self._conn_lock, _transaction_end(self._conn):
                yield self._conn
            return
        await self._ensure_open()
        assert self._pool is not None
        async with self._pool.connection() as conn:
            yield conn

    async def fetch(self, query: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Run one statement; return its rows as dicts (empty without a result set).

        With a pool, a statement that fails because its connection was lost (a server
        restart, ``pg_terminate_backend``, an idle-connection killer) is run again on
        another connection, after the pool dropped its other dead connections, up to
        ``LOST_CONNECTION_ATTEMPTS`` times. That is safe
        because every statement is idempotent or a compare-and-swap: if the lost one did
        commit, running it again reports a log conflict, an existing run or a duplicate
        delivery rather than writing twice.

        This is the store's hot path, so it borrows with ``getconn``/``putconn`` rather
        than ``pool.connection()`` (whose connection context manager costs a lock and a
        commit call per statement even in autocommit): same outcome, ~20 µs less.
        """
        attempt = 1
        while True:
            conn: psycopg.AsyncConnection[Any] | None = None
            try:
                if self._pool is None:
                    assert self._conn is not None
                    async with self._conn_lock:
                        conn = self._conn
                        return await _run(conn, query, params)
                if not self._opened:
                    await self._ensure_open()
                conn = await self._pool.getconn()
                try:
                    return await _run(conn, query, params)
                finally:
                    await self._pool.putconn(conn)
            except _SCHEMA_ERRORS as exc:
                raise schema_error(exc, self._where) from exc
            except psycopg.OperationalError as exc:
                lost = _connection_lost(exc, conn)
                if self._pool is None or not lost or attempt >= LOST_CONNECTION_ATTEMPTS:
                    raise
                attempt += 1
                # One lost connection usually means more (a restart, a failover): drop
                # every dead idle connection before trying again.
                await self._pool.check()

    async def close(self) -> None:
        """Close the pool if the store owns it."""
        if self._owned and self._pool is not None and self._opened:
            await self._pool.close()


# Server-side reasons a session ends: admin_shutdown (pg_terminate_backend), crash_shutdown,
# cannot_connect_now, idle_session_timeout; and class 08, connection exceptions.
_LOST_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "57P05"})


def _connection_lost(exc: psycopg.Error, conn: psycopg.AsyncConnection[Any] | None) -> bool:
    """True when ``exc`` means the session is gone, not that the statement was refused."""
    if conn is not None and (conn.broken or conn.closed):
        return True
    state = exc.sqlstate or ""
    return state in _LOST_SQLSTATES or state.startswith("08")


async def _configure(conn: psycopg.AsyncConnection[Any]) -> None:
    # Every int as int8: otherwise psycopg types each int parameter by its value
    # (int2/int4/int8) and one statement becomes several prepared statements.
    conn.adapters.register_dumper(int, Int8Dumper)
    conn.adapters.register_dumper(int, Int8BinaryDumper)


async def _run(
    conn: psycopg.AsyncConnection[Any], query: str, params: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """One statement on ``conn``, left idle: committed (or rolled back) unless autocommit."""
    try:
        cur = conn.cursor(row_factory=dict_row)
        await cur.execute(query, params)
        rows = await cur.fetchall() if cur.description is not None else []
        if not conn.autocommit:
            await conn.commit()
        return rows
    except BaseException:
        if not conn.autocommit and not conn.closed:
            # The original error matters more than a failed rollback.
            with contextlib.suppress(psycopg.Error):
                await conn.rollback()
        raise


@asynccontextmanager
async def _transaction_end(conn: psycopg.AsyncConnection[Any]) -> AsyncIterator[None]:
    try:
        yield
    except BaseException:
        if not conn.autocommit and not conn.closed:
            # The original error matters more than a failed rollback.
            with contextlib.suppress(psycopg.Error):
                await conn.rollback()
        raise
    if not conn.autocommit:
        await conn.commit()
