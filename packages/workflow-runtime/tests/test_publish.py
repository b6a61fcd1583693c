"""publish: runtime-level and per-call fan-out, best effort."""

from __future__ import annotations

import logging

import pytest
from runtime_helpers import T0, runtime_for, types

from tanstack_workflow.core import WorkflowEvent, create_workflow
from tanstack_workflow.runtime import InMemoryWorkflowExecutionStore


@create_workflow("chatty").handler
async def chatty(ctx):  # type: ignore[no-untyped-def]
    ctx.emit("progress", 1)
    a = await ctx.step("a", lambda: 1)
    await ctx.sleep_until(T0 + 1_000)
    ctx.emit("progress", 2)
    b = await ctx.step("b", lambda: 2)
    return a + b


async def test_runtime_and_call_publishers_get_every_event_in_order(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    global_seen: list[tuple[str, str]] = []
    call_seen: list[tuple[str, str]] = []

    def runtime_publisher(run_id: str, event: WorkflowEvent) -> None:
        global_seen.append((run_id, event.type))

    async def call_publisher(run_id: str, event: WorkflowEvent) -> None:
        call_seen.append((run_id, event.type))

    runtime = runtime_for(store, {"chatty": chatty}, publish=runtime_publisher)
    started = await runtime.start_run(
        workflow_id="chatty", run_id="c", now=T0, publish=call_publisher
    )
    assert [t for _, t in global_seen] == types(started.events)
    assert call_seen == global_seen
    assert all(run_id == "c" for run_id, _ in global_seen)
    assert "CUSTOM" in types(started.events)

    global_seen.clear()
    call_seen.clear()
    swept = await runtime.sweep(now=T0 + 1_000, publish=call_publisher)
    assert [t for _, t in global_seen] == types(swept.timers[0].events)
    assert call_seen == global_seen
    assert global_seen[-1] == ("c", "RUN_FINISHED")


async def test_publishers_see_events_even_when_not_kept(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    seen: list[str] = []
    runtime = runtime_for(store, {"chatty": chatty}, publish=lambda _r, e: seen.append(e.type))
    result = await runtime.start_run(workflow_id="chatty", run_id="c", now=T0, include_events=False)
    assert result.events == []
    assert len(seen) == result.event_count


async def test_raising_publisher_never_changes_execution(
    store: InMemoryWorkflowExecutionStore, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(run_id: str, event: WorkflowEvent) -> None:
        raise RuntimeError("publisher down")

    async def broken_async(run_id: str, event: WorkflowEvent) -> None:
        raise ConnectionError("bus unreachable")

    reference_store = InMemoryWorkflowExecutionStore()
    reference = runtime_for(reference_store, {"chatty": chatty})
    await reference.start_run(workflow_id="chatty", run_id="c", now=T0)
    expected = await reference.sweep(now=T0 + 1_000)

    runtime = runtime_for(store, {"chatty": chatty}, publish=broken)
    with caplog.at_level(logging.WARNING, logger="tanstack_workflow.runtime"):
        started = await runtime.start_run(
            workflow_id="chatty", run_id="c", now=T0, publish=broken_async
        )
        swept = await runtime.sweep(now=T0 + 1_000, publish=broken_async)
    assert started.kind == "paused"
    assert [r.kind for r in swept.timers] == [r.kind for r in expected.timers] == ["completed"]
    run = await store.load_run("c")
    expected_run = await reference_store.load_run("c")
    assert run is not None
    assert expected_run is not None
    assert run.output == expected_run.output == 3
    assert [s.event_type for s in await store.read_events("c")] == [
        s.event_type for s in await reference_store.read_events("c")
    ]
    assert any("publisher failed" in r.getMessage() for r in caplog.records)
