"""The three connection sources: conninfo (owned pool), a caller's pool, one connection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from tanstack_workflow.core import LogConflictError, StepFinished
from tanstack_workflow.store_postgres import (
    PostgresWorkflowExecutionStore,
    create_postgres_workflow_store,
)
from tanstack_workflow.store_postgres.testing import drop_schema, random_schema_name


@pytest.fixture
async def schema(database_url: str) -> AsyncIterator[str]:
    """A migrated schema (the stores under test share it)."""
    name = random_schema_name()
    migrator = create_postgres_workflow_store(database_url, schema=name)
    await migrator.ensure_schema()
    await migrator.close()
    yield name
    await drop_schema(database_url, name)


async def _exercise(store: PostgresWorkflowExecutionStore, run_id: str) -> None:
    created = await store.create_run(
        run_id=run_id, workflow_id="w", workflow_version=None, input={"x": 1}, now=1
    )
    assert created.kind == "created"
    events = [StepFinished(ts=1, step_id="s", result=1)]
    assert (
        await store.append_events(run_id=run_id, expected_next_index=0, events=events, now=2) == 1
    )
    with pytest.raises(LogConflictError):
        await store.append_events(run_id=run_id, expected_next_index=0, events=events, now=3)
    loaded = await store.load_execution(run_id)
    assert loaded is not None
    assert [e.event for e in loaded.events] == events


async def _visible_elsewhere(database_url: str, schema: str, run_id: str) -> bool:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        cur = await conn.execute(
            f'SELECT next_index FROM "{schema}".workflow_runs WHERE run_id = %s', [run_id]
        )
        return await cur.fetchone() == (1,)


async def test_conninfo_store_owns_and_closes_its_pool(database_url: str, schema: str) -> None:
    store = create_postgres_workflow_store(database_url, schema=schema)
    await _exercise(store, "a")
    pool = store._db._pool
    assert pool is not None
    await store.close()
    assert pool.closed
    assert await _visible_elsewhere(database_url, schema, "a")


async def test_callers_pool_is_borrowed_not_closed(database_url: str, schema: str) -> None:
    async with AsyncConnectionPool(database_url, min_size=1, max_size=2, open=False) as pool:
        store = create_postgres_workflow_store(pool, schema=schema)
        await _exercise(store, "b")
        # Non-autocommit pool connections: the pool commits at the end of each statement.
        await asyncio.gather(*(_exercise(store, f"b{i}") for i in range(6)))
        await store.close()
        assert not pool.closed
        assert await _visible_elsewhere(database_url, schema, "b")


@pytest.mark.parametrize("autocommit", [True, False])
async def test_a_failed_statement_leaves_the_pooled_connection_usable(
    database_url: str, schema: str, autocommit: bool
) -> None:
    async with AsyncConnectionPool(
        database_url, min_size=1, max_size=1, kwargs={"autocommit": autocommit}, open=False
    ) as pool:
        store = create_postgres_workflow_store(pool, schema=schema)
        await _exercise(store, "e")
        with pytest.raises(psycopg.errors.DivisionByZero):
            await store._fetch("SELECT 1 / 0")
        with pytest.raises(LogConflictError):
            await store.append_events(
                run_id="e", expected_next_index=0, events=[StepFinished(ts=1, step_id="s")], now=3
            )
        await _exercise(store, "e2")  # the same (only) connection, rolled back and idle
        async with pool.connection() as conn:
            assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert await _visible_elsewhere(database_url, schema, "e2")


@pytest.mark.parametrize("autocommit", [True, False])
async def test_single_connection_is_serialized(
    database_url: str, schema: str, autocommit: bool
) -> None:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=autocommit) as conn:
        store = create_postgres_workflow_store(conn, schema=schema)
        await asyncio.gather(*(_exercise(store, f"c{i}") for i in range(5)))
        await store.close()
        assert not conn.closed
        # every statement was committed, the connection is idle again
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert await _visible_elsewhere(database_url, schema, "c0")


async def test_ensure_schema_through_a_non_autocommit_connection(database_url: str) -> None:
    name = random_schema_name()
    try:
        async with await psycopg.AsyncConnection.connect(database_url) as conn:
            store = create_postgres_workflow_store(conn, schema=name)
            assert await store.ensure_schema() == ["0000_workflow_store"]
            assert not conn.autocommit
            await _exercise(store, "d")
    finally:
        await drop_schema(database_url, name)


async def test_unreachable_server_fails_fast_with_the_real_error() -> None:
    store = create_postgres_workflow_store("postgresql://nobody@127.0.0.1:1/x?connect_timeout=2")
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(psycopg.OperationalError):
        await store.load_run("r")
    assert loop.time() - started < 10
    await store.close()


async def _terminate(database_url: str, application_name: str) -> int:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        cur = await conn.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = %s",
            [application_name],
        )
        row = await cur.fetchone()
        return int(row[0]) if row else 0


async def test_pooled_store_survives_terminated_connections(database_url: str, schema: str) -> None:
    app = f"tw_lost_{schema[-12:]}"
    async with AsyncConnectionPool(
        database_url,
        min_size=4,
        max_size=4,
        kwargs={"autocommit": True, "application_name": app},
        open=False,
    ) as pool:
        await pool.wait()
        store = create_postgres_workflow_store(pool, schema=schema)
        await _exercise(store, "e")
        assert await _terminate(database_url, app) == 4
        # every pooled connection is dead: the statement is retried on a fresh one
        assert (await store.load_run("e")) is not None
        await _exercise(store, "f")


async def test_single_connection_reports_a_terminated_session(
    database_url: str, schema: str
) -> None:
    app = f"tw_lost1_{schema[-12:]}"
    async with await psycopg.AsyncConnection.connect(
        database_url, autocommit=True, application_name=app
    ) as conn:
        store = create_postgres_workflow_store(conn, schema=schema)
        await _exercise(store, "g")
        assert await _terminate(database_url, app) == 1
        with pytest.raises(psycopg.OperationalError):
            await store.load_run("g")
