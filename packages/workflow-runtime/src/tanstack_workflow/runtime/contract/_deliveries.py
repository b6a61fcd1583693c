"""Signal and approval deliveries, and cancellation: single atomic writes."""

from __future__ import annotations

from typing import Any

from tanstack_workflow.core import (
    ApprovalRequested,
    ApprovalResolved,
    ApprovalResult,
    RunErrored,
    SignalDelivery,
    SignalResolved,
)

from .._models import WorkflowExecution
from .._store import WorkflowExecutionStore
from ._fixtures import (
    LEASE_MS,
    T0,
    StoreFixtures,
    append,
    approval_wait,
    create,
    must_load,
    pause_on_signal,
    pause_transition,
    snapshot,
)


def _signal(
    signal_id: str = "sig-1",
    name: str = "approved",
    *,
    payload: Any = None,
    step_id: str | None = None,
    meta: dict[str, Any] | None = None,
) -> SignalDelivery:
    return SignalDelivery(
        signal_id=signal_id, name=name, payload=payload, step_id=step_id, meta=meta
    )


async def _awaiting_approval(store: WorkflowExecutionStore, run_id: str = "run-1") -> None:
    await create(store, run_id)
    requested = ApprovalRequested(
        ts=T0, step_id="approve-1", approval_id="approval-1", title="Ship it?"
    )
    await append(store, run_id, requested, transition=pause_transition(approval_wait()))


def _resumed(run: WorkflowExecution, next_index: int, now: int) -> None:
    """A delivery leaves the run running, unleased, unarmed, with no pending wait."""
    assert run.status == "running"
    assert run.awaiting is None
    assert run.waiting_for is None
    assert run.pending_approval is None
    assert (run.wake_at, run.lease_owner, run.lease_expires_at) == (None, None, None)
    assert (run.next_index, run.updated_at) == (next_index, now)


class DeliveryContract(StoreFixtures):
    """``deliver_signal``, ``deliver_approval`` and ``cancel_run``."""

    async def test_deliver_signal_resolves_the_wait(self, store: WorkflowExecutionStore) -> None:
        await create(store, "run-1")
        await pause_on_signal(store, "run-1", wake_at=T0 + 60_000)
        await store.claim_run(run_id="run-1", lease_owner="sweeper", lease_ms=LEASE_MS, now=T0)
        delivery = _signal(payload={"ok": True, "by": "ana"}, meta={"source": "webhook"})
        result = await store.deliver_signal(run_id="run-1", delivery=delivery, now=T0 + 5)
        assert result.kind == "delivered"
        assert result.run is not None
        _resumed(result.run, 2, T0 + 5)
        assert await must_load(store, "run-1") == result.run
        [stored] = await store.read_events("run-1", from_index=1)
        assert (stored.event_index, stored.event_type, stored.step_id, stored.created_at) == (
            1,
            "SIGNAL_RESOLVED",
            "wait-1",
            T0 + 5,
        )
        event = stored.event
        assert isinstance(event, SignalResolved)
        assert (event.step_id, event.name, event.signal_id) == ("wait-1", "approved", "sig-1")
        assert (event.payload, event.meta) == ({"ok": True, "by": "ana"}, {"source": "webhook"})

    async def test_deliver_signal_for_the_named_step(self, store: WorkflowExecutionStore) -> None:
        await create(store, "run-1")
        await pause_on_signal(store, "run-1", step_id="wait-7")
        wrong = await store.deliver_signal(
            run_id="run-1", delivery=_signal(step_id="wait-1"), now=T0 + 1
        )
        assert wrong.kind == "not-waiting"
        right = await store.deliver_signal(
            run_id="run-1", delivery=_signal(step_id="wait-7"), now=T0 + 2
        )
        assert right.kind == "delivered"

    async def test_a_signal_id_is_delivered_once(self, store: WorkflowExecutionStore) -> None:
        await create(store, "run-1")
        await pause_on_signal(store, "run-1", step_id="wait-1")
        first = await store.deliver_signal(run_id="run-1", delivery=_signal(payload=1), now=T0 + 1)
        assert first.kind == "delivered"
        before = await snapshot(store, "run-1")
        duplicate = await store.deliver_signal(
            run_id="run-1", delivery=_signal(payload=2), now=T0 + 2
        )
        assert duplicate.kind == "duplicate"
        assert duplicate.run == first.run
        assert await snapshot(store, "run-1") == before
        # the run waits on the same signal name again: the old id still never re-delivers
        await pause_on_signal(store, "run-1", step_id="wait-2", now=T0 + 3)
        again = await store.deliver_signal(run_id="run-1", delivery=_signal(payload=3), now=T0 + 4)
        assert again.kind == "duplicate"
        assert (await must_load(store, "run-1")).status == "paused"
        fresh = await store.deliver_signal(
            run_id="run-1", delivery=_signal("sig-2", payload=4), now=T0 + 5
        )
        assert fresh.kind == "delivered"
        resolved = [
            s.event for s in await store.read_events("run-1") if s.event_type == "SIGNAL_RESOLVED"
        ]
        assert [(e.step_id, e.payload) for e in resolved if isinstance(e, SignalResolved)] == [
            ("wait-1", 1),
            ("wait-2", 4),
        ]

    async def test_a_delivered_signal_stays_a_duplicate_after_the_run_ends(
        self, store: WorkflowExecutionStore
    ) -> None:
        await create(store, "run-1")
        await pause_on_signal(store, "run-1")
        await store.deliver_signal(run_id="run-1", delivery=_signal(), now=T0 + 1)
        await store.mark_run_finished(run_id="run-1", output=None, now=T0 + 2)
        again = await store.deliver_signal(run_id="run-1", delivery=_signal(), now=T0 + 3)
        assert again.kind == "duplicate"

    async def test_signals_the_run_is_not_waiting_for(self, store: WorkflowExecutionStore) -> None:
        await create(store, "running")
        await create(store, "paused")
        await pause_on_signal(store, "paused", name="approved")
        await _awaiting_approval(store, "approval")
        before = await snapshot(store, "running", "paused", "approval")
        for run_id, delivery in (
            ("running", _signal()),
            ("paused", _signal(name="rejected")),
            ("paused", _signal(step_id="other-step")),
            ("approval", _signal()),
        ):
            result = await store.deliver_signal(run_id=run_id, delivery=delivery, now=T0 + 1)
            assert result.kind == "not-waiting", (run_id, delivery)
            assert result.run is not None
            assert result.run.run_id == run_id
        assert await snapshot(store, "running", "paused", "approval") == before
        # a rejected id is not burnt: it delivers once the run waits for it
        ok = await store.deliver_signal(run_id="paused", delivery=_signal(), now=T0 + 2)
        assert ok.kind == "delivered"

    async def test_signal_for_a_missing_run(self, store: WorkflowExecutionStore) -> None:
        result = await store.deliver_signal(run_id="nope", delivery=_signal(), now=T0)
        assert (result.kind, result.run) == ("not-found", None)
        assert await store.load_run("nope") is None

    async def test_deliver_approval_resolves_the_request(
        self, store: WorkflowExecutionStore
    ) -> None:
        await _awaiting_approval(store)
        approval = ApprovalResult(approved=False, approval_id="approval-1", feedback="too risky")
        result = await store.deliver_approval(run_id="run-1", approval=approval, now=T0 + 5)
        assert result.kind == "delivered"
        assert result.run is not None
        _resumed(result.run, 2, T0 + 5)
        [stored] = await store.read_events("run-1", from_index=1)
        assert (stored.event_index, stored.event_type, stored.step_id) == (
            1,
            "APPROVAL_RESOLVED",
            "approve-1",
        )
        event = stored.event
        assert isinstance(event, ApprovalResolved)
        assert (event.approval_id, event.approved, event.feedback) == (
            "approval-1",
            False,
            "too risky",
        )

    async def test_an_approval_is_decided_once(self, store: WorkflowExecutionStore) -> None:
        await _awaiting_approval(store)
        approval = ApprovalResult(approved=True, approval_id="approval-1", feedback="ok")
        assert (
            await store.deliver_approval(run_id="run-1", approval=approval, now=T0 + 1)
        ).kind == "delivered"
        before = await snapshot(store, "run-1")
        same = await store.deliver_approval(run_id="run-1", approval=approval, now=T0 + 2)
        assert same.kind == "duplicate"
        other = ApprovalResult(approved=False, approval_id="approval-1", feedback="ok")
        assert (
            await store.deliver_approval(run_id="run-1", approval=other, now=T0 + 3)
        ).kind == "not-waiting"
        assert await snapshot(store, "run-1") == before

    async def test_approvals_the_run_is_not_waiting_for(
        self, store: WorkflowExecutionStore
    ) -> None:
        await _awaiting_approval(store, "approval")
        await create(store, "signal")
        await pause_on_signal(store, "signal")
        await create(store, "running")
        before = await snapshot(store, "approval", "signal", "running")
        for run_id, approval_id in (
            ("approval", "approval-2"),
            ("signal", "approval-1"),
            ("running", "approval-1"),
        ):
            result = await store.deliver_approval(
                run_id=run_id,
                approval=ApprovalResult(approved=True, approval_id=approval_id),
                now=T0 + 1,
            )
            assert result.kind == "not-waiting", run_id
        assert await snapshot(store, "approval", "signal", "running") == before
        missing = await store.deliver_approval(
            run_id="nope", approval=ApprovalResult(approved=True, approval_id="approval-1"), now=T0
        )
        assert (missing.kind, missing.run) == ("not-found", None)

    async def test_cancel_run_ends_the_run(self, store: WorkflowExecutionStore) -> None:
        await create(store, "run-1")
        await pause_on_signal(store, "run-1", wake_at=T0 + 100)
        await store.claim_run(run_id="run-1", lease_owner="worker-a", lease_ms=LEASE_MS, now=T0)
        result = await store.cancel_run(run_id="run-1", reason="customer asked", now=T0 + 9)
        assert result.kind == "cancelled"
        run = result.run
        assert run is not None
        assert (run.status, run.error_code, run.next_index, run.updated_at) == (
            "aborted",
            "cancelled",
            2,
            T0 + 9,
        )
        assert run.error is not None
        assert "customer asked" in run.error.message
        assert run.awaiting is None
        assert run.waiting_for is None
        assert run.pending_approval is None
        assert (run.wake_at, run.lease_owner, run.lease_expires_at) == (None, None, None)
        assert await must_load(store, "run-1") == run
        [stored] = await store.read_events("run-1", from_index=1)
        assert (stored.event_index, stored.event_type, stored.created_at) == (
            1,
            "RUN_ERRORED",
            T0 + 9,
        )
        assert isinstance(stored.event, RunErrored)
        assert (stored.event.code, stored.event.run_id, stored.event.error) == (
            "cancelled",
            "run-1",
            run.error,
        )
        late = await store.deliver_signal(run_id="run-1", delivery=_signal(), now=T0 + 10)
        assert late.kind == "not-waiting"

    async def test_cancel_with_a_code(self, store: WorkflowExecutionStore) -> None:
        await create(store, "run-1")
        result = await store.cancel_run(run_id="run-1", reason=None, now=T0 + 1, code="terminated")
        assert result.kind == "cancelled"
        assert result.run is not None
        assert (result.run.status, result.run.error_code) == ("aborted", "terminated")
        [stored] = await store.read_events("run-1")
        assert isinstance(stored.event, RunErrored)
        assert stored.event.code == "terminated"

    async def test_cancel_is_rejected_for_ended_and_missing_runs(
        self, store: WorkflowExecutionStore
    ) -> None:
        await create(store, "cancelled")
        await store.cancel_run(run_id="cancelled", reason=None, now=T0)
        await create(store, "finished")
        await store.mark_run_finished(run_id="finished", output=1, now=T0)
        before = await snapshot(store, "cancelled", "finished")
        for run_id in ("cancelled", "finished"):
            result = await store.cancel_run(run_id=run_id, reason="again", now=T0 + 1)
            assert result.kind == "already-terminal"
            assert result.run is not None
            assert result.run.run_id == run_id
        assert await snapshot(store, "cancelled", "finished") == before
        missing = await store.cancel_run(run_id="nope", reason=None, now=T0)
        assert (missing.kind, missing.run) == ("not-found", None)
        assert await store.load_run("nope") is None
