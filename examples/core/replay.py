"""Replay: recorded work is never redone, values round-trip through JSON, and
changed or ambiguous workflow code is caught as nondeterminism."""

import asyncio
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from tanstack_workflow.core import (
    ApprovalResult,
    InMemoryRunStore,
    WorkflowContext,
    WorkflowDefinition,
    WorkflowOutcome,
    create_workflow,
    in_memory_run_store,
    run_workflow,
)

calls: list[str] = []


class Quote(BaseModel):
    price_cents: int
    valid_until: datetime


def fetch_quote() -> Quote:
    calls.append("fetch_quote")
    return Quote(price_cents=1999, valid_until=datetime(2030, 1, 1, tzinfo=UTC))


def fetch_tags():  # type: ignore[no-untyped-def]  # unannotated on purpose
    return ("new", "sale")


@create_workflow("quote", version="1").handler
async def quote(ctx: WorkflowContext[None, dict[str, object]]) -> dict[str, object]:
    q = await ctx.step("fetch-quote", fetch_quote)  # a Quote, first time and on replay
    assert isinstance(q, Quote)
    assert isinstance(q.valid_until, datetime)
    tags = await ctx.step("tags", fetch_tags)  # unannotated: plain JSON, so a list
    assert tags == ["new", "sale"]
    await ctx.approve(title=f"Accept {q.price_cents} cents?", id="accept")
    return {"price_cents": q.price_cents, "tags": tags}


async def accept(
    workflow: WorkflowDefinition[Any, Any, Any], store: InMemoryRunStore
) -> WorkflowOutcome:
    return await run_workflow(
        workflow=workflow,
        run_store=store,
        run_id="q-1",
        approval=ApprovalResult(True, "q-1:accept"),
    ).result()


# The same id and version with different operations: replay notices.
@create_workflow("quote", version="1").handler
async def quote_edited_in_place(ctx: WorkflowContext[None, dict[str, object]]) -> object:
    await ctx.step("fetch-quote-v2", fetch_quote)
    await ctx.approve(title="Accept?", id="accept")
    return None


# Reusing one id inside a loop is nondeterministic too ...
@create_workflow("notify-all").handler
async def notify_all_wrong(ctx: WorkflowContext[list[str], dict[str, object]]) -> None:
    for user in ctx.input:
        await ctx.step("notify", lambda user=user: f"notified {user}")


# ... derive the id from the item instead.
@create_workflow("notify-all").handler
async def notify_all(ctx: WorkflowContext[list[str], dict[str, object]]) -> list[str]:
    return [
        await ctx.step(f"notify-{user}", lambda user=user: f"notified {user}") for user in ctx.input
    ]


# Concurrent steps: calls are numbered in call order, so any completion order replays.
@create_workflow("fan-out").handler
async def fan_out(ctx: WorkflowContext[None, dict[str, object]]) -> list[int]:
    async def price(region: str, delay: float) -> int:
        await asyncio.sleep(delay)
        return len(region)

    results = await asyncio.gather(
        ctx.step("eu", lambda: price("eu", 0.02)),
        ctx.step("us-east", lambda: price("us-east", 0.0)),
    )
    await ctx.approve(title="Publish prices?", id="publish")
    return list(results)


async def main() -> None:
    store = in_memory_run_store()
    await run_workflow(workflow=quote, run_store=store, run_id="q-1").result()
    done = await accept(quote, store)
    print(done.output, calls)
    assert done.output == {"price_cents": 1999, "tags": ["new", "sale"]}
    assert calls == ["fetch_quote"]  # the replay returned the recorded Quote

    store = in_memory_run_store()
    await run_workflow(workflow=quote, run_store=store, run_id="q-1").result()
    changed = await accept(quote_edited_in_place, store)
    print(changed.code, changed.error.message if changed.error else "")
    assert changed.code == "nondeterminism"

    wrong = await run_workflow(
        workflow=notify_all_wrong, run_store=store, input=["ann", "bo"]
    ).result()
    assert wrong.code == "nondeterminism"
    right = await run_workflow(workflow=notify_all, run_store=store, input=["ann", "bo"]).result()
    assert right.output == ["notified ann", "notified bo"]

    paused = await run_workflow(workflow=fan_out, run_store=store, run_id="f-1").result()
    assert paused.kind == "paused"
    prices = await run_workflow(
        workflow=fan_out,
        run_store=store,
        run_id="f-1",
        approval=ApprovalResult(True, "f-1:publish"),
    ).result()
    assert prices.output == [2, 7]


if __name__ == "__main__":
    asyncio.run(main())
