"""Real D1 (workerd through miniflare, over the REST API shape) versus the local binding.

These pin the D1 rules the local binding imitates, so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from d1_miniflare import MiniflareD1
from d1_test_helpers import T0

from tanstack_workflow.core import LogConflictError, StepFinished
from tanstack_workflow.runtime import StoreSchemaError
from tanstack_workflow.store_d1 import (
    D1Error,
    D1HttpDatabase,
    LocalD1Database,
    create_cloudflare_d1_workflow_store,
    get_cloudflare_d1_workflow_store_migrations,
)
from tanstack_workflow.store_d1._schema import split_statements


@pytest.fixture
async def http_db(miniflare: MiniflareD1) -> AsyncIterator[D1HttpDatabase]:
    db = miniflare.database()
    try:
        yield db
    finally:
        await db.close()


@pytest.mark.parametrize(
    "sql", ["BEGIN", "BEGIN TRANSACTION", "COMMIT", "ROLLBACK", "SAVEPOINT s", "RELEASE s"]
)
async def test_d1_and_the_local_binding_both_reject_transactions(
    http_db: D1HttpDatabase, local_db: LocalD1Database, sql: str
) -> None:
    with pytest.raises(D1Error, match="transaction"):
        await http_db.prepare(sql).run()
    with pytest.raises(D1Error, match="not allowed in D1"):
        await local_db.prepare(sql).run()


async def test_both_cap_bound_parameters_at_100(
    http_db: D1HttpDatabase, local_db: LocalD1Database
) -> None:
    for db in (http_db, local_db):
        sql = "SELECT " + ", ".join(f"? AS c{i}" for i in range(100))
        assert len(await db.prepare(sql).bind(*range(100)).first() or {}) == 100
        sql_101 = "SELECT " + ", ".join(f"? AS c{i}" for i in range(101))
        with pytest.raises(D1Error, match="too many SQL variables"):
            await db.prepare(sql_101).bind(*range(101)).all()


async def test_rest_params_arrive_as_text_and_cast_fixes_comparisons(
    http_db: D1HttpDatabase,
) -> None:
    row = (
        await http_db.prepare("SELECT typeof(?) AS t, CAST(? AS INTEGER) + 1 AS n")
        .bind(5, 5)
        .first()
    )
    assert row == {"t": "text", "n": 6}
    row = (
        await http_db.prepare("SELECT ? < 10 AS unsafe, CAST(? AS INTEGER) < 10 AS safe")
        .bind(9, 9)
        .first()
    )
    assert row == {"unsafe": 0, "safe": 1}  # '9' < 10 is false: TEXT sorts after INTEGER


async def test_d1_rounds_integers_beyond_2_pow_53_and_the_local_binding_refuses(
    http_db: D1HttpDatabase, local_db: LocalD1Database
) -> None:
    assert await http_db.prepare("SELECT 9007199254740993 AS v").first() == {"v": 2**53}
    with pytest.raises(D1Error, match="beyond 2\\^53"):
        await local_db.prepare("SELECT 9007199254740993 AS v").first()


async def test_d1_batches_are_atomic(http_db: D1HttpDatabase) -> None:
    await http_db.prepare("CREATE TABLE IF NOT EXISTS atomic_probe (v TEXT NOT NULL)").run()
    with pytest.raises(D1Error, match="NOT NULL"):
        await http_db.batch(
            [
                http_db.prepare("INSERT INTO atomic_probe (v) VALUES (?)").bind("first"),
                http_db.prepare("INSERT INTO atomic_probe (v) VALUES (NULL)"),
            ]
        )
    assert await http_db.prepare("SELECT COUNT(*) AS n FROM atomic_probe").first() == {"n": 0}


async def test_the_store_over_http_with_default_tables(http_db: D1HttpDatabase) -> None:
    store = create_cloudflare_d1_workflow_store(db=http_db)
    await store.ensure_schema()
    await store.ensure_schema()
    created = await store.create_run(
        run_id="http-run", workflow_id="wf", workflow_version="1", input={"big": 2**53}, now=T0
    )
    assert created.kind == "created"
    assert created.run.input == {"big": 2**53}  # JSON text keeps what numbers would lose
    event = StepFinished(ts=T0, step_id="s", result=[1, 2.5, None])
    assert (
        await store.append_events(run_id="http-run", expected_next_index=0, events=[event], now=T0)
        == 1
    )
    with pytest.raises(LogConflictError):
        await store.append_events(run_id="http-run", expected_next_index=0, events=[event], now=T0)
    assert [s.event for s in await store.read_events("http-run")] == [event]


async def test_an_unmigrated_d1_database_raises_store_schema_error(http_db: D1HttpDatabase) -> None:
    store = create_cloudflare_d1_workflow_store(db=http_db, tables={"runs": "never_migrated_runs"})
    with pytest.raises(StoreSchemaError, match="no such table"):
        await store.load_run("x")


async def test_the_packaged_migration_applies_on_d1(http_db: D1HttpDatabase) -> None:
    """Every statement of the migration file runs on D1, in one batch."""
    (name, sql), *_ = get_cloudflare_d1_workflow_store_migrations({"runs": "wrangler_runs"})
    assert name == "0000_workflow_store.sql"
    await http_db.batch([http_db.prepare(s) for s in split_statements(sql)])
    tables = await http_db.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'wrangler_runs'"
    ).all()
    assert tables.results == [{"name": "wrangler_runs"}]
