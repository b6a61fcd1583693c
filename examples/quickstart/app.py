"""The quickstart demo: one order workflow driven through every kind of pause.

Run it with ``hatch run demo`` (or ``python examples/quickstart/app.py [--db PATH]``).
It uses the runtime on the embedded durable default, a local SQLite file with
Cloudflare D1's semantics, and moves time forward explicitly, so a ten-minute sleep
takes no time at all. Every pause is in the file: another process pointed at the
same file could resume the run.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from datetime import timedelta
from pathlib import Path

from pydantic import BaseModel

from tanstack_workflow.core import WorkflowContext, create_workflow
from tanstack_workflow.runtime import (
    WorkflowRunResult,
    define_workflow_runtime,
    every,
)
from tanstack_workflow.store_d1 import create_cloudflare_d1_workflow_store, local_d1_database


class Order(BaseModel):
    order_id: str
    amount_cents: int


class Receipt(BaseModel):
    charge_id: str
    amount_cents: int


@create_workflow("fulfil-order", input=Order, output=dict).handler
async def fulfil_order(ctx: WorkflowContext[Order, dict[str, object]]) -> dict[str, object]:
    async def charge() -> Receipt:  # runs once, ever: replays return the recorded Receipt
        return Receipt(charge_id=f"ch_{ctx.input.order_id}", amount_cents=ctx.input.amount_cents)

    receipt = await ctx.step("charge-card", charge, retry={"max_attempts": 3})
    await ctx.sleep(timedelta(minutes=10))  # durable: the process may exit meanwhile
    shipment = await ctx.wait_for_event("shipped", schema=dict)
    decision = await ctx.approve(title=f"Refund policy check for {ctx.input.order_id}?")
    return {
        "receipt": receipt.charge_id,
        "carrier": shipment["carrier"],
        "approved": decision.approved,
    }


@create_workflow("nightly-report").handler
async def nightly_report(ctx: WorkflowContext[None, dict[str, object]]) -> str:
    return await ctx.step("build", lambda: "report built")


def show(label: str, result: WorkflowRunResult) -> None:
    run = result.run
    waiting = ""
    if run is not None and run.waiting_for is not None:
        waiting = f" waiting for {run.waiting_for.signal_name!r}"
    elif run is not None and run.pending_approval is not None:
        waiting = f" waiting for approval {run.pending_approval.approval_id!r}"
    print(f"{label:<28} -> {result.kind}{waiting}")


async def main(db_path: Path) -> None:
    store = create_cloudflare_d1_workflow_store(db=local_d1_database(db_path))
    await store.ensure_schema()  # demos and tests only; deployments apply the migrations
    print(f"store: local D1 file {db_path}\n")
    runtime = define_workflow_runtime(
        store=store,
        workflows={
            "fulfil-order": fulfil_order,
            "nightly-report": {"load": nightly_report, "schedules": [every.hours(24)]},
        },
    )
    now = 1_800_000_000_000  # explicit time: the demo fast-forwards instead of waiting

    started = await runtime.start_run(
        workflow_id="fulfil-order",
        run_id="order-42",
        input={"order_id": "42", "amount_cents": 1999},
        now=now,
    )
    show("start_run", started)

    swept = await runtime.sweep(now=now + 60_000)
    print(f"{'sweep after 1 minute':<28} -> timers fired: {swept.summary.timers or 'none'}")
    swept = await runtime.sweep(now=now + 601_000)
    show("sweep after 10 minutes", swept.timers[0])

    shipped = await runtime.deliver_signal(
        run_id="order-42",
        signal_id="carrier-webhook-1",
        name="shipped",
        payload={"carrier": "DHL"},
        now=now + 700_000,
    )
    show("deliver_signal('shipped')", shipped)
    again = await runtime.deliver_signal(
        run_id="order-42",
        signal_id="carrier-webhook-1",
        name="shipped",
        payload={"carrier": "DHL"},
        now=now + 700_001,
    )
    show("same signal again", again)

    assert shipped.run is not None
    assert shipped.run.pending_approval is not None
    approval_id = shipped.run.pending_approval.approval_id
    done = await runtime.deliver_approval(
        run_id="order-42",
        approval={"approval_id": approval_id, "approved": True},
        now=now + 800_000,
    )
    show("deliver_approval", done)
    assert done.run is not None
    print(f"{'output':<28} -> {done.run.output}")

    from tanstack_workflow.runtime import materialize_workflow_schedules

    await materialize_workflow_schedules(runtime, now=now + 800_000)
    scheduled = await runtime.sweep(now=now + 800_000)
    print(f"{'schedule tick':<28} -> {scheduled.summary.scheduled}")

    timeline = await runtime.get_run_timeline("order-42")
    assert timeline is not None
    print("\ntimeline of order-42:")
    for stored in timeline.events:
        print(f"  #{stored.event_index:<2} {stored.event_type:<20} {stored.step_id or ''}")

    await runtime.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="tanstack-workflow quickstart demo")
    parser.add_argument(
        "--db", type=Path, help="SQLite file to use (default: a fresh temporary file)"
    )
    args = parser.parse_args()
    path = args.db or Path(tempfile.mkdtemp(prefix="tanstack-workflow-demo-")) / "demo.sqlite"
    asyncio.run(main(path))
