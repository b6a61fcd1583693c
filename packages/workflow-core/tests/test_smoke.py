"""End-to-end: a run starts, steps, pauses, resumes and finishes."""

from __future__ import annotations

from pydantic import BaseModel
from workflow_core_helpers import collect, first, types

from tanstack_workflow.core import (
    ApprovalResult,
    InMemoryRunStore,
    StepContext,
    WorkflowContext,
    create_workflow,
    run_workflow,
)


class EchoInput(BaseModel):
    msg: str


async def test_single_step_workflow_runs_to_completion(store: InMemoryRunStore) -> None:
    @create_workflow("echo", input=EchoInput).handler
    async def echo(ctx: WorkflowContext[EchoInput, dict[str, object]]) -> dict[str, str]:
        echoed = await ctx.step("echo", lambda: ctx.input.msg.upper())
        return {"echoed": echoed}

    events, outcome = await collect(
        run_workflow(workflow=echo, run_store=store, input={"msg": "hello"})
    )

    assert types(events) == ["RUN_STARTED", "STEP_STARTED", "STEP_FINISHED", "RUN_FINISHED"]
    assert first(events, "STEP_FINISHED").step_id == "echo"
    assert first(events, "STEP_FINISHED").result == "HELLO"
    assert first(events, "RUN_FINISHED").output == {"echoed": "HELLO"}
    assert outcome.kind == "finished"
    assert outcome.output == {"echoed": "HELLO"}
    assert outcome.run is not None
    assert outcome.run.status == "finished"
    stored = await store.get_run_state(outcome.run_id)
    assert stored is not None
    assert stored.status == "finished"
    assert stored.output == {"echoed": "HELLO"}


async def test_run_started_carries_the_run_id_and_run_id_is_known_up_front(
    store: InMemoryRunStore,
) -> None:
    @create_workflow("ids").handler
    async def wf(ctx: WorkflowContext[object, object]) -> str:
        return ctx.run_id

    run = run_workflow(workflow=wf, run_store=store, input=None)
    assert run.run_id is not None
    assert run.run_id.startswith("run_")
    events, outcome = await collect(run)
    assert first(events, "RUN_STARTED").run_id == run.run_id
    assert outcome.run_id == run.run_id
    assert outcome.output == run.run_id


async def test_explicit_run_id_is_used(store: InMemoryRunStore) -> None:
    @create_workflow("explicit-id").handler
    async def wf(ctx: WorkflowContext[object, object]) -> str:
        return ctx.run_id

    outcome = await run_workflow(workflow=wf, run_store=store, run_id="order-42").result()
    assert outcome.run_id == "order-42"
    assert outcome.output == "order-42"


async def test_state_mutation_emits_state_delta(store: InMemoryRunStore) -> None:
    @create_workflow("state-wf", initial_state=lambda _input: {"counter": 0}).handler
    async def wf(ctx: WorkflowContext[object, dict[str, int]]) -> dict[str, int]:
        value = await ctx.step("compute", lambda: 42)
        ctx.state["counter"] = value
        await ctx.step("noop", lambda: None)
        return {}

    events, _ = await collect(run_workflow(workflow=wf, run_store=store, input={}))
    delta = first(events, "STATE_DELTA")
    assert {"op": "replace", "path": "/counter", "value": 42} in delta.delta
    # STATE_DELTA precedes the next primitive's events
    assert types(events).index("STATE_DELTA") < len(events) - 1


async def test_pause_on_approval_ends_stream_without_terminal_event(
    store: InMemoryRunStore,
) -> None:
    @create_workflow("approval-wf").handler
    async def wf(ctx: WorkflowContext[object, object]) -> dict[str, bool]:
        decision = await ctx.approve(title="go?")
        return {"ok": decision.approved}

    events, outcome = await collect(run_workflow(workflow=wf, run_store=store, input={}))
    assert "APPROVAL_REQUESTED" in types(events)
    assert "RUN_FINISHED" not in types(events)
    assert outcome.kind == "paused"
    state = await store.get_run_state(outcome.run_id)
    assert state is not None
    assert state.status == "paused"
    assert state.pending_approval is not None
    assert state.pending_approval.title == "go?"
    assert state.pending_approval.approval_id == f"{outcome.run_id}:__approve-0"

    resumed = await run_workflow(
        workflow=wf,
        run_store=store,
        run_id=outcome.run_id,
        approval=ApprovalResult(approved=True, approval_id=state.pending_approval.approval_id),
    ).result()
    assert resumed.kind == "finished"
    assert resumed.output == {"ok": True}


async def test_pre_cancelled_signal_reaches_the_step_context(store: InMemoryRunStore) -> None:
    from tanstack_workflow.core import CancellationSignal

    observed: list[bool] = []

    def observe(step: StepContext) -> dict[str, bool]:
        observed.append(step.cancellation.is_cancelled)
        return {"ok": True}

    @create_workflow("pre-cancelled").handler
    async def wf(ctx: WorkflowContext[object, object]) -> object:
        return await ctx.step("observe", observe)

    signal = CancellationSignal()
    signal.cancel("shutting down")
    outcome = await run_workflow(
        workflow=wf, run_store=store, input={}, cancellation=signal
    ).result()
    # A run cancelled before it starts never runs user step code.
    assert observed == []
    assert outcome.kind == "cancelled"
    assert outcome.code == "cancelled"


async def test_result_can_be_called_again_after_iteration(store: InMemoryRunStore) -> None:
    # Regression: a second result() (or __anext__) after exhaustion used to block forever.
    @create_workflow("twice").handler
    async def wf(ctx: WorkflowContext[object, object]) -> int:
        return 1

    run = run_workflow(workflow=wf, run_store=store)
    first_outcome = await run.result()
    second_outcome = await run.result()
    assert first_outcome is second_outcome
    assert [event async for event in run] == []
