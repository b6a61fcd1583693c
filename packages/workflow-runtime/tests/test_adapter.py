"""create_run_store_adapter: an execution store wherever core expects a RunStore."""

from __future__ import annotations

from runtime_helpers import T0, runtime_for, types

from tanstack_workflow.core import (
    RunStore,
    SignalDelivery,
    TransitionRunStore,
    create_workflow,
    run_workflow,
)
from tanstack_workflow.runtime import InMemoryWorkflowExecutionStore, create_run_store_adapter


@create_workflow("core-direct", input=int).handler
async def doubled(ctx):  # type: ignore[no-untyped-def]
    value = await ctx.step("double", lambda: ctx.input * 2)
    extra = await ctx.wait_for_event("extra")
    return value + extra


async def test_adapter_is_a_run_store(store: InMemoryWorkflowExecutionStore) -> None:
    adapter = create_run_store_adapter(store, clock=lambda: T0)
    assert isinstance(adapter, RunStore)
    assert isinstance(adapter, TransitionRunStore)


async def test_run_workflow_over_the_adapter(store: InMemoryWorkflowExecutionStore) -> None:
    adapter = create_run_store_adapter(store, clock=lambda: T0)
    events = [
        e
        async for e in run_workflow(
            workflow=doubled, run_store=adapter, input=21, run_id="c", clock=lambda: T0
        )
    ]
    assert types(events)[-1] == "SIGNAL_AWAITED"
    run = await store.load_run("c")
    assert run is not None
    assert run.status == "paused"
    assert run.workflow_id == "core-direct"
    assert run.created_at == T0
    assert [s.event_type for s in await store.read_events("c")] == [
        "STEP_FINISHED",
        "SIGNAL_AWAITED",
    ]

    outcome = await run_workflow(
        workflow=doubled,
        run_store=adapter,
        run_id="c",
        signal_delivery=SignalDelivery(signal_id="s", name="extra", payload=1),
    ).result()
    assert outcome.kind == "finished"
    assert outcome.output == 43
    finished = await store.load_run("c")
    assert finished is not None
    assert finished.status == "finished"
    assert finished.output == 43
    assert finished.next_index == 4


async def test_runtime_and_core_share_runs(store: InMemoryWorkflowExecutionStore) -> None:
    """A run started by core directly can be resumed by the runtime, and vice versa."""
    adapter = create_run_store_adapter(store, clock=lambda: T0)
    await run_workflow(workflow=doubled, run_store=adapter, input=1, run_id="c").result()
    runtime = runtime_for(store, {"core-direct": doubled})
    result = await runtime.deliver_signal(
        run_id="c", signal_id="s", name="extra", payload=10, now=T0
    )
    assert result.kind == "completed"
    assert result.run is not None
    assert result.run.output == 12

    await runtime.start_run(workflow_id="core-direct", run_id="r", input=2, now=T0)
    outcome = await run_workflow(
        workflow=doubled,
        run_store=adapter,
        run_id="r",
        signal_delivery=SignalDelivery(signal_id="s", name="extra", payload=0),
    ).result()
    assert outcome.output == 4


async def test_adapter_attach_and_delete(store: InMemoryWorkflowExecutionStore) -> None:
    adapter = create_run_store_adapter(store)
    await run_workflow(workflow=doubled, run_store=adapter, input=3, run_id="c").result()
    attached = await run_workflow(
        workflow=doubled, run_store=adapter, run_id="c", attach=True
    ).result()
    assert attached.kind == "attached"
    await adapter.delete_run("c", "expired")
    assert await store.load_run("c") is None
    assert await adapter.get_events("c") == []
