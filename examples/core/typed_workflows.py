"""Typed input, output and state; invalid input is refused before a run exists."""

import asyncio
from dataclasses import dataclass

from pydantic import BaseModel
from typing_extensions import TypedDict

from tanstack_workflow.core import (
    WorkflowContext,
    WorkflowValidationError,
    create_workflow,
    in_memory_run_store,
    run_workflow,
)


class ImportJob(BaseModel):
    source_url: str
    batch_size: int = 100


class ImportSummary(TypedDict):
    imported: int
    batches: int


@dataclass
class Progress:
    batches_done: int = 0
    rows_done: int = 0


def fetch_batch(job: ImportJob, batch: int) -> int:
    return job.batch_size if batch < 2 else 37  # rows in this batch


@create_workflow("import-rows", input=ImportJob, output=ImportSummary, state=Progress).handler
async def import_rows(ctx: WorkflowContext[ImportJob, Progress]) -> ImportSummary:
    for batch in range(3):
        rows = await ctx.step(f"batch-{batch}", lambda batch=batch: fetch_batch(ctx.input, batch))
        ctx.state.batches_done += 1  # observers receive this as a STATE_DELTA event
        ctx.state.rows_done += rows
    return {"imported": ctx.state.rows_done, "batches": ctx.state.batches_done}


class Budget(BaseModel):
    limit_cents: int


@dataclass
class Spend:
    remaining_cents: int


@create_workflow(
    "spend", input=Budget, state=Spend, initial_state=lambda budget: Spend(budget.limit_cents)
).handler
async def spend(ctx: WorkflowContext[Budget, Spend]) -> int:
    ctx.state.remaining_cents -= await ctx.step("buy", lambda: 250)
    return ctx.state.remaining_cents


async def main() -> None:
    store = in_memory_run_store()

    try:
        run_workflow(workflow=import_rows, run_store=store, input={"batch_size": "lots"})
    except WorkflowValidationError as err:
        print(err)  # raised at call time; nothing was stored
    else:
        raise AssertionError("expected a validation error")

    run = run_workflow(
        workflow=import_rows, run_store=store, input={"source_url": "s3://bucket/rows.csv"}
    )
    async for event in run:
        if event.type == "STATE_DELTA":
            print(event.delta)
    assert run.outcome is not None
    print(run.outcome.output)
    assert run.outcome.output == {"imported": 237, "batches": 3}

    left = await run_workflow(workflow=spend, run_store=store, input={"limit_cents": 1000}).result()
    assert left.output == 750


if __name__ == "__main__":
    asyncio.run(main())
