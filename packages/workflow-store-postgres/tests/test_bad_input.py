"""Bad input Postgres could not even hold gets the same clear error, and nothing is stored.

The contract suite covers bad values and ids; these are the cases specific to Postgres:
NUL characters in text columns, integers beyond 64 bits, unknown run ids.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
import pytest

from tanstack_workflow.core import (
    ApprovalResult,
    SerializedError,
    SignalDelivery,
    StepFinished,
    WorkflowValidationError,
)
from tanstack_workflow.runtime import RunNotFoundError, ScheduleSpec
from tanstack_workflow.store_postgres import PostgresWorkflowExecutionStore

NUL = "a\x00b"
HUGE = 2**63


async def _row_counts(store: PostgresWorkflowExecutionStore, url: str) -> dict[str, Any]:
    counts = {}
    async with await psycopg.AsyncConnection.connect(url) as conn:
        for table in store.tables.names().values():
            cur = await conn.execute(
                f'SELECT count(*), md5(string_agg(t::text, \'\')) FROM "{store.schema}"."{table}" t'
            )
            counts[table] = await cur.fetchone()
    return counts


@pytest.fixture
async def world(store: PostgresWorkflowExecutionStore) -> PostgresWorkflowExecutionStore:
    await store.create_run(run_id="r", workflow_id="w", workflow_version=None, input=None, now=1)
    return store


def _calls(s: PostgresWorkflowExecutionStore) -> list[Callable[[], Awaitable[Any]]]:
    return [
        lambda: s.create_run(run_id="n", workflow_id=NUL, workflow_version=None, input=None, now=1),
        lambda: s.create_run(run_id="n", workflow_id="w", workflow_version=NUL, input=None, now=1),
        lambda: s.create_run(
            run_id="n", workflow_id="w", workflow_version=None, input=None, now=HUGE
        ),
        lambda: s.create_run(
            run_id="n",
            workflow_id="w",
            workflow_version=None,
            input=None,
            now=1,
            lease_owner=NUL,
            lease_ms=5,
        ),
        lambda: s.append_events(run_id="r", expected_next_index=0, events=[], now=HUGE),
        lambda: s.append_events(
            run_id="r", expected_next_index=0, events=[StepFinished(ts=1, step_id=NUL)], now=1
        ),
        lambda: s.mark_run_errored(
            run_id="r", error=SerializedError(name="E", message=NUL), code="error", now=1
        ),
        lambda: s.mark_run_errored(
            run_id="r", error=SerializedError(name="E", message="m"), code=NUL, now=1
        ),
        lambda: s.schedule_timer(run_id="r", wake_at=HUGE, now=1),
        lambda: s.schedule_timer(run_id="r", wake_at=5, now=1, step_id=NUL),
        lambda: s.claim_run(run_id="r", lease_owner=NUL, lease_ms=5, now=1),
        lambda: s.claim_due_timers(now=1, limit=HUGE, lease_owner="w", lease_ms=5),
        lambda: s.claim_stale_runs(now=1, limit=1, lease_owner=NUL, lease_ms=5),
        lambda: s.deliver_signal(
            run_id="r", delivery=SignalDelivery(signal_id=NUL, name="go"), now=1
        ),
        lambda: s.deliver_approval(
            run_id="r", approval=ApprovalResult(approved=True, approval_id=NUL), now=1
        ),
        lambda: s.cancel_run(run_id="r", reason=None, now=1, code=NUL),
        lambda: s.upsert_schedule(
            schedule_id="s",
            workflow_id=NUL,
            workflow_version=None,
            spec=ScheduleSpec(kind="interval", every_ms=5),
            overlap_policy="skip",
            input=None,
            next_fire_at=1,
            next_bucket_id="b",
            enabled=True,
            now=1,
        ),
        lambda: s.mark_schedule_bucket_started(schedule_id="s", bucket_id=NUL, run_id="r", now=1),
        lambda: s.list_runs(limit=HUGE),
    ]


async def test_values_postgres_cannot_hold_are_refused_and_nothing_changes(
    world: PostgresWorkflowExecutionStore, database_url: str
) -> None:
    before = await _row_counts(world, database_url)
    for call in _calls(world):
        with pytest.raises(WorkflowValidationError):
            await call()
    assert await _row_counts(world, database_url) == before


async def test_lookups_of_impossible_ids_find_nothing(
    world: PostgresWorkflowExecutionStore,
) -> None:
    assert await world.load_run(NUL) is None
    assert await world.load_execution(NUL) is None
    assert await world.read_events(NUL) == []
    assert await world.get_run_timeline(NUL) is None
    assert await world.load_run_state(NUL) is None
    assert (
        await world.claim_run(run_id=NUL, lease_owner="w", lease_ms=5, now=1)
    ).kind == "not-found"
    assert (await world.cancel_run(run_id=NUL, reason=None, now=1)).kind == "not-found"
    delivery = SignalDelivery(signal_id="x", name="go")
    assert (await world.deliver_signal(run_id=NUL, delivery=delivery, now=1)).kind == "not-found"
    assert not await world.heartbeat_run_lease(run_id=NUL, lease_owner="w", lease_ms=5, now=1)
    await world.release_run_lease(run_id=NUL, lease_owner="w", now=1)
    await world.delete_run(NUL, "finished")
    assert (await world.list_runs(workflow_id=NUL)).runs == []


async def test_unknown_runs_raise_run_not_found(world: PostgresWorkflowExecutionStore) -> None:
    with pytest.raises(RunNotFoundError):
        await world.append_events(run_id="nope", expected_next_index=0, events=[], now=1)
    # an unknown run is reported before the events are judged, as in the reference store
    with pytest.raises(RunNotFoundError):
        await world.append_events(
            run_id="nope", expected_next_index=0, events=[StepFinished(ts=1, step_id=NUL)], now=1
        )
    with pytest.raises(RunNotFoundError):
        await world.mark_run_paused(run_id="nope", awaiting=None, now=1)
    with pytest.raises(RunNotFoundError):
        await world.mark_run_errored(
            run_id="nope", error=SerializedError(name="E", message=NUL), code="e", now=1
        )
    with pytest.raises(RunNotFoundError):
        await world.schedule_timer(run_id="nope", wake_at=1, now=1)
    with pytest.raises(RunNotFoundError):
        await world.mark_run_paused(run_id=NUL, awaiting=None, now=1)


async def test_bad_cursor_is_a_value_error(world: PostgresWorkflowExecutionStore) -> None:
    for cursor in ("%%%", "bm90LWEtbnVtYmVy", 42):
        with pytest.raises(ValueError, match="invalid list_runs cursor"):
            await world.list_runs(cursor=cursor)  # type: ignore[arg-type]
