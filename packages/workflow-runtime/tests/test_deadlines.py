"""Deadlines that really fire: wait_for_event(deadline=...) and approve(deadline=...)."""

from __future__ import annotations

from runtime_helpers import T0, log_types, runtime_for

from tanstack_workflow.core import ApprovalTimeoutError, WaitTimeoutError, create_workflow
from tanstack_workflow.runtime import InMemoryWorkflowExecutionStore

DEADLINE = T0 + 30_000


@create_workflow("waiter").handler
async def waiter(ctx):  # type: ignore[no-untyped-def]
    try:
        payload = await ctx.wait_for_event("reply", id="reply", deadline=DEADLINE)
    except WaitTimeoutError as exc:
        return {"timed_out": True, "deadline": exc.deadline}
    return {"timed_out": False, "payload": payload}


@create_workflow("approver").handler
async def approver(ctx):  # type: ignore[no-untyped-def]
    try:
        decision = await ctx.approve(title="ok?", id="gate", deadline=DEADLINE)
    except ApprovalTimeoutError as exc:
        return {"timed_out": True, "deadline": exc.deadline}
    return {"timed_out": False, "approved": decision.approved}


WORKFLOWS = {"waiter": waiter, "approver": approver}


async def test_wait_deadline_arms_a_timer_that_fires(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    runtime = runtime_for(store, WORKFLOWS)
    started = await runtime.start_run(workflow_id="waiter", run_id="w", now=T0)
    assert started.run is not None
    assert started.run.wake_at == DEADLINE
    assert started.run.wake_kind == "deadline"
    assert started.run.wake_step_id == "reply"

    # a sweep's clock starts at its ``now`` and advances with real time: keep a margin
    assert (await runtime.sweep(now=DEADLINE - 1_000)).timers == []
    fired = await runtime.sweep(now=DEADLINE)
    assert [r.kind for r in fired.timers] == ["completed"]
    run = await store.load_run("w")
    assert run is not None
    assert run.output == {"timed_out": True, "deadline": DEADLINE}
    assert run.wake_at is None
    resolved = [s.event for s in await store.read_events("w")][1]
    assert resolved.type == "SIGNAL_RESOLVED"
    assert resolved.timed_out is True  # type: ignore[union-attr]

    late = await runtime.deliver_signal(
        run_id="w", signal_id="late", name="reply", payload=1, now=DEADLINE + 1
    )
    assert late.kind == "not-waiting"
    assert (await runtime.sweep(now=DEADLINE + 60_000)).timers == []


async def test_signal_before_the_deadline_wins_and_disarms_the_timer(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    runtime = runtime_for(store, WORKFLOWS)
    await runtime.start_run(workflow_id="waiter", run_id="w", now=T0)
    won = await runtime.deliver_signal(
        run_id="w", signal_id="s", name="reply", payload="hi", now=DEADLINE - 1
    )
    assert won.kind == "completed"
    assert won.run is not None
    assert won.run.output == {"timed_out": False, "payload": "hi"}
    assert won.run.wake_at is None
    after = await runtime.sweep(now=DEADLINE + 1)
    assert after.timers == []
    assert after.summary.timers == {}
    assert await log_types(store, "w") == ["SIGNAL_AWAITED", "SIGNAL_RESOLVED", "RUN_FINISHED"]


async def test_deadline_first_then_signal_never_both(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    @create_workflow("then-more").handler
    async def then_more(ctx):  # type: ignore[no-untyped-def]
        try:
            await ctx.wait_for_event("reply", id="reply", deadline=DEADLINE)
            outcome = "signal"
        except WaitTimeoutError:
            outcome = "timeout"
        await ctx.wait_for_event("next", id="next")
        return outcome

    runtime = runtime_for(store, {"then-more": then_more})
    await runtime.start_run(workflow_id="then-more", run_id="w", now=T0)
    fired = await runtime.sweep(now=DEADLINE)
    assert [r.kind for r in fired.timers] == ["paused"]
    late = await runtime.deliver_signal(
        run_id="w", signal_id="late", name="reply", payload=1, now=DEADLINE + 1
    )
    assert late.kind == "not-waiting"
    done = await runtime.deliver_signal(run_id="w", signal_id="n", name="next", now=DEADLINE + 2)
    assert done.kind == "completed"
    assert done.run is not None
    assert done.run.output == "timeout"
    resolutions = [
        s.event for s in await store.read_events("w") if s.event.type == "SIGNAL_RESOLVED"
    ]
    assert [e.step_id for e in resolutions] == ["reply", "next"]  # type: ignore[union-attr]


async def test_claimed_deadline_blocks_a_racing_signal(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    runtime = runtime_for(store, WORKFLOWS)
    await runtime.start_run(workflow_id="waiter", run_id="w", now=T0)
    # a sweep elsewhere claimed the due deadline and is about to fire it
    wakeups = await store.claim_due_timers(
        now=DEADLINE, limit=10, lease_owner="sweeper", lease_ms=5_000
    )
    assert [w.run_id for w in wakeups] == ["w"]
    racing = await runtime.deliver_signal(
        run_id="w", signal_id="s", name="reply", payload="hi", now=DEADLINE + 1
    )
    assert racing.kind == "not-claimable"
    # the lease lapses without the sweeper finishing; the next sweep fires the deadline
    fired = await runtime.sweep(now=DEADLINE + 5_000)
    assert [r.kind for r in fired.timers] == ["completed"]
    assert fired.timers[0].run is not None
    assert fired.timers[0].run.output["timed_out"] is True
    retried = await runtime.deliver_signal(
        run_id="w", signal_id="s", name="reply", payload="hi", now=DEADLINE + 6_000
    )
    assert retried.kind == "not-waiting"


async def test_approval_deadline_fires(store: InMemoryWorkflowExecutionStore) -> None:
    runtime = runtime_for(store, WORKFLOWS)
    started = await runtime.start_run(workflow_id="approver", run_id="a", now=T0)
    assert started.run is not None
    assert started.run.wake_at == DEADLINE
    assert started.run.wake_kind == "deadline"
    # a sweep's clock starts at its ``now`` and advances with real time: keep a margin
    assert (await runtime.sweep(now=DEADLINE - 1_000)).timers == []
    fired = await runtime.sweep(now=DEADLINE)
    assert [r.kind for r in fired.timers] == ["completed"]
    run = await store.load_run("a")
    assert run is not None
    assert run.output == {"timed_out": True, "deadline": DEADLINE}
    late = await runtime.deliver_approval(
        run_id="a", approval={"approval_id": "a:gate", "approved": True}, now=DEADLINE + 1
    )
    assert late.kind == "not-waiting"


async def test_approval_before_the_deadline_wins(store: InMemoryWorkflowExecutionStore) -> None:
    runtime = runtime_for(store, WORKFLOWS)
    await runtime.start_run(workflow_id="approver", run_id="a", now=T0)
    won = await runtime.deliver_approval(
        run_id="a", approval={"approval_id": "a:gate", "approved": True}, now=DEADLINE - 1
    )
    assert won.kind == "completed"
    assert won.run is not None
    assert won.run.output == {"timed_out": False, "approved": True}
    assert (await runtime.sweep(now=DEADLINE + 1)).timers == []


async def test_uncaught_timeout_errors_the_run(store: InMemoryWorkflowExecutionStore) -> None:
    @create_workflow("strict").handler
    async def strict(ctx):  # type: ignore[no-untyped-def]
        return await ctx.wait_for_event("reply", deadline=DEADLINE)

    runtime = runtime_for(store, {"strict": strict})
    await runtime.start_run(workflow_id="strict", run_id="s", now=T0)
    fired = await runtime.sweep(now=DEADLINE)
    assert [r.kind for r in fired.timers] == ["errored"]
    run = await store.load_run("s")
    assert run is not None
    assert run.status == "errored"
    assert run.error is not None
    assert run.error.name == "WaitTimeoutError"
