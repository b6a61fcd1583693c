"""Run records: creation, loading, status marks and core's ``RunStore`` surface."""

from __future__ import annotations

import pytest

from tanstack_workflow.core import RunState, SerializedError, SignalAwaitable, WaitingFor

from .._models import WorkflowExecution
from .._store import RunNotFoundError, SubscribableExecutionStore, WorkflowExecutionStore
from ._fixtures import (
    LEASE_MS,
    T0,
    WORKFLOW_ID,
    StoreFixtures,
    append,
    approval_wait,
    create,
    must_load,
    signal_wait,
    step_event,
)


def _unleased_and_unarmed(run: WorkflowExecution) -> None:
    assert run.lease_owner is None
    assert run.lease_expires_at is None
    assert run.wake_at is None


class RunContract(StoreFixtures):
    """``create_run``, ``load_run``, ``load_execution`` and the ``mark_run_*`` writes."""

    async def test_implements_the_protocol(self, store: WorkflowExecutionStore) -> None:
        assert isinstance(store, WorkflowExecutionStore)
        if self.supports_subscribe:
            assert isinstance(store, SubscribableExecutionStore)

    async def test_create_run_stores_a_running_run(self, store: WorkflowExecutionStore) -> None:
        result = await store.create_run(
            run_id="run-1",
            workflow_id=WORKFLOW_ID,
            workflow_version="v2",
            input={"order": 42, "items": ["a", "b"], "nested": {"ok": True, "x": 1.5}},
            now=T0,
        )
        assert result.kind == "created"
        run = result.run
        assert (run.run_id, run.workflow_id, run.workflow_version) == ("run-1", WORKFLOW_ID, "v2")
        assert run.status == "running"
        assert run.input == {"order": 42, "items": ["a", "b"], "nested": {"ok": True, "x": 1.5}}
        assert (run.created_at, run.updated_at, run.next_index) == (T0, T0, 0)
        assert run.output is None
        assert run.error is None
        assert run.awaiting is None
        _unleased_and_unarmed(run)
        assert await store.load_run("run-1") == run

    async def test_create_run_with_a_lease_owner_leases_the_run(
        self, store: WorkflowExecutionStore
    ) -> None:
        run = await create(store, "run-1", lease_owner="worker-a", lease_ms=LEASE_MS)
        assert (run.lease_owner, run.lease_expires_at) == ("worker-a", T0 + LEASE_MS)
        blocked = await store.claim_run(
            run_id="run-1", lease_owner="worker-b", lease_ms=LEASE_MS, now=T0 + 1
        )
        assert blocked.kind == "not-claimable"

    async def test_create_run_is_idempotent(self, store: WorkflowExecutionStore) -> None:
        first = await create(store, "run-1", input={"a": 1})
        again = await store.create_run(
            run_id="run-1",
            workflow_id="other-workflow",
            workflow_version="v9",
            input={"a": 2},
            now=T0 + 500,
            lease_owner="worker-b",
            lease_ms=LEASE_MS,
        )
        assert again.kind == "existing"
        assert again.run == first
        assert await store.load_run("run-1") == first

    async def test_missing_runs_load_as_none(self, store: WorkflowExecutionStore) -> None:
        assert await store.load_run("nope") is None
        assert await store.load_execution("nope") is None
        assert await store.read_events("nope") == []

    async def test_load_execution_returns_the_run_and_its_log(
        self, store: WorkflowExecutionStore
    ) -> None:
        await create(store, "run-1")
        await append(store, "run-1", step_event(0), step_event(1), step_event(2), now=T0 + 5)
        loaded = await store.load_execution("run-1")
        assert loaded is not None
        assert loaded.run == await must_load(store, "run-1")
        assert [e.event_index for e in loaded.events] == [0, 1, 2]
        tail = await store.load_execution("run-1", from_index=2)
        assert tail is not None
        assert [e.event for e in tail.events] == [step_event(2)]
        past_end = await store.load_execution("run-1", from_index=3)
        assert past_end is not None
        assert past_end.events == []

    async def test_mark_run_paused_on_a_signal_arms_the_timer_and_releases_the_lease(
        self, store: WorkflowExecutionStore
    ) -> None:
        await create(store, "run-1", lease_owner="worker-a", lease_ms=LEASE_MS)
        wait = signal_wait("approved", "wait-1", deadline=T0 + 60_000)
        await store.mark_run_paused(
            run_id="run-1",
            awaiting=[wait],
            wake_at=T0 + 60_000,
            wake_kind="deadline",
            wake_step_id="wait-1",
            now=T0 + 10,
        )
        run = await must_load(store, "run-1")
        assert run.status == "paused"
        assert run.awaiting == [wait]
        assert run.waiting_for == WaitingFor(
            step_id="wait-1", signal_name="approved", deadline=T0 + 60_000
        )
        assert run.pending_approval is None
        assert (run.wake_at, run.wake_kind, run.wake_step_id) == (T0 + 60_000, "deadline", "wait-1")
        assert (run.lease_owner, run.lease_expires_at) == (None, None)
        assert run.updated_at == T0 + 10

    async def test_mark_run_paused_on_an_approval_sets_pending_approval(
        self, store: WorkflowExecutionStore
    ) -> None:
        await create(store, "run-1")
        await store.mark_run_paused(run_id="run-1", awaiting=[approval_wait()], now=T0 + 1)
        run = await must_load(store, "run-1")
        assert run.status == "paused"
        assert run.waiting_for is None
        assert run.pending_approval is not None
        assert (run.pending_approval.approval_id, run.pending_approval.title) == (
            "approval-1",
            "Ship it?",
        )
        _unleased_and_unarmed(run)

    async def test_mark_run_paused_without_wake_at_disarms_the_timer(
        self, store: WorkflowExecutionStore
    ) -> None:
        await create(store, "run-1")
        await store.schedule_timer(run_id="run-1", wake_at=T0 + 100, now=T0)
        await store.mark_run_paused(run_id="run-1", awaiting=[signal_wait()], now=T0 + 1)
        run = await must_load(store, "run-1")
        assert run.wake_at is None
        assert (
            await store.claim_due_timers(
                now=T0 + 10_000, limit=10, lease_owner="sweeper", lease_ms=LEASE_MS
            )
            == []
        )

    async def test_mark_run_finished(self, store: WorkflowExecutionStore) -> None:
        await create(store, "run-1", lease_owner="worker-a", lease_ms=LEASE_MS)
        await store.schedule_timer(run_id="run-1", wake_at=T0 + 100, now=T0)
        await store.mark_run_finished(run_id="run-1", output={"total": 3, "ok": [True]}, now=T0 + 7)
        run = await must_load(store, "run-1")
        assert run.status == "finished"
        assert run.output == {"total": 3, "ok": [True]}
        assert run.updated_at == T0 + 7
        _unleased_and_unarmed(run)

    async def test_mark_run_errored(self, store: WorkflowExecutionStore) -> None:
        await create(store, "run-1", lease_owner="worker-a", lease_ms=LEASE_MS)
        error = SerializedError(name="ValueError", message="bad order", stack="Traceback ...")
        await store.mark_run_errored(run_id="run-1", error=error, code="error", now=T0 + 7)
        run = await must_load(store, "run-1")
        assert run.status == "errored"
        assert (run.error, run.error_code) == (error, "error")
        _unleased_and_unarmed(run)

    async def test_marks_on_a_missing_run_raise(self, store: WorkflowExecutionStore) -> None:
        with pytest.raises(RunNotFoundError):
            await store.mark_run_paused(run_id="nope", awaiting=None, now=T0)
        with pytest.raises(RunNotFoundError):
            await store.mark_run_finished(run_id="nope", output=None, now=T0)
        with pytest.raises(RunNotFoundError):
            await store.mark_run_errored(
                run_id="nope", error=SerializedError(name="E", message="m"), code="error", now=T0
            )
        assert await store.load_run("nope") is None


def _state(run_id: str = "run-1", **changes: object) -> RunState:
    fields: dict[str, object] = {
        "run_id": run_id,
        "status": "running",
        "workflow_id": WORKFLOW_ID,
        "input": {"from": "core"},
        "created_at": T0,
        "updated_at": T0,
    }
    fields.update(changes)
    return RunState.model_validate(fields)


class RunStoreSurfaceContract(StoreFixtures):
    """``load_run_state``, ``save_run_state`` and ``delete_run`` (core's ``RunStore`` view)."""

    async def test_save_run_state_creates_a_run(self, store: WorkflowExecutionStore) -> None:
        state = _state(workflow_version="v1")
        await store.save_run_state(state, now=T0)
        assert await store.load_run_state("run-1") == state
        run = await must_load(store, "run-1")
        assert run.next_index == 0
        _unleased_and_unarmed(run)
        assert await store.read_events("run-1") == []

    async def test_missing_run_state_is_none(self, store: WorkflowExecutionStore) -> None:
        assert await store.load_run_state("nope") is None

    async def test_save_run_state_overwrites_and_keeps_the_log(
        self, store: WorkflowExecutionStore
    ) -> None:
        await create(store, "run-1")
        await append(store, "run-1", step_event(0), step_event(1))
        wait = SignalAwaitable(step_id="wait-1", signal_name="approved")
        paused = _state(
            status="paused",
            input={"run": "run-1"},
            awaiting=[wait],
            waiting_for=WaitingFor(step_id="wait-1", signal_name="approved"),
            updated_at=T0 + 9,
        )
        await store.save_run_state(paused, now=T0 + 9)
        loaded = await store.load_run_state("run-1")
        assert loaded is not None
        assert loaded.status == "paused"
        assert loaded.awaiting == [wait]
        assert loaded.waiting_for == paused.waiting_for
        assert loaded.created_at == T0
        run = await must_load(store, "run-1")
        assert run.next_index == 2
        assert [e.event_index for e in await store.read_events("run-1")] == [0, 1]

    async def test_save_run_state_paused_with_a_deadline_arms_the_timer(
        self, store: WorkflowExecutionStore
    ) -> None:
        await create(store, "run-1")
        await store.claim_run(run_id="run-1", lease_owner="worker-a", lease_ms=LEASE_MS, now=T0)
        sleep = SignalAwaitable(step_id="sleep-1", signal_name="__timer", deadline=T0 + 1_000)
        await store.save_run_state(
            _state(status="paused", awaiting=[sleep], waiting_for=None), now=T0 + 1
        )
        run = await must_load(store, "run-1")
        assert (run.wake_at, run.wake_kind, run.wake_step_id) == (T0 + 1_000, "timer", "sleep-1")
        assert run.lease_owner is None
        [wakeup] = await store.claim_due_timers(
            now=T0 + 1_000, limit=10, lease_owner="sweeper", lease_ms=LEASE_MS
        )
        assert (wakeup.run_id, wakeup.wake_kind, wakeup.step_id) == ("run-1", "timer", "sleep-1")

    async def test_save_run_state_finished_stores_output(
        self, store: WorkflowExecutionStore
    ) -> None:
        await store.save_run_state(_state(), now=T0)
        await store.save_run_state(_state(status="finished", output=[1, "two"]), now=T0 + 3)
        state = await store.load_run_state("run-1")
        assert state is not None
        assert (state.status, state.output) == ("finished", [1, "two"])
        claim = await store.claim_run(
            run_id="run-1", lease_owner="worker-a", lease_ms=LEASE_MS, now=T0 + 4
        )
        assert claim.kind == "not-claimable"

    async def test_delete_run_forgets_the_run_and_its_log(
        self, store: WorkflowExecutionStore
    ) -> None:
        await create(store, "run-1")
        await create(store, "run-2")
        await append(store, "run-1", step_event(0))
        await store.delete_run("run-1", "finished")
        assert await store.load_run("run-1") is None
        assert await store.load_run_state("run-1") is None
        assert await store.read_events("run-1") == []
        assert await store.get_run_timeline("run-1") is None
        assert [r.run_id for r in (await store.list_runs()).runs] == ["run-2"]
        await store.delete_run("run-1", "finished")  # deleting twice is a no-op
        again = await create(store, "run-1", now=T0 + 1)
        assert again.next_index == 0
        assert await store.read_events("run-1") == []
        assert (
            await store.append_events(
                run_id="run-1", expected_next_index=0, events=[step_event(9)], now=T0 + 2
            )
            == 1
        )
