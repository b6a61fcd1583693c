"""The event log: compare-and-swap appends, ordered replay, atomic transitions."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tanstack_workflow.core import (
    ApprovalRequested,
    LogConflictError,
    NowRecorded,
    RunErrored,
    RunFinished,
    SerializedError,
    SignalAwaited,
    SignalResolved,
    StepAttempt,
    StepFailed,
    StepFinished,
    UuidRecorded,
    WorkflowEvent,
)

from .._models import RunTransition
from .._store import RunNotFoundError, SubscribableExecutionStore, WorkflowExecutionStore
from ._fixtures import (
    LEASE_MS,
    T0,
    StoreFixtures,
    append,
    create,
    must_load,
    pause_transition,
    signal_wait,
    snapshot,
    step_event,
)


def _varied_events() -> list[WorkflowEvent]:
    error = SerializedError(name="TimeoutError", message="upstream timed out", stack="Traceback")
    return [
        StepFinished(
            ts=T0,
            step_id="fetch",
            result={"rows": [1, 2.5, None, True, "ü€𝄞"], "big": 2**53, "empty": {}},
            attempts=[StepAttempt(started_at=T0, finished_at=T0 + 1, error=error)],
            meta={"tag": "x"},
            seq=0,
        ),
        StepFailed(ts=T0 + 1, step_id="charge", error=error, seq=1),
        NowRecorded(ts=T0 + 2, step_id="now-1", value=T0 + 2, seq=2),
        UuidRecorded(ts=T0 + 3, step_id="uuid-1", value="0b6e5d1c-2f0a-4c4e-9a55-0d7f1b2b5c3e"),
        SignalAwaited(ts=T0 + 4, step_id="wait-1", name="approved", deadline=T0 + 9, seq=3),
        SignalResolved(
            ts=T0 + 5, step_id="wait-1", name="approved", signal_id="sig-1", payload=[{"a": 1}]
        ),
        ApprovalRequested(
            ts=T0 + 6, step_id="approve-1", approval_id="ap-1", title="OK?", description="d"
        ),
        RunFinished(ts=T0 + 7, run_id="run-1", output="done"),
        RunErrored(ts=T0 + 8, run_id="run-1", error=error, code="nondeterminism"),
    ]


class EventLogContract(StoreFixtures):
    """``append_events`` / ``read_events``: CAS on ``expected_next_index``, gapless order."""

    async def test_append_and_read_back_in_order(self, store: WorkflowExecutionStore) -> None:
        await create(store, "run-1")
        events = _varied_events()
        assert (
            await store.append_events(
                run_id="run-1", expected_next_index=0, events=events[:4], now=T0 + 1
            )
            == 4
        )
        assert await store.append_events(
            run_id="run-1", expected_next_index=4, events=events[4:], now=T0 + 2
        ) == len(events)
        stored = await store.read_events("run-1")
        assert [s.event for s in stored] == events
        assert [s.event_index for s in stored] == list(range(len(events)))
        assert [s.event_type for s in stored] == [e.type for e in events]
        assert [s.step_id for s in stored] == [getattr(e, "step_id", None) for e in events]
        assert {s.run_id for s in stored} == {"run-1"}
        assert [s.created_at for s in stored] == [T0 + 1] * 4 + [T0 + 2] * 5
        assert [s.event for s in await store.read_events("run-1", from_index=6)] == events[6:]

    async def test_append_advances_next_index(self, store: WorkflowExecutionStore) -> None:
        await create(store, "run-1")
        await append(store, "run-1", step_event(0), step_event(1), now=T0 + 3)
        run = await must_load(store, "run-1")
        assert (run.next_index, run.updated_at, run.status) == (2, T0 + 3, "running")

    async def test_append_at_a_stale_index_conflicts(self, store: WorkflowExecutionStore) -> None:
        await create(store, "run-1")
        await append(store, "run-1", step_event(0), step_event(1))
        before = await snapshot(store, "run-1")
        for wrong in (0, 1):
            with pytest.raises(LogConflictError):
                await store.append_events(
                    run_id="run-1", expected_next_index=wrong, events=[step_event(9)], now=T0 + 1
                )
        assert await snapshot(store, "run-1") == before

    async def test_append_skipping_ahead_conflicts(self, store: WorkflowExecutionStore) -> None:
        await create(store, "run-1")
        await append(store, "run-1", step_event(0))
        for wrong in (2, 5):
            with pytest.raises(LogConflictError):
                await store.append_events(
                    run_id="run-1", expected_next_index=wrong, events=[step_event(9)], now=T0 + 1
                )
        assert [s.event_index for s in await store.read_events("run-1")] == [0]

    async def test_append_to_a_missing_run_raises(self, store: WorkflowExecutionStore) -> None:
        with pytest.raises(RunNotFoundError):
            await store.append_events(
                run_id="nope", expected_next_index=0, events=[step_event(0)], now=T0
            )
        assert await store.read_events("nope") == []
        assert await store.load_run("nope") is None

    async def test_empty_append_checks_the_index_and_applies_the_transition(
        self, store: WorkflowExecutionStore
    ) -> None:
        await create(store, "run-1")
        await append(store, "run-1", step_event(0))
        with pytest.raises(LogConflictError):
            await store.append_events(run_id="run-1", expected_next_index=0, events=[], now=T0)
        finished = RunTransition(status="finished", output="ok")
        assert (
            await store.append_events(
                run_id="run-1", expected_next_index=1, events=[], now=T0 + 1, transition=finished
            )
            == 1
        )
        run = await must_load(store, "run-1")
        assert (run.status, run.output, run.next_index) == ("finished", "ok", 1)

    async def test_transition_is_applied_with_the_append(
        self, store: WorkflowExecutionStore
    ) -> None:
        await create(store, "run-1", lease_owner="worker-a", lease_ms=LEASE_MS)
        wait = signal_wait("approved", "wait-1", deadline=T0 + 5_000)
        transition = pause_transition(
            wait, wake_at=T0 + 5_000, wake_kind="deadline", wake_step_id="wait-1"
        )
        awaited = SignalAwaited(ts=T0, step_id="wait-1", name="approved", deadline=T0 + 5_000)
        assert await append(store, "run-1", awaited, now=T0 + 1, transition=transition) == 1
        run = await must_load(store, "run-1")
        assert run.status == "paused"
        assert run.awaiting == [wait]
        assert run.waiting_for is not None
        assert run.waiting_for.signal_name == "approved"
        assert (run.wake_at, run.wake_kind, run.wake_step_id) == (T0 + 5_000, "deadline", "wait-1")
        assert (run.lease_owner, run.lease_expires_at) == (None, None)
        assert (run.next_index, run.updated_at) == (1, T0 + 1)

    async def test_running_transition_keeps_the_lease_and_disarms_the_timer(
        self, store: WorkflowExecutionStore
    ) -> None:
        await create(store, "run-1", lease_owner="worker-a", lease_ms=LEASE_MS)
        await store.schedule_timer(run_id="run-1", wake_at=T0 + 100, now=T0)
        await append(store, "run-1", step_event(0), transition=RunTransition(status="running"))
        run = await must_load(store, "run-1")
        assert (run.lease_owner, run.lease_expires_at) == ("worker-a", T0 + LEASE_MS)
        assert run.wake_at is None

    async def test_terminal_transitions_record_output_and_error(
        self, store: WorkflowExecutionStore
    ) -> None:
        await create(store, "run-1", lease_owner="worker-a", lease_ms=LEASE_MS)
        await create(store, "run-2", lease_owner="worker-a", lease_ms=LEASE_MS)
        finished = RunTransition(status="finished", output={"sum": 3})
        done = RunFinished(ts=T0, run_id="run-1", output={"sum": 3})
        await append(store, "run-1", done, transition=finished)
        error = SerializedError(name="KeyError", message="'sku'")
        errored = RunTransition(status="errored", error=error, error_code="error")
        failed = RunErrored(ts=T0, run_id="run-2", error=error, code="error")
        await append(store, "run-2", failed, transition=errored)
        one, two = await must_load(store, "run-1"), await must_load(store, "run-2")
        assert (one.status, one.output, one.lease_owner) == ("finished", {"sum": 3}, None)
        assert (two.status, two.error, two.error_code, two.lease_owner) == (
            "errored",
            error,
            "error",
            None,
        )

    async def test_a_conflicting_append_applies_no_transition(
        self, store: WorkflowExecutionStore
    ) -> None:
        await create(store, "run-1", lease_owner="worker-a", lease_ms=LEASE_MS)
        await append(store, "run-1", step_event(0))
        before = await snapshot(store, "run-1")
        with pytest.raises(LogConflictError):
            await store.append_events(
                run_id="run-1",
                expected_next_index=0,
                events=[step_event(1)],
                now=T0 + 1,
                transition=RunTransition(status="finished", output=1),
            )
        assert await snapshot(store, "run-1") == before

    async def test_concurrent_appends_at_one_index_have_one_winner(
        self, store: WorkflowExecutionStore
    ) -> None:
        await create(store, "run-1")
        for index in range(5):
            contenders = [step_event(100 * index + k) for k in range(2 + index % 3)]
            outcomes: list[Any] = await asyncio.gather(
                *(
                    store.append_events(
                        run_id="run-1", expected_next_index=index, events=[event], now=T0 + index
                    )
                    for event in contenders
                ),
                return_exceptions=True,
            )
            winners = [
                event for event, o in zip(contenders, outcomes, strict=True) if o == index + 1
            ]
            losers = [o for o in outcomes if isinstance(o, LogConflictError)]
            assert len(winners) == 1, outcomes
            assert len(losers) == len(contenders) - 1, outcomes
            log = await store.read_events("run-1")
            assert log[-1].event == winners[0]
        log = await store.read_events("run-1")
        assert [s.event_index for s in log] == [0, 1, 2, 3, 4]
        assert (await must_load(store, "run-1")).next_index == 5

    async def test_concurrent_batches_never_interleave(self, store: WorkflowExecutionStore) -> None:
        await create(store, "run-1")
        batches = [[step_event(10 * b + k) for k in range(3)] for b in range(4)]
        outcomes: list[Any] = await asyncio.gather(
            *(
                store.append_events(run_id="run-1", expected_next_index=0, events=b, now=T0)
                for b in batches
            ),
            return_exceptions=True,
        )
        assert outcomes.count(3) == 1, outcomes
        winner = batches[outcomes.index(3)]
        assert [s.event for s in await store.read_events("run-1")] == winner

    async def test_subscribe_replays_then_follows_the_log(
        self, store: WorkflowExecutionStore
    ) -> None:
        if not self.supports_subscribe:
            pytest.skip("store does not support subscribe_events")
        assert isinstance(store, SubscribableExecutionStore)
        await create(store, "run-1")
        await append(store, "run-1", step_event(0), step_event(1))
        seen: list[tuple[int, WorkflowEvent]] = []
        unsubscribe = store.subscribe_events("run-1", 1, lambda e, i: seen.append((i, e)))
        await append(store, "run-1", step_event(2))
        for _ in range(500):  # a store may push from another task: allow it 5 s
            if len(seen) >= 2:
                break
            await asyncio.sleep(0.01)
        unsubscribe()
        await append(store, "run-1", step_event(3))
        await asyncio.sleep(0.05)
        assert seen == [(1, step_event(1)), (2, step_event(2))]
