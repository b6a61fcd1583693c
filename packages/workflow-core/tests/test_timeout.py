"""Per-attempt step timeouts."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from workflow_core_helpers import first

from tanstack_workflow.core import (
    InMemoryRunStore,
    RetryPolicy,
    StepContext,
    StepFailedError,
    StepTimeoutError,
    WorkflowContext,
    create_workflow,
    run_workflow,
)

Ctx = WorkflowContext[object, object]


async def test_hanging_async_step_times_out(store: InMemoryRunStore) -> None:
    contexts: list[StepContext] = []

    async def hang(step: StepContext) -> None:
        contexts.append(step)
        await asyncio.Event().wait()

    @create_workflow("timeout-hang").handler
    async def wf(ctx: Ctx) -> dict[str, str]:
        try:
            await ctx.step("hang", hang, timeout_ms=20)
        except StepFailedError as err:
            return {"name": err.error_name, "message": err.error_message}
        return {"name": "none", "message": ""}

    outcome = await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    assert outcome.output == {
        "name": "StepTimeoutError",
        "message": "Step 'hang' exceeded its 20 ms timeout.",
    }
    assert contexts[0].cancellation.is_cancelled
    assert contexts[0].cancellation.reason == "timeout"
    assert first(await store.get_events("r"), "STEP_FAILED").error.name == "StepTimeoutError"


async def test_blocking_sync_step_times_out_and_sees_its_signal(store: InMemoryRunStore) -> None:
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()

    def blocking(step: StepContext) -> str:
        # a well-behaved blocking step polls its cancellation signal
        deadline = time.monotonic() + 5
        while not step.cancellation.is_cancelled and time.monotonic() < deadline:
            time.sleep(0.002)
        loop.call_soon_threadsafe(stopped.set)
        return "late"

    @create_workflow("timeout-sync").handler
    async def wf(ctx: Ctx) -> str:
        try:
            await ctx.step("blocking", blocking, timeout_ms=20)
        except StepFailedError as err:
            return err.error_name
        return "no timeout"

    outcome = await run_workflow(workflow=wf, run_store=store).result()
    assert outcome.output == "StepTimeoutError"
    await asyncio.wait_for(stopped.wait(), 5)


async def test_timeouts_are_retried_per_attempt(store: InMemoryRunStore) -> None:
    attempts: list[int] = []

    async def slow_then_fast(step: StepContext) -> int:
        attempts.append(step.attempt)
        if step.attempt < 3:
            await asyncio.sleep(1)
        return 42

    @create_workflow("timeout-retry").handler
    async def wf(ctx: Ctx) -> Any:
        return await ctx.step(
            "slow-then-fast",
            slow_then_fast,
            timeout_ms=10,
            retry=RetryPolicy(max_attempts=3, backoff="fixed", base_ms=1),
        )

    outcome = await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    assert outcome.output == 42
    assert attempts == [1, 2, 3]
    finished = first(await store.get_events("r"), "STEP_FINISHED")
    assert [a.error.name if a.error else None for a in finished.attempts] == [
        "StepTimeoutError",
        "StepTimeoutError",
        None,
    ]


async def test_fast_steps_are_unaffected_by_a_timeout(store: InMemoryRunStore) -> None:
    def quick() -> int:
        return 1

    async def quick_async() -> int:
        return 2

    @create_workflow("fast").handler
    async def wf(ctx: Ctx) -> list[int]:
        return [
            await ctx.step("sync", quick, timeout_ms=1_000),
            await ctx.step("async", quick_async, timeout_ms=1_000),
        ]

    outcome = await run_workflow(workflow=wf, run_store=store).result()
    assert outcome.output == [1, 2]


async def test_step_timeout_error_is_a_timeout_error() -> None:
    err = StepTimeoutError("s", 5)
    assert isinstance(err, TimeoutError)


async def test_non_positive_timeout_is_a_validation_error(store: InMemoryRunStore) -> None:
    @create_workflow("bad-timeout").handler
    async def wf(ctx: Ctx) -> None:
        await ctx.step("s", lambda: 1, timeout_ms=0)

    outcome = await run_workflow(workflow=wf, run_store=store).result()
    assert outcome.kind == "errored"
    assert outcome.error is not None
    assert outcome.error.name == "WorkflowValidationError"
    assert "timeout_ms" in outcome.error.message
