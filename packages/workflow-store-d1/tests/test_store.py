"""D1 store behaviour beyond the shared contract: schema, tables, batching, statement budget."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from d1_test_helpers import T0, CountingD1Database

from tanstack_workflow.core import LogConflictError, SignalAwaitable, SignalDelivery, StepFinished
from tanstack_workflow.runtime import (
    RunTransition,
    StoreSchemaError,
    WorkflowExecutionStore,
)
from tanstack_workflow.store_d1 import (
    CloudflareD1WorkflowStore,
    D1StoreTables,
    LocalD1Database,
    create_cloudflare_d1_workflow_store,
    get_cloudflare_d1_workflow_store_migration_sql,
    get_cloudflare_d1_workflow_store_migrations,
)
from tanstack_workflow.store_d1._schema import split_statements

MIGRATIONS_DIR = (
    Path(__file__).resolve().parent.parent / "src/tanstack_workflow/store_d1/migrations"
)


def step(n: int) -> StepFinished:
    return StepFinished(ts=T0, step_id=f"step-{n}", result={"n": n})


async def create(store: CloudflareD1WorkflowStore, run_id: str = "run-1") -> None:
    result = await store.create_run(
        run_id=run_id, workflow_id="wf", workflow_version=None, input={"x": 1}, now=T0
    )
    assert result.kind == "created"


def test_store_satisfies_the_protocol(store: CloudflareD1WorkflowStore) -> None:
    assert isinstance(store, WorkflowExecutionStore)


async def test_unmigrated_database_raises_store_schema_error(local_db: LocalD1Database) -> None:
    store = create_cloudflare_d1_workflow_store(db=local_db)
    with pytest.raises(StoreSchemaError, match="wrangler d1 migrations apply"):
        await store.load_run("run-1")
    with pytest.raises(StoreSchemaError, match=r"ensure_schema\(\)"):
        await create(store)


async def test_ensure_schema_is_repeatable_and_recorded_like_wrangler(
    local_db: LocalD1Database,
) -> None:
    store = create_cloudflare_d1_workflow_store(db=local_db)
    await store.ensure_schema()
    await create(store)
    await store.ensure_schema()
    assert await store.load_run("run-1") is not None
    applied = await local_db.prepare("SELECT name FROM d1_migrations ORDER BY id").all()
    assert [r["name"] for r in applied.results] == ["0000_workflow_store.sql"]


def test_packaged_migrations_are_the_files_in_wrangler_layout() -> None:
    migrations = get_cloudflare_d1_workflow_store_migrations()
    files = sorted(p.name for p in MIGRATIONS_DIR.glob("*.sql"))
    assert [name for name, _ in migrations] == files
    assert all(re.fullmatch(r"\d{4}_[a-z0-9_]+\.sql", name) for name in files)
    assert migrations[0][1] == (MIGRATIONS_DIR / files[0]).read_text()
    script = get_cloudflare_d1_workflow_store_migration_sql()
    for statement in split_statements(script):
        assert not re.match(r"(?i)\s*(BEGIN|COMMIT|PRAGMA)", statement)


def test_table_overrides_rename_tables_and_indexes() -> None:
    sql = get_cloudflare_d1_workflow_store_migration_sql({"runs": "my_runs"})
    assert '"my_runs"' in sql
    assert '"my_runs__due_timers"' in sql
    assert '"workflow_runs' not in sql
    assert '"workflow_events"' in sql  # untouched tables keep their names
    assert '"workflow_schedule_buckets"' in sql


@pytest.mark.parametrize(
    ("tables", "message"),
    [
        ({"runz": "x"}, "unknown table key"),
        ({"runs": "bad name"}, "invalid table name"),
        ({"runs": 'x"; DROP TABLE y; --'}, "invalid table name"),
        ({"runs": "1runs"}, "invalid table name"),
        ({"runs": "_cf_runs"}, "reserved"),
        ({"runs": "sqlite_runs"}, "reserved"),
        ({"runs": "d1_migrations"}, "reserved"),
        ({"runs": "same", "events": "SAME"}, "distinct"),
    ],
)
def test_table_overrides_are_validated(
    local_db: LocalD1Database, tables: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        create_cloudflare_d1_workflow_store(db=local_db, tables=tables)


async def test_custom_tables_work_side_by_side(local_db: LocalD1Database) -> None:
    tables = D1StoreTables(
        runs="a_runs", events="a_events", schedules="a_schedules", schedule_buckets="a_buckets"
    )
    custom = create_cloudflare_d1_workflow_store(db=local_db, tables=tables)
    default = create_cloudflare_d1_workflow_store(db=local_db)
    await custom.ensure_schema()
    await default.ensure_schema()
    await create(custom, "only-in-custom")
    assert await default.load_run("only-in-custom") is None
    assert await custom.load_run("only-in-custom") is not None


async def test_large_appends_split_under_the_parameter_limit(
    store: CloudflareD1WorkflowStore,
) -> None:
    await create(store)
    events = [step(n) for n in range(40)]  # 40 x 6 parameters: three INSERTs in one batch
    assert (
        await store.append_events(run_id="run-1", expected_next_index=0, events=events, now=T0)
        == 40
    )
    stored = await store.read_events("run-1")
    assert [s.event for s in stored] == events
    assert [s.event_index for s in stored] == list(range(40))


async def test_a_lost_cas_inserts_nothing_even_for_large_appends(
    store: CloudflareD1WorkflowStore,
) -> None:
    await create(store)
    await store.append_events(run_id="run-1", expected_next_index=0, events=[step(0)], now=T0)
    with pytest.raises(LogConflictError) as caught:
        await store.append_events(
            run_id="run-1",
            expected_next_index=0,
            events=[step(n) for n in range(1, 40)],
            now=T0,
            transition=RunTransition(status="finished", output="nope"),
        )
    assert caught.value.actual_next_index == 1
    run = await store.load_run("run-1")
    assert run is not None
    assert (run.status, run.next_index) == ("running", 1)
    assert len(await store.read_events("run-1")) == 1


async def test_statement_budget(local_db: LocalD1Database) -> None:
    """One round trip per step; deliveries read once and write one batch."""
    db = CountingD1Database(local_db)
    store = create_cloudflare_d1_workflow_store(db=db)
    await store.ensure_schema()
    await create(store)
    db.trace.reset()
    await store.append_events(run_id="run-1", expected_next_index=0, events=[step(0)], now=T0)
    assert (db.trace.round_trips, len(db.trace.statements)) == (1, 2)

    db.trace.reset()
    claimed = await store.claim_run(
        run_id="run-1", lease_owner="w", lease_ms=1_000, now=T0, with_events=True
    )
    assert claimed.kind == "claimed"
    assert (db.trace.round_trips, len(db.trace.statements)) == (1, 2)

    await store.mark_run_paused(
        run_id="run-1",
        awaiting=[{"type": "signal", "stepId": "w", "signalName": "go"}],
        now=T0,
    )
    # dicts are validated into awaitables by the transition, as in the in-memory store
    db.trace.reset()
    await store.schedule_timer(run_id="run-1", wake_at=T0 + 5, now=T0)
    timers = await store.claim_due_timers(now=T0 + 5, limit=10, lease_owner="s", lease_ms=1_000)
    assert [t.run_id for t in timers] == ["run-1"]
    assert (db.trace.round_trips, len(db.trace.statements)) == (2, 2)

    db.trace.reset()
    await store.cancel_run(run_id="run-1", reason=None, now=T0)
    assert (db.trace.round_trips, len(db.trace.statements)) == (1, 2)
    assert not any(re.match(r"(?i)\s*(BEGIN|COMMIT|SAVEPOINT)", s) for s in db.trace.statements)


async def test_signal_delivery_reads_once_and_commits_one_batch(local_db: LocalD1Database) -> None:
    db = CountingD1Database(local_db)
    store = create_cloudflare_d1_workflow_store(db=db)
    await store.ensure_schema()
    await create(store)
    await store.mark_run_paused(
        run_id="run-1", awaiting=[SignalAwaitable(step_id="w", signal_name="go")], now=T0
    )
    db.trace.reset()
    delivered = await store.deliver_signal(
        run_id="run-1", delivery=SignalDelivery(signal_id="s1", name="go", payload=1), now=T0
    )
    assert delivered.kind == "delivered"
    assert (db.trace.round_trips, len(db.trace.statements)) == (2, 3)
    again = await store.deliver_signal(
        run_id="run-1", delivery=SignalDelivery(signal_id="s1", name="go", payload=1), now=T0
    )
    assert again.kind == "duplicate"
