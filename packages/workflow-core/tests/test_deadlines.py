"""Wait and approval deadlines at core level: expired_wait_id resumes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from workflow_core_helpers import collect, first

from tanstack_workflow.core import (
    ApprovalResult,
    ApprovalTimeoutError,
    InMemoryRunStore,
    SignalDelivery,
    WaitTimeoutError,
    WorkflowContext,
    create_workflow,
    run_workflow,
)

Ctx = WorkflowContext[object, object]
DEADLINE = 1_900_000_000_000


def wait_with_fallback() -> Any:
    timeouts: list[WaitTimeoutError] = []

    @create_workflow("wait-deadline").handler
    async def wf(ctx: Ctx) -> Any:
        try:
            payload = await ctx.wait_for_event("thing", id="w", deadline=DEADLINE)
        except WaitTimeoutError as err:
            timeouts.append(err)
            payload = "timed out"
        await ctx.wait_for_event("next", id="n")
        return payload

    return wf, timeouts


async def expire(store: Any, wf: Any, wait_id: str) -> Any:
    return await collect(
        run_workflow(workflow=wf, run_store=store, run_id="r", expired_wait_id=wait_id)
    )


async def test_deadline_is_recorded_on_the_wait(store: InMemoryRunStore) -> None:
    wf, _ = wait_with_fallback()
    events, _ = await collect(run_workflow(workflow=wf, run_store=store, run_id="r"))
    assert first(events, "SIGNAL_AWAITED").deadline == DEADLINE
    state = await store.get_run_state("r")
    assert state is not None
    assert state.waiting_for is not None
    assert state.waiting_for.deadline == DEADLINE


async def test_datetime_deadline_is_converted_to_epoch_ms(store: InMemoryRunStore) -> None:
    when = datetime(2031, 6, 1, tzinfo=UTC)

    @create_workflow("dt-deadline").handler
    async def wf(ctx: Ctx) -> None:
        await ctx.wait_for_event("thing", deadline=when)

    events, _ = await collect(run_workflow(workflow=wf, run_store=store))
    assert first(events, "SIGNAL_AWAITED").deadline == int(when.timestamp() * 1000)


async def test_expired_wait_raises_a_catchable_wait_timeout_error(store: InMemoryRunStore) -> None:
    wf, timeouts = wait_with_fallback()
    await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    events, outcome = await expire(store, wf, "w")
    assert outcome.kind == "paused"
    resolved = first(events, "SIGNAL_RESOLVED")
    assert resolved.timed_out is True
    assert resolved.step_id == "w"
    assert len(timeouts) == 1
    err = timeouts[0]
    assert (err.step_id, err.name, err.deadline) == ("w", "thing", DEADLINE)
    assert isinstance(err, TimeoutError)

    # replay raises the same timeout again, and the run continues
    done = await run_workflow(
        workflow=wf, run_store=store, run_id="r", signal_delivery=SignalDelivery("s", "next")
    ).result()
    assert done.output == "timed out"
    assert len(timeouts) == 2


async def test_uncaught_wait_timeout_errors_the_run(store: InMemoryRunStore) -> None:
    @create_workflow("uncaught").handler
    async def wf(ctx: Ctx) -> None:
        await ctx.wait_for_event("thing", id="w", deadline=DEADLINE)

    await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    _, outcome = await expire(store, wf, "w")
    assert outcome.kind == "errored"
    assert outcome.error.name == "WaitTimeoutError"


async def test_signal_after_the_deadline_fired_is_lost(store: InMemoryRunStore) -> None:
    wf, _ = wait_with_fallback()
    await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    await expire(store, wf, "w")
    outcome = await run_workflow(
        workflow=wf, run_store=store, run_id="r", signal_delivery=SignalDelivery("late", "thing", 1)
    ).result()
    assert (outcome.kind, outcome.code) == ("lost", "signal_lost")


async def test_deadline_after_a_signal_won_is_lost(store: InMemoryRunStore) -> None:
    wf, timeouts = wait_with_fallback()
    await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    await run_workflow(
        workflow=wf,
        run_store=store,
        run_id="r",
        signal_delivery=SignalDelivery("s", "thing", "on time"),
    ).result()
    log = list(await store.get_events("r"))

    events, outcome = await expire(store, wf, "w")
    assert (outcome.kind, outcome.code, outcome.persisted) == ("lost", "deadline_lost", False)
    assert first(events, "RUN_ERRORED").code == "deadline_lost"
    assert list(await store.get_events("r")) == log
    assert timeouts == []


async def test_deadline_for_an_unknown_wait_is_lost(store: InMemoryRunStore) -> None:
    wf, _ = wait_with_fallback()
    await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    _, outcome = await expire(store, wf, "no-such-wait")
    assert outcome.code == "deadline_lost"


async def test_expired_approval_raises_approval_timeout_error(store: InMemoryRunStore) -> None:
    caught: list[ApprovalTimeoutError] = []

    @create_workflow("approval-deadline").handler
    async def wf(ctx: Ctx) -> str:
        try:
            decision = await ctx.approve(title="Ship?", id="gate", deadline=DEADLINE)
        except ApprovalTimeoutError as err:
            caught.append(err)
            return "escalated"
        return "approved" if decision.approved else "rejected"

    events, _ = await collect(run_workflow(workflow=wf, run_store=store, run_id="r"))
    assert first(events, "APPROVAL_REQUESTED").deadline == DEADLINE
    state = await store.get_run_state("r")
    assert state is not None
    assert state.pending_approval is not None
    assert state.pending_approval.deadline == DEADLINE

    events, outcome = await expire(store, wf, "gate")
    assert outcome.output == "escalated"
    resolved = first(events, "APPROVAL_RESOLVED")
    assert (resolved.timed_out, resolved.approved) == (True, False)
    assert isinstance(caught[0], WaitTimeoutError)
    assert caught[0].deadline == DEADLINE

    # a decision arriving after the deadline finds a finished run
    late = await run_workflow(
        workflow=wf, run_store=store, run_id="r", approval=ApprovalResult(True, "r:gate")
    ).result()
    assert late.kind == "attached"
    assert late.output == "escalated"


async def test_approval_decided_before_the_deadline_wins(store: InMemoryRunStore) -> None:
    @create_workflow("approval-race").handler
    async def wf(ctx: Ctx) -> bool:
        decision = await ctx.approve(title="Ship?", id="gate", deadline=DEADLINE)
        await ctx.wait_for_event("next")
        return decision.approved

    await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    await run_workflow(
        workflow=wf, run_store=store, run_id="r", approval=ApprovalResult(True, "r:gate")
    ).result()
    _, outcome = await expire(store, wf, "gate")
    assert outcome.code == "deadline_lost"
