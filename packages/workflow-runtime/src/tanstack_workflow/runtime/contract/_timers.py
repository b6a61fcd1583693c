"""Timers: arming, due claims once per lease window, and disarming."""

from __future__ import annotations

import pytest

from tanstack_workflow.core import ApprovalResult, SignalDelivery

from .._memory import timer_signal_id
from .._models import RunTransition
from .._store import RunNotFoundError, WorkflowExecutionStore
from ._fixtures import (
    LEASE_MS,
    T0,
    WORKFLOW_ID,
    StoreFixtures,
    append,
    approval_wait,
    create,
    must_load,
    pause_on_signal,
    pause_transition,
    signal_wait,
    step_event,
)


async def _sleeping(
    store: WorkflowExecutionStore, run_id: str, wake_at: int, now: int = T0
) -> None:
    """A run paused in ``ctx.sleep`` until ``wake_at``."""
    await create(store, run_id, now=now)
    sleep = signal_wait("__timer", f"sleep-{run_id}", deadline=wake_at)
    transition = pause_transition(sleep, wake_at=wake_at, wake_step_id=f"sleep-{run_id}")
    await append(store, run_id, step_event(0), now=now, transition=transition)


async def _due(
    store: WorkflowExecutionStore, now: int, owner: str = "sweeper", limit: int = 10
) -> list[str]:
    wakeups = await store.claim_due_timers(
        now=now, limit=limit, lease_owner=owner, lease_ms=LEASE_MS
    )
    return [w.run_id for w in wakeups]


class TimerContract(StoreFixtures):
    """``schedule_timer`` / ``wake_at`` transitions and ``claim_due_timers``."""

    async def test_a_due_timer_is_handed_out_with_its_details(
        self, store: WorkflowExecutionStore
    ) -> None:
        await _sleeping(store, "run-1", T0 + 1_000)
        assert await _due(store, T0 + 999) == []
        [wakeup] = await store.claim_due_timers(
            now=T0 + 1_000, limit=10, lease_owner="sweeper", lease_ms=LEASE_MS
        )
        assert (wakeup.run_id, wakeup.workflow_id, wakeup.workflow_version) == (
            "run-1",
            WORKFLOW_ID,
            None,
        )
        assert (wakeup.wake_at, wakeup.wake_kind, wakeup.step_id) == (
            T0 + 1_000,
            "timer",
            "sleep-run-1",
        )
        assert wakeup.signal_id == timer_signal_id("run-1", "sleep-run-1", T0 + 1_000)
        assert (wakeup.lease_owner, wakeup.lease_expires_at) == ("sweeper", T0 + 1_000 + LEASE_MS)
        run = await must_load(store, "run-1")
        assert (run.lease_owner, run.lease_expires_at) == ("sweeper", T0 + 1_000 + LEASE_MS)
        assert (run.status, run.wake_at) == ("paused", T0 + 1_000)

    async def test_a_due_timer_can_bring_its_run_and_log(
        self, store: WorkflowExecutionStore
    ) -> None:
        await _sleeping(store, "run-1", T0 + 1_000)
        await _sleeping(store, "run-2", T0 + 2_000)
        wakeups = await store.claim_due_timers(
            now=T0 + 2_000, limit=10, lease_owner="sweeper", lease_ms=LEASE_MS, with_events=True
        )
        assert [w.run_id for w in wakeups] == ["run-1", "run-2"]
        for wakeup in wakeups:
            stored = await must_load(store, wakeup.run_id)
            assert wakeup.run == stored  # the leased row, as load_run now reports it
            assert (stored.lease_owner, stored.lease_expires_at) == (
                "sweeper",
                T0 + 2_000 + LEASE_MS,
            )
            assert wakeup.events == await store.read_events(wakeup.run_id)
            assert [e.event_type for e in wakeup.events or ()] == ["STEP_FINISHED"]
        plain = await store.claim_due_timers(
            now=T0 + 2_000 + LEASE_MS, limit=10, lease_owner="other", lease_ms=LEASE_MS
        )
        assert [(w.run, w.events) for w in plain] == [(None, None), (None, None)]

    async def test_schedule_timer_arms_a_paused_run(self, store: WorkflowExecutionStore) -> None:
        await create(store, "run-1")
        await store.mark_run_paused(run_id="run-1", awaiting=[signal_wait()], now=T0)
        await store.schedule_timer(
            run_id="run-1", wake_at=T0 + 500, now=T0 + 1, wake_kind="deadline", step_id="wait-1"
        )
        run = await must_load(store, "run-1")
        assert (run.wake_at, run.wake_kind, run.wake_step_id) == (T0 + 500, "deadline", "wait-1")
        [wakeup] = await store.claim_due_timers(
            now=T0 + 600, limit=10, lease_owner="sweeper", lease_ms=LEASE_MS
        )
        assert (wakeup.wake_kind, wakeup.step_id) == ("deadline", "wait-1")
        assert wakeup.signal_id == timer_signal_id("run-1", "wait-1", T0 + 500)

    async def test_schedule_timer_on_a_missing_run_raises(
        self, store: WorkflowExecutionStore
    ) -> None:
        with pytest.raises(RunNotFoundError):
            await store.schedule_timer(run_id="nope", wake_at=T0, now=T0)
        assert await store.load_run("nope") is None

    async def test_only_paused_runs_are_woken(self, store: WorkflowExecutionStore) -> None:
        await create(store, "running")
        await store.schedule_timer(run_id="running", wake_at=T0 + 10, now=T0)
        await create(store, "finished")
        await store.schedule_timer(run_id="finished", wake_at=T0 + 10, now=T0)
        await store.mark_run_finished(run_id="finished", output=None, now=T0)
        await _sleeping(store, "paused", T0 + 10)
        assert await _due(store, T0 + 10) == ["paused"]

    async def test_earliest_timers_first_and_limit(self, store: WorkflowExecutionStore) -> None:
        for run_id, wake_at in (("c", T0 + 300), ("a", T0 + 100), ("b", T0 + 200), ("d", T0 + 900)):
            await _sleeping(store, run_id, wake_at)
        assert await _due(store, T0 + 500, limit=0) == []
        assert await _due(store, T0 + 500, limit=2) == ["a", "b"]
        assert await _due(store, T0 + 500, limit=2) == ["c"]
        assert await _due(store, T0 + 500, limit=2) == []

    async def test_a_due_timer_is_handed_out_once_per_lease_window(
        self, store: WorkflowExecutionStore
    ) -> None:
        await _sleeping(store, "run-1", T0 + 100)
        first = await store.claim_due_timers(
            now=T0 + 100, limit=10, lease_owner="sweeper-a", lease_ms=50
        )
        assert [w.run_id for w in first] == ["run-1"]
        for owner in ("sweeper-b", "sweeper-a"):
            assert (
                await store.claim_due_timers(now=T0 + 149, limit=10, lease_owner=owner, lease_ms=50)
                == []
            )
        again = await store.claim_due_timers(
            now=T0 + 150, limit=10, lease_owner="sweeper-b", lease_ms=50
        )
        assert [w.run_id for w in again] == ["run-1"]
        assert again[0].signal_id == first[0].signal_id
        assert again[0].lease_owner == "sweeper-b"

    async def test_a_live_run_lease_holds_back_a_due_timer(
        self, store: WorkflowExecutionStore
    ) -> None:
        await _sleeping(store, "run-1", T0 + 100)
        await store.claim_run(run_id="run-1", lease_owner="worker-a", lease_ms=500, now=T0 + 50)
        assert await _due(store, T0 + 549) == []
        assert await _due(store, T0 + 550) == ["run-1"]

    async def test_a_wake_at_transition_arms_and_other_transitions_disarm(
        self, store: WorkflowExecutionStore
    ) -> None:
        await _sleeping(store, "resumed", T0 + 100)
        await store.claim_run(run_id="resumed", lease_owner="worker", lease_ms=10, now=T0)
        await append(store, "resumed", step_event(1), transition=RunTransition(status="running"))
        await _sleeping(store, "repaused", T0 + 100)
        await append(store, "repaused", step_event(1), transition=pause_transition(approval_wait()))
        await _sleeping(store, "marked", T0 + 100)
        await store.mark_run_paused(run_id="marked", awaiting=[approval_wait()], now=T0)
        for run_id in ("resumed", "repaused", "marked"):
            assert (await must_load(store, run_id)).wake_at is None, run_id
        assert await _due(store, T0 + 10_000) == []

    async def test_deliveries_and_cancel_disarm_the_timer(
        self, store: WorkflowExecutionStore
    ) -> None:
        for run_id in ("signalled", "approved", "cancelled"):
            await create(store, run_id)
        await pause_on_signal(store, "signalled", wake_at=T0 + 100)
        await append(
            store,
            "approved",
            step_event(0),
            transition=pause_transition(approval_wait(), wake_at=T0 + 100, wake_kind="deadline"),
        )
        await pause_on_signal(store, "cancelled", wake_at=T0 + 100)
        delivery = SignalDelivery(signal_id="sig-1", name="approved", payload=None)
        assert (
            await store.deliver_signal(run_id="signalled", delivery=delivery, now=T0 + 1)
        ).kind == "delivered"
        approval = ApprovalResult(approved=True, approval_id="approval-1")
        assert (
            await store.deliver_approval(run_id="approved", approval=approval, now=T0 + 1)
        ).kind == "delivered"
        assert (
            await store.cancel_run(run_id="cancelled", reason=None, now=T0 + 1)
        ).kind == "cancelled"
        for run_id in ("signalled", "approved", "cancelled"):
            assert (await must_load(store, run_id)).wake_at is None, run_id
        assert await _due(store, T0 + 10_000) == []
