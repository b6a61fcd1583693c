"""Cancelling a run through a CancellationSignal."""

from __future__ import annotations

import asyncio

import pytest
from workflow_core_helpers import collect, first, types

from tanstack_workflow.core import (
    CancellationSignal,
    InMemoryRunStore,
    RetryPolicy,
    StepContext,
    WorkflowCancelled,
    WorkflowContext,
    WorkflowInterrupt,
    create_workflow,
    run_workflow,
)

Ctx = WorkflowContext[object, object]


def test_workflow_cancelled_is_not_an_exception() -> None:
    assert issubclass(WorkflowCancelled, WorkflowInterrupt)
    assert issubclass(WorkflowCancelled, BaseException)
    assert not issubclass(WorkflowCancelled, Exception)


async def test_cancellation_signal_basics() -> None:
    signal = CancellationSignal()
    calls: list[str] = []
    remove = signal.on_cancel(lambda: calls.append("kept"))
    removed = signal.on_cancel(lambda: calls.append("removed"))
    removed()
    assert not signal.is_cancelled
    signal.cancel("first reason")
    signal.cancel("second reason")
    assert signal.is_cancelled
    assert signal.reason == "first reason"
    assert calls == ["kept"]
    remove()
    late: list[str] = []
    signal.on_cancel(lambda: late.append("now"))  # already cancelled: runs at once
    assert late == ["now"]
    await asyncio.wait_for(signal.wait(), 1)


async def test_cancelling_during_a_long_async_step_cancels_it(store: InMemoryRunStore) -> None:
    started = asyncio.Event()
    step_saw: list[str] = []

    async def long_step() -> str:
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            step_saw.append("cancelled")
            raise
        return "never"

    @create_workflow("long").handler
    async def wf(ctx: Ctx) -> str:
        return await ctx.step("long", long_step)

    signal = CancellationSignal()
    run = asyncio.create_task(
        collect(run_workflow(workflow=wf, run_store=store, run_id="r", cancellation=signal))
    )
    await started.wait()
    signal.cancel("operator requested")
    events, outcome = await asyncio.wait_for(run, 5)

    assert step_saw == ["cancelled"]
    assert (outcome.kind, outcome.code) == ("cancelled", "cancelled")
    assert outcome.error is not None
    assert (outcome.error.name, outcome.error.message) == (
        "WorkflowCancelled",
        "operator requested",
    )
    assert first(events, "RUN_ERRORED").code == "cancelled"
    assert types(await store.get_events("r")) == ["RUN_ERRORED"]  # the step left no record
    state = await store.get_run_state("r")
    assert state is not None
    assert (state.status, state.error_code) == ("aborted", "cancelled")


async def test_except_exception_cannot_swallow_cancellation(store: InMemoryRunStore) -> None:
    started = asyncio.Event()
    after: list[str] = []

    async def long_step() -> None:
        started.set()
        await asyncio.sleep(30)

    @create_workflow("swallow").handler
    async def wf(ctx: Ctx) -> str:
        try:
            await ctx.step("long", long_step)
        except Exception:  # too broad, but cannot catch WorkflowCancelled
            after.append("swallowed")
        after.append("continued")
        return "done"

    signal = CancellationSignal()
    run = asyncio.create_task(
        run_workflow(workflow=wf, run_store=store, cancellation=signal).result()
    )
    await started.wait()
    signal.cancel()
    outcome = await asyncio.wait_for(run, 5)
    assert after == []
    assert outcome.kind == "cancelled"
    assert outcome.error is not None
    assert outcome.error.message == "Workflow cancelled."


async def test_the_step_context_signal_is_set_on_cancellation(store: InMemoryRunStore) -> None:
    contexts: list[StepContext] = []
    started = asyncio.Event()

    async def cooperative(step: StepContext) -> None:
        contexts.append(step)
        started.set()
        await step.cancellation.wait()

    @create_workflow("cooperative").handler
    async def wf(ctx: Ctx) -> None:
        await ctx.step("wait", cooperative)

    signal = CancellationSignal()
    run = asyncio.create_task(
        run_workflow(workflow=wf, run_store=store, cancellation=signal).result()
    )
    await started.wait()
    assert not contexts[0].cancellation.is_cancelled
    signal.cancel("bye")
    outcome = await asyncio.wait_for(run, 5)
    assert outcome.kind == "cancelled"
    assert contexts[0].cancellation.is_cancelled
    assert contexts[0].cancellation.reason == "bye"


async def test_cancelling_during_retry_backoff_stops_promptly(store: InMemoryRunStore) -> None:
    attempts = 0

    def flaky() -> None:
        nonlocal attempts
        attempts += 1
        raise RuntimeError("flaky")

    @create_workflow("backoff").handler
    async def wf(ctx: Ctx) -> None:
        await ctx.step(
            "flaky", flaky, retry=RetryPolicy(max_attempts=5, backoff="fixed", base_ms=60_000)
        )

    signal = CancellationSignal()
    run = asyncio.create_task(
        run_workflow(workflow=wf, run_store=store, cancellation=signal).result()
    )
    await asyncio.sleep(0.02)
    signal.cancel()
    outcome = await asyncio.wait_for(run, 5)
    assert outcome.kind == "cancelled"
    assert attempts == 1


async def test_cancelling_a_step_with_a_timeout_is_cancellation_not_timeout(
    store: InMemoryRunStore,
) -> None:
    started = asyncio.Event()

    async def long_step() -> None:
        started.set()
        await asyncio.sleep(30)

    @create_workflow("timeout-cancel").handler
    async def wf(ctx: Ctx) -> None:
        await ctx.step("long", long_step, timeout_ms=20_000)

    signal = CancellationSignal()
    run = asyncio.create_task(
        run_workflow(workflow=wf, run_store=store, cancellation=signal).result()
    )
    await started.wait()
    signal.cancel()
    outcome = await asyncio.wait_for(run, 5)
    assert outcome.code == "cancelled"


async def test_cancelled_before_start_runs_no_step(store: InMemoryRunStore) -> None:
    calls = 0

    def step() -> None:
        nonlocal calls
        calls += 1

    @create_workflow("pre").handler
    async def wf(ctx: Ctx) -> None:
        await ctx.step("s", step)

    signal = CancellationSignal()
    signal.cancel("stop")
    outcome = await run_workflow(workflow=wf, run_store=store, cancellation=signal).result()
    assert calls == 0
    assert outcome.kind == "cancelled"
    assert outcome.error is not None
    assert outcome.error.message == "stop"


async def test_handler_raising_workflow_cancelled_aborts_the_run(store: InMemoryRunStore) -> None:
    @create_workflow("self-cancel").handler
    async def wf(ctx: Ctx) -> None:
        raise WorkflowCancelled("giving up")

    outcome = await run_workflow(workflow=wf, run_store=store).result()
    assert (outcome.kind, outcome.code) == ("cancelled", "cancelled")
    assert outcome.run is not None
    assert outcome.run.status == "aborted"


async def test_handler_polling_ctx_cancellation(store: InMemoryRunStore) -> None:
    @create_workflow("poll").handler
    async def wf(ctx: Ctx) -> bool:
        return ctx.cancellation.is_cancelled

    outcome = await run_workflow(workflow=wf, run_store=store).result()
    assert outcome.output is False


@pytest.mark.parametrize("reason", [None, "shutdown"])
async def test_cancelled_paused_run_is_not_marked_paused(
    store: InMemoryRunStore, reason: str | None
) -> None:
    # a primitive reached after cancellation raises WorkflowCancelled, not a pause
    signal = CancellationSignal()

    @create_workflow("cancel-then-wait").handler
    async def wf(ctx: Ctx) -> None:
        signal.cancel(reason)
        await ctx.wait_for_event("go")

    outcome = await run_workflow(workflow=wf, run_store=store, cancellation=signal).result()
    assert outcome.kind == "cancelled"
    state = await store.get_run_state(outcome.run_id)
    assert state is not None
    assert state.status == "aborted"
