"""start_run: results, attach on an existing run id, bad input, unknown workflows."""

from __future__ import annotations

import pytest
from pydantic import BaseModel
from runtime_helpers import T0, Calls, log_types, runtime_for, types

from tanstack_workflow.core import WorkflowValidationError, create_workflow
from tanstack_workflow.runtime import (
    InMemoryWorkflowExecutionStore,
    UnknownWorkflowError,
    WorkflowRunResult,
)


class Order(BaseModel):
    order_id: str
    amount: int


def build(calls: Calls):  # type: ignore[no-untyped-def]
    @create_workflow("order", input=Order).handler
    async def order(ctx):  # type: ignore[no-untyped-def]
        await ctx.step("charge", calls("charge", {"charged": ctx.input.amount}))
        await ctx.step("reserve", calls("reserve"))
        return {"order": ctx.input.order_id}

    @create_workflow("pausing").handler
    async def pausing(ctx):  # type: ignore[no-untyped-def]
        await ctx.step("a", calls("a"))
        return await ctx.wait_for_event("go")

    return {"order": order, "pausing": pausing}


async def test_start_completed_result(store: InMemoryWorkflowExecutionStore) -> None:
    calls = Calls()
    runtime = runtime_for(store, build(calls))
    result = await runtime.start_run(
        workflow_id="order", run_id="r1", input={"order_id": "o-1", "amount": 5}, now=T0
    )
    assert isinstance(result, WorkflowRunResult)
    assert result.kind == "completed"
    assert result.run_id == "r1"
    assert result.workflow_id == "order"
    assert result.run is not None
    assert result.run.status == "finished"
    assert result.run.output == {"order": "o-1"}
    assert result.run.lease_owner is None
    assert types(result.events) == [
        "RUN_STARTED",
        "STEP_STARTED",
        "STEP_FINISHED",
        "STEP_STARTED",
        "STEP_FINISHED",
        "RUN_FINISHED",
    ]
    assert result.event_count == 6
    assert not result.events_truncated
    assert calls.counts == {"charge": 1, "reserve": 1}
    stored = await store.load_run("r1")
    assert stored is not None
    assert stored.status == "finished"
    assert stored.created_at == T0
    wire = result.to_wire()
    assert wire["kind"] == "completed"
    assert wire["runId"] == "r1"
    assert wire["eventCount"] == 6


async def test_start_paused_result(store: InMemoryWorkflowExecutionStore) -> None:
    runtime = runtime_for(store, build(Calls()))
    result = await runtime.start_run(workflow_id="pausing", run_id="p1", now=T0)
    assert result.kind == "paused"
    assert result.run is not None
    assert result.run.status == "paused"
    assert result.run.waiting_for is not None
    assert result.run.waiting_for.signal_name == "go"
    assert result.run.lease_owner is None
    assert result.run.wake_at is None
    assert types(result.events)[-1] == "SIGNAL_AWAITED"
    assert await log_types(store, "p1") == ["STEP_FINISHED", "SIGNAL_AWAITED"]


async def test_max_events_truncates_but_counts_everything(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    runtime = runtime_for(store, build(Calls()))
    result = await runtime.start_run(
        workflow_id="order",
        run_id="r1",
        input={"order_id": "o", "amount": 1},
        now=T0,
        max_events=2,
    )
    assert result.kind == "completed"
    assert types(result.events) == ["RUN_STARTED", "STEP_STARTED"]
    assert result.event_count == 6
    assert result.events_truncated
    assert result.to_wire()["eventsTruncated"] is True


async def test_include_events_false_counts_without_keeping(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    runtime = runtime_for(store, build(Calls()))
    result = await runtime.start_run(
        workflow_id="order",
        run_id="r1",
        input={"order_id": "o", "amount": 1},
        now=T0,
        include_events=False,
    )
    assert result.kind == "completed"
    assert result.events == []
    assert result.event_count == 6
    assert not result.events_truncated


async def test_starting_an_existing_run_id_attaches(store: InMemoryWorkflowExecutionStore) -> None:
    calls = Calls()
    runtime = runtime_for(store, build(calls))
    first = await runtime.start_run(workflow_id="pausing", run_id="p1", now=T0)
    again = await runtime.start_run(workflow_id="pausing", run_id="p1", now=T0 + 10)
    assert first.kind == again.kind == "paused"
    assert again.detail == "existing run"
    assert calls.counts == {"a": 1}
    assert types(again.events) == ["STEP_FINISHED", "SIGNAL_AWAITED"]
    assert await log_types(store, "p1") == ["STEP_FINISHED", "SIGNAL_AWAITED"]

    done = await runtime.start_run(
        workflow_id="order", run_id="r1", input={"order_id": "o", "amount": 1}, now=T0
    )
    attached = await runtime.start_run(
        workflow_id="order", run_id="r1", input={"order_id": "o", "amount": 1}, now=T0 + 5
    )
    assert done.kind == attached.kind == "completed"
    assert attached.run is not None
    assert attached.run.output == {"order": "o"}
    assert calls.counts == {"a": 1, "charge": 1, "reserve": 1}


async def test_attach_honours_max_events_and_include_events(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    runtime = runtime_for(store, build(Calls()))
    await runtime.start_run(
        workflow_id="order", run_id="r1", input={"order_id": "o", "amount": 1}, now=T0
    )
    truncated = await runtime.start_run(
        workflow_id="order",
        run_id="r1",
        input={"order_id": "o", "amount": 1},
        now=T0,
        max_events=1,
    )
    assert len(truncated.events) == 1
    assert truncated.events_truncated
    assert truncated.event_count == 3  # the stored log: two steps and RUN_FINISHED
    quiet = await runtime.start_run(
        workflow_id="order",
        run_id="r1",
        input={"order_id": "o", "amount": 1},
        now=T0,
        include_events=False,
    )
    assert quiet.events == []
    assert quiet.event_count == 3


async def test_invalid_input_raises_and_stores_nothing(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    calls = Calls()
    runtime = runtime_for(store, build(calls))
    with pytest.raises(WorkflowValidationError):
        await runtime.start_run(workflow_id="order", run_id="bad", input={"order_id": 1}, now=T0)
    assert await store.load_run("bad") is None
    assert (await runtime.list_runs()).runs == []
    assert calls.counts == {}


async def test_invalid_run_id_raises_and_stores_nothing(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    runtime = runtime_for(store, build(Calls()))
    for bad in ("", "x" * 256, "a\nb"):
        with pytest.raises(WorkflowValidationError):
            await runtime.start_run(workflow_id="pausing", run_id=bad, now=T0)
    assert (await runtime.list_runs()).runs == []


async def test_unknown_workflow_raises(store: InMemoryWorkflowExecutionStore) -> None:
    runtime = runtime_for(store, build(Calls()))
    with pytest.raises(UnknownWorkflowError, match="nope") as info:
        await runtime.start_run(workflow_id="nope", run_id="r", now=T0)
    assert isinstance(info.value, LookupError)
    assert "order" in str(info.value)  # names what is registered
    assert await store.load_run("r") is None


async def test_generated_run_ids_are_unique(store: InMemoryWorkflowExecutionStore) -> None:
    runtime = runtime_for(store, build(Calls()))
    a = await runtime.start_run(workflow_id="pausing", now=T0)
    b = await runtime.start_run(workflow_id="pausing", now=T0)
    assert a.run_id != b.run_id
    assert len((await runtime.list_runs()).runs) == 2


async def test_bad_options_raise_before_anything_is_stored(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    runtime = runtime_for(store, build(Calls()))
    for options in ({"lease_ms": 0}, {"max_events": -1}, {"max_duration_ms": 0}):
        with pytest.raises(WorkflowValidationError):
            await runtime.start_run(workflow_id="pausing", run_id="r", now=T0, **options)
    assert await store.load_run("r") is None


@pytest.mark.parametrize(
    "value",
    [pytest.param("x" * (2 * 1024 * 1024), id="oversized"), pytest.param("a\x00", id="nul")],
)
async def test_unstorable_input_raises_and_stores_nothing(
    store: InMemoryWorkflowExecutionStore, value: str
) -> None:
    runtime = runtime_for(store, build(Calls()))
    with pytest.raises(WorkflowValidationError):
        await runtime.start_run(workflow_id="pausing", run_id="big", input=value, now=T0)
    assert await store.load_run("big") is None
