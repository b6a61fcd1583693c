"""Round trips are the cost: every store operation is one SQL statement.

Counts statements at the store's single execution point. (Timings are for benchmarks/,
never for tests.)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tanstack_workflow.core import (
    ApprovalAwaitable,
    ApprovalResult,
    LogConflictError,
    RunState,
    SerializedError,
    SignalAwaitable,
    SignalAwaited,
    SignalDelivery,
    StepFinished,
)
from tanstack_workflow.runtime import RunTransition, ScheduleSpec, split_awaiting
from tanstack_workflow.store_postgres import PostgresWorkflowExecutionStore


class Counter:
    def __init__(self, store: PostgresWorkflowExecutionStore) -> None:
        self.count = 0
        fetch = store._db.fetch

        async def counting(query: str, params: Any) -> list[dict[str, Any]]:
            self.count += 1
            return await fetch(query, params)

        store._db.fetch = counting  # type: ignore[method-assign]

    async def __call__(self, call: Awaitable[Any]) -> int:
        before = self.count
        await call
        return self.count - before


def _pause_on(name: str) -> RunTransition:
    wait = SignalAwaitable(step_id="wait", signal_name=name, deadline=5)
    waiting_for, _ = split_awaiting([wait])
    return RunTransition(
        status="paused",
        awaiting=[wait],
        waiting_for=waiting_for,
        wake_at=5,
        wake_kind="deadline",
        wake_step_id="wait",
    )


async def test_every_happy_path_is_one_statement(store: PostgresWorkflowExecutionStore) -> None:
    s = store
    n = Counter(s)
    step = [StepFinished(ts=1, step_id="s", result=1)]
    calls: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
        (
            "create_run",
            lambda: s.create_run(
                run_id="r", workflow_id="w", workflow_version=None, input=1, now=1
            ),
        ),
        (
            "create_run existing",
            lambda: s.create_run(
                run_id="r", workflow_id="w", workflow_version=None, input=1, now=1
            ),
        ),
        (
            "claim_run",
            lambda: s.claim_run(run_id="r", lease_owner="a", lease_ms=10, now=1, with_events=True),
        ),
        (
            "heartbeat",
            lambda: s.heartbeat_run_lease(run_id="r", lease_owner="a", lease_ms=10, now=2),
        ),
        (
            "append_events",
            lambda: s.append_events(run_id="r", expected_next_index=0, events=step, now=2),
        ),
        (
            "append_events + pause",
            lambda: s.append_events(
                run_id="r",
                expected_next_index=1,
                events=[SignalAwaited(ts=2, step_id="wait", name="go", deadline=5)],
                now=2,
                transition=_pause_on("go"),
            ),
        ),
        (
            "claim_due_timers",
            lambda: s.claim_due_timers(now=6, limit=10, lease_owner="t", lease_ms=10),
        ),
        ("release", lambda: s.release_run_lease(run_id="r", lease_owner="t", now=6)),
        (
            "deliver_signal",
            lambda: s.deliver_signal(
                run_id="r", delivery=SignalDelivery(signal_id="1", name="go"), now=7
            ),
        ),
        (
            "deliver_signal dup",
            lambda: s.deliver_signal(
                run_id="r", delivery=SignalDelivery(signal_id="1", name="go"), now=7
            ),
        ),
        (
            "claim_stale_runs",
            lambda: s.claim_stale_runs(now=7, limit=10, lease_owner="s", lease_ms=10),
        ),
        (
            "mark_run_paused",
            lambda: s.mark_run_paused(
                run_id="r",
                awaiting=[ApprovalAwaitable(step_id="ap", approval_id="a1", title="t")],
                now=8,
            ),
        ),
        ("schedule_timer", lambda: s.schedule_timer(run_id="r", wake_at=20, now=8)),
        (
            "deliver_approval",
            lambda: s.deliver_approval(
                run_id="r", approval=ApprovalResult(approved=True, approval_id="a1"), now=9
            ),
        ),
        ("load_run", lambda: s.load_run("r")),
        ("load_execution", lambda: s.load_execution("r", from_index=1)),
        ("read_events", lambda: s.read_events("r")),
        ("get_run_timeline", lambda: s.get_run_timeline("r")),
        ("list_runs", lambda: s.list_runs(workflow_id="w", limit=1)),
        ("cancel_run", lambda: s.cancel_run(run_id="r", reason=None, now=10)),
        ("cancel_run again", lambda: s.cancel_run(run_id="r", reason=None, now=10)),
        ("mark_run_finished", lambda: s.mark_run_finished(run_id="r", output=1, now=11)),
        (
            "mark_run_errored",
            lambda: s.mark_run_errored(
                run_id="r", error=SerializedError(name="E", message="m"), code="e", now=11
            ),
        ),
        (
            "upsert_schedule",
            lambda: s.upsert_schedule(
                schedule_id="sc",
                workflow_id="w",
                workflow_version=None,
                spec=ScheduleSpec(kind="interval", every_ms=5),
                overlap_policy="skip",
                input=None,
                next_fire_at=1,
                next_bucket_id="b",
                enabled=True,
                now=1,
            ),
        ),
        (
            "claim_due_schedule_buckets",
            lambda: s.claim_due_schedule_buckets(now=2, limit=5, lease_owner="x", lease_ms=5),
        ),
        (
            "mark_schedule_bucket_started",
            lambda: s.mark_schedule_bucket_started(
                schedule_id="sc", bucket_id="b", run_id="q", now=2
            ),
        ),
        ("list_schedules", lambda: s.list_schedules()),
        (
            "save_run_state",
            lambda: s.save_run_state(
                RunState(run_id="q", status="running", workflow_id="w", created_at=1, updated_at=1),
                now=3,
            ),
        ),
        ("load_run_state", lambda: s.load_run_state("q")),
        ("delete_run", lambda: s.delete_run("q", "finished")),
        ("delete_terminal_runs", lambda: s.delete_terminal_runs(older_than_ms=0, now=100)),
    ]
    counts = {name: await n(call()) for name, call in calls}
    assert counts == dict.fromkeys(counts, 1)


async def test_a_lost_cas_costs_one_more_statement(store: PostgresWorkflowExecutionStore) -> None:
    await store.create_run(run_id="r", workflow_id="w", workflow_version=None, input=1, now=1)
    n = Counter(store)
    with pytest.raises(LogConflictError) as info:
        await n(store.append_events(run_id="r", expected_next_index=3, events=[], now=2))
    assert n.count == 2
    assert info.value.actual_next_index == 0
