"""Durable waits: sleep, wait_for_event (schema, id, deadline) and approve."""

import asyncio
from datetime import timedelta

from pydantic import BaseModel

from tanstack_workflow.core import (
    TIMER_SIGNAL,
    ApprovalResult,
    InMemoryRunStore,
    SignalDelivery,
    WaitTimeoutError,
    WorkflowContext,
    WorkflowOutcome,
    create_workflow,
    in_memory_run_store,
    run_workflow,
)


class Payment(BaseModel):
    amount_cents: int
    provider_ref: str


@create_workflow("subscription").handler
async def subscription(ctx: WorkflowContext[None, dict[str, object]]) -> dict[str, object]:
    await ctx.sleep(timedelta(days=14), id="trial")  # the deadline is fixed at first call

    now = await ctx.now()
    try:
        payment = await ctx.wait_for_event(
            "payment-received",
            id="first-payment",
            schema=Payment,  # payloads that do not fit are refused; the run keeps waiting
            deadline=now + 3 * 24 * 3600 * 1000,
        )
        paid = payment.amount_cents
    except WaitTimeoutError:
        paid = 0

    decision = await ctx.approve(
        title="Activate the account?",
        description=f"paid {paid} cents",
        id="activation",
    )
    return {"paid": paid, "active": decision.approved, "note": decision.feedback}


async def resume(
    store: InMemoryRunStore,
    signal: SignalDelivery | None = None,
    approval: ApprovalResult | None = None,
) -> WorkflowOutcome:
    return await run_workflow(
        workflow=subscription,
        run_store=store,
        run_id="sub-1",
        signal_delivery=signal,
        approval=approval,
    ).result()


async def main() -> None:
    store = in_memory_run_store()
    first = await run_workflow(workflow=subscription, run_store=store, run_id="sub-1").result()
    assert first.run is not None
    assert first.run.waiting_for is not None
    print("waiting for", first.run.waiting_for.signal_name, "until", first.run.waiting_for.deadline)

    # A scheduler wakes the sleep by delivering the timer signal once its deadline passed.
    woken = await resume(store, SignalDelivery("wake-trial", TIMER_SIGNAL, step_id="trial"))
    assert woken.kind == "paused"

    # A payload that does not fit the schema is rejected; the run stays paused.
    bad = await resume(store, SignalDelivery("evt-1", "payment-received", {"amount_cents": "lots"}))
    print(bad.kind, bad.code)  # rejected signal_rejected

    paid = await resume(
        store,
        SignalDelivery("evt-2", "payment-received", {"amount_cents": 4900, "provider_ref": "pi_1"}),
    )
    assert paid.run is not None
    assert paid.run.pending_approval is not None
    approval_id = paid.run.pending_approval.approval_id
    print("approval id:", approval_id)  # "<run_id>:<operation id>": sub-1:activation

    # The same signal id again is a no-op.
    again = await resume(
        store,
        SignalDelivery("evt-2", "payment-received", {"amount_cents": 4900, "provider_ref": "pi_1"}),
    )
    print(again.kind)  # duplicate

    done = await resume(store, approval=ApprovalResult(True, approval_id, feedback="welcome"))
    print(done.output)
    assert (bad.kind, again.kind) == ("rejected", "duplicate")
    assert done.output == {"paid": 4900, "active": True, "note": "welcome"}

    # Deadlines: a scheduler reports an expired wait with expired_wait_id=...
    await run_workflow(workflow=subscription, run_store=store, run_id="sub-2").result()
    await run_workflow(
        workflow=subscription,
        run_store=store,
        run_id="sub-2",
        signal_delivery=SignalDelivery("wake", TIMER_SIGNAL, step_id="trial"),
    ).result()
    expired = await run_workflow(
        workflow=subscription, run_store=store, run_id="sub-2", expired_wait_id="first-payment"
    ).result()
    assert expired.run is not None
    assert expired.run.pending_approval is not None
    print(expired.run.pending_approval.description)  # paid 0 cents


if __name__ == "__main__":
    asyncio.run(main())
