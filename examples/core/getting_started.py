"""Getting started: define a workflow, run it until it waits, resume it with a signal."""

import asyncio

from pydantic import BaseModel

from tanstack_workflow.core import (
    SignalDelivery,
    WorkflowContext,
    create_workflow,
    in_memory_run_store,
    run_workflow,
)


class Order(BaseModel):
    order_id: str
    amount_cents: int


class Receipt(BaseModel):
    order_id: str
    charge_id: str


async def charge_card(order: Order) -> str:
    return f"ch_{order.order_id}"  # call your payment provider here


@create_workflow("fulfil-order", input=Order, output=Receipt).handler
async def fulfil_order(ctx: WorkflowContext[Order, dict[str, object]]) -> Receipt:
    async def charge() -> str:
        return await charge_card(ctx.input)

    charge_id = await ctx.step("charge-card", charge)  # runs once, ever
    await ctx.wait_for_event("shipped")  # the run pauses here; no process waits
    return Receipt(order_id=ctx.input.order_id, charge_id=charge_id)


async def main() -> None:
    store = in_memory_run_store()

    # Start: runs until the first durable wait, then returns.
    run = run_workflow(
        workflow=fulfil_order,
        run_store=store,
        input={"order_id": "o-1", "amount_cents": 1299},
        run_id="order-o-1",
    )
    async for event in run:
        print(event.type)  # RUN_STARTED, STEP_STARTED, STEP_FINISHED, SIGNAL_AWAITED
    assert run.outcome is not None
    assert run.outcome.kind == "paused"

    # Later, maybe in another process: deliver the signal the run waits for.
    outcome = await run_workflow(
        workflow=fulfil_order,
        run_store=store,
        run_id="order-o-1",
        signal_delivery=SignalDelivery(signal_id="carrier-evt-17", name="shipped"),
    ).result()
    print(outcome.kind, outcome.output)
    assert outcome.kind == "finished"
    assert outcome.output == {"order_id": "o-1", "charge_id": "ch_o-1"}


if __name__ == "__main__":
    asyncio.run(main())
