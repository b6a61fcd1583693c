"""ctx.approve and approval delivery: deterministic ids, matching, idempotency, races."""

from __future__ import annotations

import asyncio
from typing import Any

from workflow_core_helpers import GatedStore, collect, first, types

from tanstack_workflow.core import (
    ApprovalResult,
    InMemoryRunStore,
    SignalDelivery,
    WorkflowContext,
    WorkflowDefinition,
    create_workflow,
    run_workflow,
)

Ctx = WorkflowContext[object, object]


def approval_workflow() -> WorkflowDefinition[Any, Any, Any]:
    @create_workflow("approval").handler
    async def wf(ctx: Ctx) -> dict[str, Any]:
        decision = await ctx.approve(title="Ship?")
        return {"approved": decision.approved, "feedback": decision.feedback}

    return wf


async def decide(store: Any, wf: Any, approval: ApprovalResult, run_id: str = "r") -> Any:
    return await collect(
        run_workflow(workflow=wf, run_store=store, run_id=run_id, approval=approval)
    )


async def test_approval_ids_are_deterministic(store: InMemoryRunStore) -> None:
    @create_workflow("ids").handler
    async def wf(ctx: Ctx) -> None:
        await ctx.approve(title="first")
        await ctx.approve(title="named", id="legal")
        await ctx.approve(title="third")

    events, _ = await collect(run_workflow(workflow=wf, run_store=store, run_id="run-9"))
    assert first(events, "APPROVAL_REQUESTED").approval_id == "run-9:__approve-0"
    await decide(store, wf, ApprovalResult(True, "run-9:__approve-0"), run_id="run-9")
    await decide(store, wf, ApprovalResult(True, "run-9:legal"), run_id="run-9")
    state = await store.get_run_state("run-9")
    assert state is not None
    assert state.pending_approval is not None
    assert state.pending_approval.approval_id == "run-9:__approve-1"


async def test_approval_for_another_id_is_lost(store: InMemoryRunStore) -> None:
    wf = approval_workflow()
    await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    before = list(await store.get_events("r"))

    events, lost = await decide(store, wf, ApprovalResult(True, "wrong-approval"))
    assert (lost.kind, lost.code, lost.persisted) == ("lost", "approval_lost", False)
    assert first(events, "RUN_ERRORED").code == "approval_lost"
    assert list(await store.get_events("r")) == before

    _, accepted = await decide(store, wf, ApprovalResult(True, "r:__approve-0", feedback="go"))
    assert accepted.output == {"approved": True, "feedback": "go"}


async def test_approval_for_a_run_waiting_on_a_signal_is_lost(store: InMemoryRunStore) -> None:
    @create_workflow("signal-wait").handler
    async def wf(ctx: Ctx) -> None:
        await ctx.wait_for_event("go")

    await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    _, lost = await decide(store, wf, ApprovalResult(True, "r:__approve-0"))
    assert lost.code == "approval_lost"


async def test_signal_for_a_run_waiting_on_an_approval_is_lost(store: InMemoryRunStore) -> None:
    wf = approval_workflow()
    await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    outcome = await run_workflow(
        workflow=wf, run_store=store, run_id="r", signal_delivery=SignalDelivery("s", "go")
    ).result()
    assert outcome.code == "signal_lost"


async def test_same_decision_twice_is_a_duplicate(store: InMemoryRunStore) -> None:
    @create_workflow("two-gates").handler
    async def wf(ctx: Ctx) -> list[bool]:
        a = await ctx.approve(title="one", id="one")
        b = await ctx.approve(title="two", id="two")
        return [a.approved, b.approved]

    await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    decision = ApprovalResult(True, "r:one", feedback="fine")
    await decide(store, wf, decision)
    log = list(await store.get_events("r"))

    events, again = await decide(store, wf, decision)
    assert (again.kind, again.code) == ("duplicate", "duplicate")
    assert events == []
    assert list(await store.get_events("r")) == log


async def test_a_different_decision_after_the_first_won_is_lost(store: InMemoryRunStore) -> None:
    @create_workflow("two-gates").handler
    async def wf(ctx: Ctx) -> list[bool]:
        a = await ctx.approve(title="one", id="one")
        b = await ctx.approve(title="two", id="two")
        return [a.approved, b.approved]

    await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    await decide(store, wf, ApprovalResult(True, "r:one"))
    _, lost = await decide(store, wf, ApprovalResult(False, "r:one"))
    assert (lost.kind, lost.code) == ("lost", "approval_lost")
    _, done = await decide(store, wf, ApprovalResult(False, "r:two"))
    assert done.output == [True, False]  # the first decision stands


async def test_decision_after_the_run_finished_attaches(store: InMemoryRunStore) -> None:
    wf = approval_workflow()
    await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    await decide(store, wf, ApprovalResult(True, "r:__approve-0"))
    events, again = await decide(store, wf, ApprovalResult(False, "r:__approve-0"))
    assert again.kind == "attached"
    assert first(events, "RUN_FINISHED").output == {"approved": True, "feedback": None}


async def test_racing_decisions_one_wins() -> None:
    store = GatedStore()
    wf = approval_workflow()
    await run_workflow(workflow=wf, run_store=store, run_id="r").result()

    store.hold_next = True
    slow = asyncio.create_task(decide(store, wf, ApprovalResult(False, "r:__approve-0")))
    await store.arrived.wait()
    _, fast = await decide(store, wf, ApprovalResult(True, "r:__approve-0"))
    store.release.set()
    events, slow_outcome = await slow

    assert fast.output == {"approved": True, "feedback": None}
    assert (slow_outcome.kind, slow_outcome.code) == ("lost", "approval_lost")
    assert first(events, "RUN_ERRORED").code == "approval_lost"
    log = await store.get_events("r")
    assert types(log) == ["APPROVAL_REQUESTED", "APPROVAL_RESOLVED", "RUN_FINISHED"]
    assert log[1].approved is True


async def test_rejection_is_an_ordinary_result(store: InMemoryRunStore) -> None:
    wf = approval_workflow()
    await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    _, outcome = await decide(
        store, wf, ApprovalResult(False, "r:__approve-0", feedback="too risky")
    )
    assert outcome.kind == "finished"
    assert outcome.output == {"approved": False, "feedback": "too risky"}
