"""The runtime model: runs, the log, timers, signals, approvals, deadlines, budgets,
result kinds, publish and cancel. Time is passed explicitly as ``now`` (epoch ms)."""

import asyncio
from datetime import timedelta

from pydantic import BaseModel

from tanstack_workflow.core import (
    ApprovalTimeoutError,
    WorkflowContext,
    WorkflowEvent,
    create_workflow,
)
from tanstack_workflow.runtime import (
    WorkflowRunResult,
    define_workflow_runtime,
    in_memory_workflow_execution_store,
)

T0 = 1_800_000_000_000


class Shipment(BaseModel):
    carrier: str


@create_workflow("order", input=str).handler
async def order(ctx: WorkflowContext[str, dict[str, object]]) -> dict[str, object]:
    charge = await ctx.step("charge", lambda: f"ch_{ctx.input}")
    await ctx.sleep(timedelta(minutes=10))  # arms the run's timer: wake_at = now + 10 min
    shipment = await ctx.wait_for_event("shipped", schema=Shipment)
    try:
        decision = await ctx.approve(title="Send a thank-you gift?", deadline=T0 + 86_400_000)
        gift = decision.approved
    except ApprovalTimeoutError:  # the deadline fired first (a sweep delivered it)
        gift = False
    return {"charge": charge, "carrier": shipment.carrier, "gift": gift}


@create_workflow("import-rows", input=int).handler
async def import_rows(ctx: WorkflowContext[int, dict[str, object]]) -> int:
    imported = 0
    for batch in range(ctx.input):
        if ctx.runtime.should_yield():  # little budget left in this invocation
            await ctx.runtime.yield_(reason="budget")  # pause; a sweep continues the run

        async def load(batch: int = batch) -> int:
            await asyncio.sleep(0.05)  # real work uses real time from the budget
            return 100

        imported += await ctx.step(f"batch-{batch}", load)
    return imported


def show(label: str, result: WorkflowRunResult) -> None:
    run = result.run
    status = run.status if run else "-"
    wake = f" wake_at=T0+{run.wake_at - T0}" if run and run.wake_at else ""
    print(f"{label:<34} {result.kind:<12} status={status}{wake} events={result.event_count}")


async def main() -> None:
    published: list[str] = []

    def publish(run_id: str, event: WorkflowEvent) -> None:
        published.append(f"{run_id}:{event.type}")  # best effort; may raise, never matters

    store = in_memory_workflow_execution_store()
    runtime = define_workflow_runtime(
        store=store, workflows={"order": order, "import-rows": import_rows}, publish=publish
    )

    started = await runtime.start_run(workflow_id="order", run_id="order-1", input="1", now=T0)
    show("start_run", started)  # paused on the sleep
    assert started.kind == "paused"
    assert started.run is not None
    wake_at = started.run.wake_at  # T0 + 10 min (plus the real ms the call took)
    assert wake_at is not None
    assert wake_at >= T0 + 600_000

    early = await runtime.sweep(now=T0 + 60_000)
    assert early.timers == []  # not due yet: nothing happens
    woke = await runtime.sweep(now=wake_at)
    show("sweep at T0+10min", woke.timers[0])  # paused again, now on wait_for_event

    shipped = await runtime.deliver_signal(
        run_id="order-1",
        signal_id="hook-1",
        name="shipped",
        payload={"carrier": "DHL"},
        now=T0 + 700_000,
    )
    show("deliver_signal('shipped')", shipped)  # paused on approve, deadline armed
    again = await runtime.deliver_signal(
        run_id="order-1",
        signal_id="hook-1",
        name="shipped",
        payload={"carrier": "DHL"},
        now=T0 + 700_001,
    )
    show("same signal_id again", again)
    assert again.kind == "duplicate"

    deadline = await runtime.sweep(now=T0 + 86_400_000)
    show("sweep after the approval deadline", deadline.timers[0])
    assert deadline.timers[0].run is not None
    assert deadline.timers[0].run.output == {"charge": "ch_1", "carrier": "DHL", "gift": False}

    late = await runtime.deliver_approval(
        run_id="order-1",
        approval={"approval_id": "order-1:__approve-0", "approved": True},
        now=T0 + 86_400_001,
    )
    show("approval after the deadline", late)
    assert late.kind == "not-waiting"

    second = await runtime.start_run(workflow_id="order", run_id="order-2", input="2", now=T0)
    cancelled = await runtime.cancel_run(run_id="order-2", reason="customer left", now=T0 + 1)
    show("cancel_run", cancelled)
    assert second.kind == "paused"
    assert cancelled.run is not None
    assert cancelled.run.error_code == "cancelled"

    budgeted = await runtime.start_run(
        workflow_id="import-rows", run_id="import-1", input=10, now=T0, max_duration_ms=1_200
    )
    show("start_run with a 1.2 s budget", budgeted)  # paused on a timer at now + 1
    now = T0 + 1
    while True:
        swept = await runtime.sweep(now=now, max_duration_ms=1_200, include_events=False)
        run = await store.load_run("import-1")
        assert run is not None
        if run.status == "finished":
            break
        now = run.wake_at or now + 1
    print(f"{'import-1 after sweeps':<34} output={run.output} sweep summary={swept.summary.timers}")
    assert run.output == 1_000

    timeline = await runtime.get_run_timeline("order-1")
    assert timeline is not None
    print("\nlog of order-1:")
    for stored in timeline.events:
        print(f"  #{stored.event_index:<2} {stored.event_type:<20} {stored.step_id or ''}")
    print(f"\npublished {len(published)} events, first: {published[0]}")


if __name__ == "__main__":
    asyncio.run(main())
