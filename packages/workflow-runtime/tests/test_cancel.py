"""cancel_run: the run ends RUN_ERRORED code cancelled, waits and timers are cleared."""

from __future__ import annotations

import asyncio

import pytest
from runtime_helpers import T0, Calls, log_types, runtime_for

from tanstack_workflow.core import WorkflowValidationError, create_workflow
from tanstack_workflow.runtime import InMemoryWorkflowExecutionStore


def sleeper(calls: Calls):  # type: ignore[no-untyped-def]
    @create_workflow("sleeper").handler
    async def handler(ctx):  # type: ignore[no-untyped-def]
        await ctx.step("a", calls("a"))
        await ctx.sleep_until(T0 + 60_000)
        await ctx.step("b", calls("b"))
        return await ctx.wait_for_event("go")

    return handler


async def test_cancel_a_sleeping_run(store: InMemoryWorkflowExecutionStore) -> None:
    calls = Calls()
    runtime = runtime_for(store, {"sleeper": sleeper(calls)})
    await runtime.start_run(workflow_id="sleeper", run_id="r", now=T0)
    result = await runtime.cancel_run(run_id="r", reason="customer left", now=T0 + 10)
    assert result.kind == "errored"
    assert result.detail == "cancelled"
    run = await store.load_run("r")
    assert run is not None
    assert run.status == "aborted"
    assert run.error_code == "cancelled"
    assert run.error is not None
    assert run.error.message == "customer left"
    assert run.wake_at is None
    assert run.awaiting is None
    assert run.lease_owner is None
    log = [s.event for s in await store.read_events("r")]
    assert log[-1].type == "RUN_ERRORED"
    assert log[-1].code == "cancelled"  # type: ignore[union-attr]

    swept = await runtime.sweep(now=T0 + 120_000)
    assert swept.timers == []
    assert swept.recovered == []
    assert calls.counts == {"a": 1}
    signal = await runtime.deliver_signal(run_id="r", signal_id="s", name="go", now=T0 + 130_000)
    assert signal.kind == "not-waiting"


async def test_cancel_a_waiting_run_then_signal(store: InMemoryWorkflowExecutionStore) -> None:
    @create_workflow("waiting").handler
    async def waiting(ctx):  # type: ignore[no-untyped-def]
        return await ctx.wait_for_event("go")

    runtime = runtime_for(store, {"waiting": waiting})
    await runtime.start_run(workflow_id="waiting", run_id="r", now=T0)
    await runtime.cancel_run(run_id="r", now=T0 + 1)
    run = await store.load_run("r")
    assert run is not None
    assert run.error is not None
    assert run.error.message == "Workflow cancelled."
    assert run.waiting_for is None
    late = await runtime.deliver_signal(run_id="r", signal_id="s", name="go", now=T0 + 2)
    assert late.kind == "not-waiting"


async def test_cancel_twice_and_unknown(store: InMemoryWorkflowExecutionStore) -> None:
    runtime = runtime_for(store, {"sleeper": sleeper(Calls())})
    await runtime.start_run(workflow_id="sleeper", run_id="r", now=T0)
    await runtime.cancel_run(run_id="r", now=T0 + 1)
    length = len(await store.read_events("r"))
    again = await runtime.cancel_run(run_id="r", now=T0 + 2)
    assert again.kind == "errored"
    assert again.detail == "already terminal"
    assert len(await store.read_events("r")) == length
    assert (await runtime.cancel_run(run_id="ghost", now=T0)).kind == "not-found"


async def test_cancel_a_finished_run_changes_nothing(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    @create_workflow("quick").handler
    async def quick(ctx):  # type: ignore[no-untyped-def]
        return 1

    runtime = runtime_for(store, {"quick": quick})
    await runtime.start_run(workflow_id="quick", run_id="q", now=T0)
    result = await runtime.cancel_run(run_id="q", now=T0 + 1)
    assert result.kind == "completed"
    assert result.detail == "already terminal"
    run = await store.load_run("q")
    assert run is not None
    assert run.status == "finished"


async def test_cancel_a_run_another_driver_is_driving(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    entered = asyncio.Event()
    release = asyncio.Event()
    after = Calls()

    async def slow() -> str:
        entered.set()
        await release.wait()
        return "slow"

    @create_workflow("busy").handler
    async def busy(ctx):  # type: ignore[no-untyped-def]
        await ctx.step("slow", slow)
        await ctx.step("after", after("after"))
        return "done"

    runtime = runtime_for(store, {"busy": busy})
    driving = asyncio.create_task(runtime.start_run(workflow_id="busy", run_id="b", now=T0))
    await entered.wait()
    cancelled = await runtime.cancel_run(run_id="b", reason="stop", now=T0 + 1)
    assert cancelled.kind == "errored"
    release.set()
    result = await driving

    assert result.kind == "errored"
    assert result.run is not None
    assert result.run.status == "aborted"
    assert result.run.error_code == "cancelled"
    assert result.detail == "another writer advanced the run's log"
    assert after.counts == {}  # the driver stopped at its next write
    assert await log_types(store, "b") == ["RUN_ERRORED"]
    run = await store.load_run("b")
    assert run is not None
    assert run.lease_owner is None


async def test_bad_cancel_reasons_raise_and_change_nothing(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    runtime = runtime_for(store, {"sleeper": sleeper(Calls())})
    await runtime.start_run(workflow_id="sleeper", run_id="r", now=T0)
    for reason in (123, "nul\x00", "x" * (2 * 1024 * 1024)):
        with pytest.raises(WorkflowValidationError):
            await runtime.cancel_run(run_id="r", reason=reason, now=T0 + 1)  # type: ignore[arg-type]
    run = await store.load_run("r")
    assert run is not None
    assert run.status == "paused"
    with pytest.raises(WorkflowValidationError):
        await runtime.cancel_run(run_id="", now=T0)
