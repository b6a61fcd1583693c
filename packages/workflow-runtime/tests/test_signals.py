"""Sleeps woken by sweep, signals and approvals delivered through the runtime."""

from __future__ import annotations

import pytest
from pydantic import BaseModel
from runtime_helpers import T0, Calls, log_types, runtime_for

from tanstack_workflow.core import ApprovalResult, WorkflowValidationError, create_workflow
from tanstack_workflow.runtime import InMemoryWorkflowExecutionStore, SignalRejectedError


class Shipment(BaseModel):
    carrier: str
    tracking: str


def build(calls: Calls):  # type: ignore[no-untyped-def]
    @create_workflow("sleeper").handler
    async def sleeper(ctx):  # type: ignore[no-untyped-def]
        await ctx.step("before", calls("before"))
        await ctx.sleep_until(T0 + 60_000)
        await ctx.step("after", calls("after"))
        return "woke"

    @create_workflow("shipping").handler
    async def shipping(ctx):  # type: ignore[no-untyped-def]
        await ctx.step("prepare", calls("prepare"))
        shipment = await ctx.wait_for_event("shipped", schema=Shipment)
        return {"carrier": shipment.carrier}

    @create_workflow("review").handler
    async def review(ctx):  # type: ignore[no-untyped-def]
        decision = await ctx.approve(title="Ship it?", description="big order")
        return {"approved": decision.approved, "feedback": decision.feedback}

    return {"sleeper": sleeper, "shipping": shipping, "review": review}


async def test_sleep_is_resumed_by_sweep_only_once_due(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    calls = Calls()
    runtime = runtime_for(store, build(calls))
    started = await runtime.start_run(workflow_id="sleeper", run_id="s1", now=T0)
    assert started.kind == "paused"
    assert started.run is not None
    assert started.run.wake_at == T0 + 60_000
    assert started.run.wake_kind == "timer"

    # exactly at the boundary, at store level (no clock involved)...
    assert (
        await store.claim_due_timers(now=T0 + 59_999, limit=10, lease_owner="x", lease_ms=1) == []
    )
    # ...and through a sweep, whose clock starts at ``now`` and advances with real time
    early = await runtime.sweep(now=T0 + 59_000)
    assert early.timers == []
    assert early.summary.timers == {}
    assert (await store.load_run("s1")).status == "paused"  # type: ignore[union-attr]
    assert calls.counts == {"before": 1}

    due = await runtime.sweep(now=T0 + 60_000)
    assert [r.kind for r in due.timers] == ["completed"]
    assert due.summary.timers == {"completed": 1}
    assert due.timers[0].run is not None
    assert due.timers[0].run.output == "woke"
    assert calls.counts == {"before": 1, "after": 1}

    again = await runtime.sweep(now=T0 + 120_000)
    assert again.timers == []
    assert await log_types(store, "s1") == [
        "STEP_FINISHED",
        "SIGNAL_AWAITED",
        "SIGNAL_RESOLVED",
        "STEP_FINISHED",
        "RUN_FINISHED",
    ]


async def test_wait_for_event_and_deliver_signal(store: InMemoryWorkflowExecutionStore) -> None:
    calls = Calls()
    runtime = runtime_for(store, build(calls))
    await runtime.start_run(workflow_id="shipping", run_id="w1", now=T0)
    result = await runtime.deliver_signal(
        run_id="w1",
        signal_id="hook-1",
        name="shipped",
        payload={"carrier": "ups", "tracking": "1Z"},
        now=T0 + 1_000,
    )
    assert result.kind == "completed"
    assert result.run is not None
    assert result.run.output == {"carrier": "ups"}
    assert calls.counts == {"prepare": 1}
    resolved = [s.event for s in await store.read_events("w1")][2]
    assert resolved.type == "SIGNAL_RESOLVED"
    assert resolved.signal_id == "hook-1"  # type: ignore[union-attr]


async def test_duplicate_signal_id_is_duplicate(store: InMemoryWorkflowExecutionStore) -> None:
    runtime = runtime_for(store, build(Calls()))
    await runtime.start_run(workflow_id="shipping", run_id="w1", now=T0)
    payload = {"carrier": "ups", "tracking": "1Z"}
    first = await runtime.deliver_signal(
        run_id="w1", signal_id="hook-1", name="shipped", payload=payload, now=T0 + 1
    )
    length = len(await store.read_events("w1"))
    second = await runtime.deliver_signal(
        run_id="w1", signal_id="hook-1", name="shipped", payload=payload, now=T0 + 2
    )
    assert first.kind == "completed"
    assert second.kind == "duplicate"  # a webhook retried after the run ended is a no-op
    assert len(await store.read_events("w1")) == length
    other = await runtime.deliver_signal(
        run_id="w1", signal_id="hook-2", name="shipped", payload=payload, now=T0 + 3
    )
    assert other.kind == "not-waiting"


async def test_duplicate_signal_while_still_paused_later(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    @create_workflow("twice").handler
    async def twice(ctx):  # type: ignore[no-untyped-def]
        first = await ctx.wait_for_event("ping", id="first")
        second = await ctx.wait_for_event("ping", id="second")
        return [first, second]

    runtime = runtime_for(store, {"twice": twice})
    await runtime.start_run(workflow_id="twice", run_id="t", now=T0)
    one = await runtime.deliver_signal(run_id="t", signal_id="s1", name="ping", payload=1, now=T0)
    dup = await runtime.deliver_signal(run_id="t", signal_id="s1", name="ping", payload=1, now=T0)
    two = await runtime.deliver_signal(run_id="t", signal_id="s2", name="ping", payload=2, now=T0)
    assert (one.kind, dup.kind, two.kind) == ("paused", "duplicate", "completed")
    assert dup.run is not None
    assert dup.run.lease_owner is None
    assert dup.run.status == "paused"
    assert two.run is not None
    assert two.run.output == [1, 2]


async def test_wrong_signal_name_is_not_waiting(store: InMemoryWorkflowExecutionStore) -> None:
    runtime = runtime_for(store, build(Calls()))
    await runtime.start_run(workflow_id="shipping", run_id="w1", now=T0)
    before = await store.load_run("w1")
    result = await runtime.deliver_signal(
        run_id="w1", signal_id="x", name="cancelled", payload=None, now=T0 + 1
    )
    assert result.kind == "not-waiting"
    assert result.run is not None
    assert result.run.lease_owner is None  # the result reports the released lease
    after = await store.load_run("w1")
    assert after is not None
    assert after.status == "paused"
    assert after.lease_owner is None
    assert before is not None
    assert after.next_index == before.next_index


async def test_schema_failing_payload_is_rejected_and_changes_nothing(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    runtime = runtime_for(store, build(Calls()))
    await runtime.start_run(workflow_id="shipping", run_id="w1", now=T0)
    length = len(await store.read_events("w1"))
    with pytest.raises(SignalRejectedError) as info:
        await runtime.deliver_signal(
            run_id="w1", signal_id="bad", name="shipped", payload={"carrier": 3}, now=T0 + 1
        )
    assert isinstance(info.value, WorkflowValidationError)
    run = await store.load_run("w1")
    assert run is not None
    assert run.status == "paused"
    assert run.lease_owner is None
    assert len(await store.read_events("w1")) == length
    # the rejected signal id was not consumed: a good payload with the same id applies
    good = await runtime.deliver_signal(
        run_id="w1",
        signal_id="bad",
        name="shipped",
        payload={"carrier": "dhl", "tracking": "9"},
        now=T0 + 2,
    )
    assert good.kind == "completed"


async def test_invalid_signal_arguments_raise(store: InMemoryWorkflowExecutionStore) -> None:
    runtime = runtime_for(store, build(Calls()))
    await runtime.start_run(workflow_id="shipping", run_id="w1", now=T0)
    with pytest.raises(WorkflowValidationError):
        await runtime.deliver_signal(run_id="w1", signal_id="", name="shipped", now=T0)
    with pytest.raises(WorkflowValidationError):
        await runtime.deliver_signal(run_id="w1", signal_id="s", name="", now=T0)


@pytest.mark.parametrize("form", ["dict", "camel", "object"])
async def test_approvals(store: InMemoryWorkflowExecutionStore, form: str) -> None:
    runtime = runtime_for(store, build(Calls()))
    started = await runtime.start_run(workflow_id="review", run_id="a1", now=T0)
    assert started.kind == "paused"
    assert started.run is not None
    pending = started.run.pending_approval
    assert pending is not None
    assert pending.title == "Ship it?"
    approval_id = pending.approval_id
    decision: object
    if form == "dict":
        decision = {"approval_id": approval_id, "approved": False, "feedback": "too big"}
    elif form == "camel":
        decision = {"approvalId": approval_id, "approved": False, "feedback": "too big"}
    else:
        decision = ApprovalResult(approved=False, approval_id=approval_id, feedback="too big")
    result = await runtime.deliver_approval(run_id="a1", approval=decision, now=T0 + 5)  # type: ignore[arg-type]
    assert result.kind == "completed"
    assert result.run is not None
    assert result.run.output == {"approved": False, "feedback": "too big"}
    again = await runtime.deliver_approval(run_id="a1", approval=decision, now=T0 + 6)  # type: ignore[arg-type]
    assert again.kind == "duplicate"  # the same decision again, even after the run ended
    flipped = await runtime.deliver_approval(
        run_id="a1", approval={"approval_id": approval_id, "approved": True}, now=T0 + 7
    )
    assert flipped.kind == "not-waiting"


async def test_duplicate_and_conflicting_approvals(store: InMemoryWorkflowExecutionStore) -> None:
    @create_workflow("two-approvals").handler
    async def two(ctx):  # type: ignore[no-untyped-def]
        first = await ctx.approve(title="one", id="one")
        await ctx.approve(title="two", id="two")
        return first.approved

    runtime = runtime_for(store, {"two-approvals": two})
    await runtime.start_run(workflow_id="two-approvals", run_id="a", now=T0)
    decision = {"approval_id": "a:one", "approved": True}
    assert (await runtime.deliver_approval(run_id="a", approval=decision, now=T0)).kind == "paused"
    dup = await runtime.deliver_approval(run_id="a", approval=decision, now=T0)
    assert dup.kind == "duplicate"
    flipped = await runtime.deliver_approval(
        run_id="a", approval={"approval_id": "a:one", "approved": False}, now=T0
    )
    assert flipped.kind == "not-waiting"
    wrong = await runtime.deliver_approval(
        run_id="a", approval={"approval_id": "a:nope", "approved": True}, now=T0
    )
    assert wrong.kind == "not-waiting"


async def test_malformed_approval_raises(store: InMemoryWorkflowExecutionStore) -> None:
    runtime = runtime_for(store, build(Calls()))
    await runtime.start_run(workflow_id="review", run_id="a1", now=T0)
    for bad in ({"approved": True}, {"approval_id": "a1:__approve-0", "approved": "yes"}):
        with pytest.raises(WorkflowValidationError):
            await runtime.deliver_approval(run_id="a1", approval=bad, now=T0)
    assert (await store.load_run("a1")).status == "paused"  # type: ignore[union-attr]


async def test_deliveries_to_unknown_runs_are_not_found(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    runtime = runtime_for(store, build(Calls()))
    signal = await runtime.deliver_signal(run_id="ghost", signal_id="s", name="x", now=T0)
    approval = await runtime.deliver_approval(
        run_id="ghost", approval={"approval_id": "ghost:a", "approved": True}, now=T0
    )
    assert signal.kind == approval.kind == "not-found"
    assert signal.run is None
    assert await store.load_run("ghost") is None


async def test_run_leased_by_another_owner_is_not_claimable(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    runtime = runtime_for(store, build(Calls()))
    await runtime.start_run(workflow_id="shipping", run_id="w1", now=T0)
    claim = await store.claim_run(run_id="w1", lease_owner="other", lease_ms=10_000, now=T0 + 1)
    assert claim.kind == "claimed"
    payload = {"carrier": "ups", "tracking": "1Z"}
    blocked = await runtime.deliver_signal(
        run_id="w1", signal_id="s", name="shipped", payload=payload, now=T0 + 2
    )
    assert blocked.kind == "not-claimable"
    assert blocked.run is not None
    assert blocked.run.lease_owner == "other"
    # once the other lease lapses the same delivery goes through
    late = await runtime.deliver_signal(
        run_id="w1", signal_id="s", name="shipped", payload=payload, now=T0 + 10_002
    )
    assert late.kind == "completed"


async def test_signal_to_finished_run_is_not_waiting(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    runtime = runtime_for(store, build(Calls()))
    await runtime.start_run(workflow_id="shipping", run_id="w1", now=T0)
    payload = {"carrier": "ups", "tracking": "1Z"}
    await runtime.deliver_signal(
        run_id="w1", signal_id="s1", name="shipped", payload=payload, now=T0
    )
    late = await runtime.deliver_signal(
        run_id="w1", signal_id="s2", name="shipped", payload=payload, now=T0
    )
    assert late.kind == "not-waiting"


async def test_step_id_targets_one_wait(store: InMemoryWorkflowExecutionStore) -> None:
    @create_workflow("targeted").handler
    async def targeted(ctx):  # type: ignore[no-untyped-def]
        return await ctx.wait_for_event("answer", id="question-2")

    runtime = runtime_for(store, {"targeted": targeted})
    await runtime.start_run(workflow_id="targeted", run_id="t", now=T0)
    wrong = await runtime.deliver_signal(
        run_id="t", signal_id="a", name="answer", payload=1, step_id="question-1", now=T0
    )
    assert wrong.kind == "not-waiting"
    right = await runtime.deliver_signal(
        run_id="t", signal_id="b", name="answer", payload=2, step_id="question-2", now=T0
    )
    assert right.kind == "completed"
    assert right.run is not None
    assert right.run.output == 2


async def test_signal_to_a_stale_running_run_is_not_waiting(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    runtime = runtime_for(store, build(Calls()))
    await store.create_run(
        run_id="stale",
        workflow_id="shipping",
        workflow_version=None,
        input=None,
        now=T0,
        lease_owner="dead",
        lease_ms=10,
    )
    result = await runtime.deliver_signal(
        run_id="stale", signal_id="s", name="shipped", payload=None, now=T0 + 100
    )
    assert result.kind == "not-waiting"
    run = await store.load_run("stale")
    assert run is not None
    assert run.status == "running"
    assert run.lease_owner is None  # released, so the next sweep recovers it
    swept = await runtime.sweep(now=T0 + 200)
    assert [r.kind for r in swept.recovered] == ["paused"]


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param("x" * (2 * 1024 * 1024), id="oversized"),
        pytest.param("nul\x00byte", id="nul-character"),
        pytest.param(float("nan"), id="not-json"),
    ],
)
async def test_unstorable_payload_is_rejected_and_changes_nothing(
    store: InMemoryWorkflowExecutionStore, payload: object
) -> None:
    @create_workflow("open").handler
    async def open_wait(ctx):  # type: ignore[no-untyped-def]
        return await ctx.wait_for_event("data")

    runtime = runtime_for(store, {"open": open_wait})
    await runtime.start_run(workflow_id="open", run_id="o", now=T0)
    with pytest.raises(SignalRejectedError):
        await runtime.deliver_signal(
            run_id="o", signal_id="s", name="data", payload=payload, now=T0
        )
    run = await store.load_run("o")
    assert run is not None
    assert run.status == "paused"
    assert run.lease_owner is None
    assert await log_types(store, "o") == ["SIGNAL_AWAITED"]
    ok = await runtime.deliver_signal(run_id="o", signal_id="s", name="data", payload=1, now=T0)
    assert ok.kind == "completed"


async def test_unstorable_approval_feedback_is_rejected(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    runtime = runtime_for(store, build(Calls()))
    await runtime.start_run(workflow_id="review", run_id="a", now=T0)
    decision = {"approval_id": "a:__approve-0", "approved": True, "feedback": "bad\x00"}
    with pytest.raises(SignalRejectedError, match="approval"):
        await runtime.deliver_approval(run_id="a", approval=decision, now=T0)
    run = await store.load_run("a")
    assert run is not None
    assert run.status == "paused"
    assert await log_types(store, "a") == ["APPROVAL_REQUESTED"]
