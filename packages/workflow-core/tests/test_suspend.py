"""Suspended workflows: a handler parked at a wait resumes without replaying its log."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pydantic import BaseModel

from tanstack_workflow.core import (
    ApprovalResult,
    InMemoryRunStore,
    SignalDelivery,
    SuspendedWorkflow,
    WorkflowContext,
    WorkflowDefinition,
    WorkflowEvent,
    WorkflowOutcome,
    WorkflowPaused,
    create_workflow,
    drive_workflow,
    resume_workflow,
)

Ctx = WorkflowContext[Any, Any]


class Trace:
    """What the handler really executed (replays re-run the code before a wait)."""

    def __init__(self) -> None:
        self.entered = 0
        self.steps: list[str] = []
        self.cleanups = 0


class Amount(BaseModel):
    cents: int


def counter_workflow(trace: Trace, waits: int = 3) -> WorkflowDefinition[Any, Any, Any]:
    @create_workflow("counter").handler
    async def wf(ctx: Ctx) -> int:
        trace.entered += 1
        total = 0
        try:
            for i in range(waits):
                total += await ctx.step(f"s{i}", lambda i=i: trace.steps.append(f"s{i}") or i)
                total += (await ctx.wait_for_event("tick", id=f"w{i}", schema=Amount)).cents
            return total
        finally:
            trace.cleanups += 1

    return wf


async def start(
    wf: WorkflowDefinition[Any, Any, Any], store: InMemoryRunStore, run_id: str = "r"
) -> WorkflowOutcome:
    return await drive_workflow(workflow=wf, run_store=store, run_id=run_id, suspend=True)


async def resume(
    parked: SuspendedWorkflow,
    store: InMemoryRunStore,
    *,
    events: list[WorkflowEvent] | None = None,
    **delivery: Any,
) -> WorkflowOutcome:
    state = await store.get_run_state(parked.run_id)
    assert state is not None
    log = await store.get_events(parked.run_id)
    return await resume_workflow(
        parked,
        run_state=state,
        next_index=len(log),
        run_store=store,
        emit=None if events is None else events.append,
        **delivery,
    )


def tick(i: int, cents: int = 1) -> SignalDelivery:
    return SignalDelivery(signal_id=f"sig-{i}", name="tick", payload={"cents": cents})


async def test_a_parked_handler_resumes_without_replaying() -> None:
    trace, store = Trace(), InMemoryRunStore()
    outcome = await start(counter_workflow(trace), store)
    for i in range(3):
        assert outcome.kind == "paused"
        assert outcome.suspended is not None
        outcome = await resume(outcome.suspended, store, signal_delivery=tick(i, 10))
    assert (outcome.kind, outcome.output, outcome.suspended) == ("finished", 33, None)
    assert trace.entered == 1  # never replayed: the handler body started once
    assert trace.steps == ["s0", "s1", "s2"]
    assert trace.cleanups == 1


async def test_the_log_matches_a_replayed_run() -> None:
    async def run(suspend: bool) -> list[tuple[str, str | None]]:
        store = InMemoryRunStore()
        wf = counter_workflow(Trace(), waits=2)
        outcome = await drive_workflow(workflow=wf, run_store=store, run_id="r", suspend=suspend)
        for i in range(2):
            if outcome.suspended is not None:
                outcome = await resume(outcome.suspended, store, signal_delivery=tick(i))
            else:
                outcome = await drive_workflow(
                    workflow=wf, run_store=store, run_id="r", signal_delivery=tick(i)
                )
        assert outcome.kind == "finished"
        return [(e.type, getattr(e, "step_id", None)) for e in await store.get_events("r")]

    assert await run(suspend=True) == await run(suspend=False)


async def test_resumed_invocations_emit_only_their_own_events() -> None:
    store = InMemoryRunStore()
    outcome = await start(counter_workflow(Trace(), waits=2), store)
    assert outcome.suspended is not None
    events: list[WorkflowEvent] = []
    outcome = await resume(outcome.suspended, store, events=events, signal_delivery=tick(0))
    assert [e.type for e in events] == [
        "RUN_STARTED",
        "SIGNAL_RESOLVED",
        "STEP_STARTED",
        "STEP_FINISHED",
        "SIGNAL_AWAITED",
    ]
    assert outcome.next_index == len(await store.get_events("r"))


async def test_another_writer_makes_the_suspension_stale() -> None:
    trace, store = Trace(), InMemoryRunStore()
    wf = counter_workflow(trace)
    outcome = await start(wf, store)
    parked = outcome.suspended
    assert parked is not None
    # Someone else (another process) resumes the run through a replay.
    other = await drive_workflow(workflow=wf, run_store=store, run_id="r", signal_delivery=tick(0))
    assert other.kind == "paused"
    state = await store.get_run_state("r")
    assert state is not None
    assert not parked.matches(next_index=other.next_index, created_at=state.created_at)
    with pytest.raises(ValueError, match="stale"):
        await resume_workflow(parked, run_state=state, next_index=other.next_index, run_store=store)
    parked.discard()
    await asyncio.sleep(0)
    assert trace.cleanups == 2  # the replayed invocation unwound too, as pauses do


async def test_a_recreated_run_never_matches() -> None:
    store = InMemoryRunStore()
    outcome = await start(counter_workflow(Trace()), store)
    parked = outcome.suspended
    assert parked is not None
    assert outcome.run is not None
    assert parked.matches(next_index=outcome.next_index, created_at=outcome.run.created_at)
    assert not parked.matches(next_index=outcome.next_index, created_at=outcome.run.created_at + 1)


async def test_discard_unwinds_the_handler_and_writes_nothing() -> None:
    trace, store = Trace(), InMemoryRunStore()
    outcome = await start(counter_workflow(trace), store)
    assert outcome.suspended is not None
    before = len(await store.get_events("r"))
    outcome.suspended.discard()
    task = outcome.suspended.task
    assert task is not None
    await task
    assert trace.cleanups == 1
    assert len(await store.get_events("r")) == before
    state = await store.get_run_state("r")
    assert state is not None
    assert state.status == "paused"


async def test_a_refused_payload_leaves_the_handler_parked() -> None:
    trace, store = Trace(), InMemoryRunStore()
    outcome = await start(counter_workflow(trace, waits=1), store)
    assert outcome.suspended is not None
    bad = SignalDelivery(signal_id="bad", name="tick", payload={"cents": "lots"})
    refused = await resume(outcome.suspended, store, signal_delivery=bad)
    assert refused.kind == "rejected"
    assert refused.suspended is outcome.suspended
    assert [e.type for e in await store.get_events("r")][-1] == "SIGNAL_AWAITED"
    done = await resume(refused.suspended, store, signal_delivery=tick(0, 5))
    assert (done.kind, done.output, trace.entered) == ("finished", 5, 1)


async def test_duplicate_and_lost_deliveries_keep_the_handler_parked() -> None:
    store = InMemoryRunStore()
    outcome = await start(counter_workflow(Trace()), store)
    assert outcome.suspended is not None
    outcome = await resume(outcome.suspended, store, signal_delivery=tick(0))
    assert outcome.suspended is not None
    duplicate = await resume(outcome.suspended, store, signal_delivery=tick(0))
    assert (duplicate.kind, duplicate.suspended) == ("duplicate", outcome.suspended)
    wrong = SignalDelivery(signal_id="x", name="other")
    lost = await resume(outcome.suspended, store, signal_delivery=wrong)
    assert (lost.kind, lost.code, lost.suspended) == ("lost", "signal_lost", outcome.suspended)
    done = await resume(outcome.suspended, store, signal_delivery=tick(1))
    assert done.kind == "paused"


async def test_approvals_park_and_resume() -> None:
    trace = Trace()

    @create_workflow("approver").handler
    async def wf(ctx: Ctx) -> bool:
        trace.entered += 1
        decision = await ctx.approve(title="ship it?", id="ship")
        return decision.approved

    store = InMemoryRunStore()
    outcome = await start(wf, store)
    assert outcome.suspended is not None
    decision = ApprovalResult(approved=True, approval_id="r:ship")
    done = await resume(outcome.suspended, store, approval=decision)
    assert (done.kind, done.output, trace.entered) == ("finished", True, 1)


async def test_sleeps_resume_by_timer_delivery() -> None:
    @create_workflow("sleeper").handler
    async def wf(ctx: Ctx) -> str:
        await ctx.sleep(1_000, id="nap")
        return "woke"

    store = InMemoryRunStore()
    outcome = await start(wf, store)
    assert outcome.suspended is not None
    timer = SignalDelivery(signal_id="t", name="__timer", step_id="nap")
    done = await resume(outcome.suspended, store, signal_delivery=timer)
    assert (done.kind, done.output) == ("finished", "woke")


async def test_a_recovery_without_delivery_parks_again_without_writing() -> None:
    store = InMemoryRunStore()
    outcome = await start(counter_workflow(Trace()), store)
    assert outcome.suspended is not None
    before = len(await store.get_events("r"))
    again = await resume(outcome.suspended, store)
    assert (again.kind, again.suspended) == ("paused", outcome.suspended)
    assert len(await store.get_events("r")) == before


async def test_waits_in_child_tasks_are_not_parked() -> None:
    @create_workflow("fan-in").handler
    async def wf(ctx: Ctx) -> list[Any]:
        return list(await asyncio.gather(ctx.wait_for_event("a"), ctx.step("b", lambda: 2)))

    store = InMemoryRunStore()
    outcome = await start(wf, store)
    assert (outcome.kind, outcome.suspended) == ("paused", None)
    done = await drive_workflow(
        workflow=wf,
        run_store=store,
        run_id="r",
        signal_delivery=SignalDelivery(signal_id="s", name="a", payload=1),
    )
    assert (done.kind, done.output) == ("finished", [1, 2])


async def test_a_primitive_called_while_parked_taints_the_suspension() -> None:
    background: list[asyncio.Task[Any]] = []
    release = asyncio.Event()

    @create_workflow("stray").handler
    async def wf(ctx: Ctx) -> Any:
        async def later() -> Any:
            await release.wait()
            return await ctx.step("late", lambda: 1)

        background.append(asyncio.ensure_future(later()))
        return await ctx.wait_for_event("go")

    store = InMemoryRunStore()
    outcome = await start(wf, store)
    parked = outcome.suspended
    assert parked is not None
    assert outcome.run is not None
    release.set()
    with pytest.raises(WorkflowPaused):  # the stray step is refused: the run is paused
        await background[0]
    assert not parked.matches(next_index=outcome.next_index, created_at=outcome.run.created_at)
    parked.discard()


async def test_cancelling_the_caller_stops_the_handler() -> None:
    started = asyncio.Event()
    stopped = asyncio.Event()

    async def slow() -> int:
        started.set()
        try:
            await asyncio.sleep(60)
        finally:
            stopped.set()
        return 1

    @create_workflow("slow").handler
    async def wf(ctx: Ctx) -> int:
        return int(await ctx.step("slow", slow))

    caller = asyncio.ensure_future(start(wf, InMemoryRunStore()))
    await started.wait()
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    await asyncio.wait_for(stopped.wait(), 5)
