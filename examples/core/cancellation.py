"""Cancelling a run from outside with a CancellationSignal."""

import asyncio

from tanstack_workflow.core import (
    CancellationSignal,
    StepContext,
    WorkflowContext,
    create_workflow,
    in_memory_run_store,
    run_workflow,
)

started = asyncio.Event()


async def render_video(step: StepContext) -> str:
    started.set()
    await asyncio.sleep(3600)  # cancelled: the task receives asyncio.CancelledError
    return "rendered"


@create_workflow("render").handler
async def render(ctx: WorkflowContext[None, dict[str, object]]) -> str:
    try:
        return await ctx.step("render", render_video)
    except Exception:
        # WorkflowCancelled is a BaseException: a broad handler cannot swallow it
        return "never reached"


async def main() -> None:
    store = in_memory_run_store()
    cancellation = CancellationSignal()
    run = asyncio.create_task(
        run_workflow(
            workflow=render, run_store=store, run_id="r-1", cancellation=cancellation
        ).result()
    )
    await started.wait()
    cancellation.cancel("user pressed stop")
    outcome = await run
    print(outcome.kind, outcome.code, outcome.error)
    assert (outcome.kind, outcome.code) == ("cancelled", "cancelled")
    state = await store.get_run_state("r-1")
    assert state is not None
    assert state.status == "aborted"


if __name__ == "__main__":
    asyncio.run(main())
