"""ctx.step with retries, timeouts and failure handling; ctx.now, ctx.uuid and ctx.emit."""

import asyncio

from tanstack_workflow.core import (
    RetryPolicy,
    StepContext,
    StepFailedError,
    WorkflowContext,
    create_workflow,
    in_memory_run_store,
    run_workflow,
)

attempts_seen: list[int] = []


async def send_invoice(step: StepContext) -> str:
    # step.id is "<run_id>:<step id>": stable across retries and replays, so it makes a
    # good idempotency key for the email provider.
    attempts_seen.append(step.attempt)
    if step.attempt < 3:
        raise ConnectionError("mail server busy")
    return f"sent with key {step.id}"


async def slow_lookup(step: StepContext) -> str:
    await asyncio.sleep(10)  # cancelled after timeout_ms; step.cancellation is set too
    return "too late"


def charge_card() -> str:
    raise ValueError("card declined")


@create_workflow("billing").handler
async def billing(ctx: WorkflowContext[None, dict[str, object]]) -> dict[str, object]:
    started_at = await ctx.now()  # epoch ms, recorded once
    invoice_key = await ctx.uuid()  # recorded once, the same on every replay

    sent = await ctx.step(
        "send-invoice",
        send_invoice,
        retry=RetryPolicy(max_attempts=5, backoff="exponential", base_ms=10),
    )
    ctx.emit("progress", {"sent": True})  # to observers only; never persisted

    try:
        await ctx.step("lookup", slow_lookup, timeout_ms=50)
        lookup = "ok"
    except StepFailedError as err:
        lookup = err.error_name  # "StepTimeoutError"

    try:
        await ctx.step("charge", charge_card, retry={"max_attempts": 2, "base_ms": 10})
        charged = True
    except StepFailedError as err:
        # raised the first time and again on every replay, from the recorded error
        print(err.error_name, err.error_message)
        charged = False

    return {
        "sent": sent,
        "lookup": lookup,
        "charged": charged,
        "started_at": started_at,
        "key": invoice_key,
    }


async def main() -> None:
    store = in_memory_run_store()
    run = run_workflow(workflow=billing, run_store=store, run_id="bill-1")
    async for event in run:
        if event.type == "CUSTOM":
            print("progress:", event.value)
        if event.type == "STEP_FINISHED" and event.attempts:
            print(event.step_id, "took", len(event.attempts), "attempts")
    assert run.outcome is not None
    output = run.outcome.output
    print(output)
    assert output["sent"] == "sent with key bill-1:send-invoice"
    assert output["lookup"] == "StepTimeoutError"
    assert output["charged"] is False
    assert attempts_seen == [1, 2, 3]


if __name__ == "__main__":
    asyncio.run(main())
