"""Determinism checks: reused operation ids and replays that meet different code."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from typing import Any

from workflow_core_helpers import collect, first, types

from tanstack_workflow.core import (
    ApprovalResult,
    InMemoryRunStore,
    NondeterminismError,
    SignalDelivery,
    WorkflowContext,
    WorkflowDefinition,
    create_workflow,
    run_workflow,
)

Ctx = WorkflowContext[object, object]


def square(i: int) -> int:
    return i * i


async def start_then_resume_with(
    store: InMemoryRunStore,
    original: WorkflowDefinition[Any, Any, Any],
    changed: WorkflowDefinition[Any, Any, Any],
) -> Any:
    """Run ``original`` until it waits for "go", then deliver "go" to ``changed``."""
    paused = await run_workflow(workflow=original, run_store=store, run_id="r").result()
    assert paused.kind == "paused"
    return await run_workflow(
        workflow=changed,
        run_store=store,
        run_id="r",
        signal_delivery=SignalDelivery("s1", "go", {}),
    ).result()


async def test_reusing_an_operation_id_fails_the_run(store: InMemoryRunStore) -> None:
    @create_workflow("dup-id").handler
    async def wf(ctx: Ctx) -> None:
        for _ in range(2):
            await ctx.step("charge", lambda: 1)

    events, outcome = await collect(run_workflow(workflow=wf, run_store=store))
    assert outcome.kind == "errored"
    assert outcome.code == "nondeterminism"
    assert outcome.error is not None
    assert outcome.error.name == "NondeterminismError"
    assert "ctx.step('charge')" in outcome.error.message
    assert "reuses an operation id" in outcome.error.message
    assert first(events, "RUN_ERRORED").code == "nondeterminism"
    state = await store.get_run_state(outcome.run_id)
    assert state is not None
    assert (state.status, state.error_code) == ("errored", "nondeterminism")


async def test_reusing_an_id_across_primitives_fails_the_run(store: InMemoryRunStore) -> None:
    @create_workflow("dup-kind").handler
    async def wf(ctx: Ctx) -> None:
        await ctx.step("x", lambda: 1)
        await ctx.now(id="x")

    outcome = await run_workflow(workflow=wf, run_store=store).result()
    assert outcome.code == "nondeterminism"
    assert outcome.error is not None
    assert "ctx.now(id='x')" in outcome.error.message


async def test_swallowing_nondeterminism_error_does_not_help(store: InMemoryRunStore) -> None:
    swallowed: list[BaseException] = []

    @create_workflow("swallow").handler
    async def wf(ctx: Ctx) -> str:
        await ctx.step("a", lambda: 1)
        try:
            await ctx.step("a", lambda: 2)
        except Exception as exc:  # user code that catches too much
            swallowed.append(exc)
        return "pretend all is well"

    outcome = await run_workflow(workflow=wf, run_store=store).result()
    assert len(swallowed) == 1
    assert isinstance(swallowed[0], NondeterminismError)
    assert outcome.kind == "errored"
    assert outcome.code == "nondeterminism"


async def test_swallowed_nondeterminism_stops_later_primitives(store: InMemoryRunStore) -> None:
    later_calls = 0

    def later() -> int:
        nonlocal later_calls
        later_calls += 1
        return 1

    @create_workflow("swallow-continue").handler
    async def wf(ctx: Ctx) -> None:
        await ctx.step("a", lambda: 1)
        with contextlib.suppress(Exception):
            await ctx.step("a", lambda: 2)
        with contextlib.suppress(Exception):
            await ctx.step("b", later)

    outcome = await run_workflow(workflow=wf, run_store=store).result()
    assert outcome.code == "nondeterminism"
    assert later_calls == 0
    assert types(await store.get_events(outcome.run_id)) == ["STEP_FINISHED", "RUN_ERRORED"]


async def test_replay_meeting_a_different_primitive_fails_the_run(store: InMemoryRunStore) -> None:
    @create_workflow("changing", version="1").handler
    async def original(ctx: Ctx) -> None:
        await ctx.step("fetch", lambda: 1)
        await ctx.wait_for_event("go", id="gate")

    @create_workflow("changing", version="1").handler
    async def changed(ctx: Ctx) -> None:
        await ctx.now(id="fetch")
        await ctx.wait_for_event("go", id="gate")

    outcome = await start_then_resume_with(store, original, changed)
    assert outcome.kind == "errored"
    assert outcome.code == "nondeterminism"
    assert "ctx.now(id='fetch')" in outcome.error.message
    assert "ctx.step('fetch')" in outcome.error.message
    assert "previous_versions" in outcome.error.message


async def test_replay_meeting_a_different_step_id_fails_the_run(store: InMemoryRunStore) -> None:
    calls: list[str] = []

    @create_workflow("renamed", version="1").handler
    async def original(ctx: Ctx) -> None:
        await ctx.step("fetch", lambda: calls.append("fetch"))
        await ctx.wait_for_event("go")

    @create_workflow("renamed", version="1").handler
    async def changed(ctx: Ctx) -> None:
        await ctx.step("fetch-v2", lambda: calls.append("fetch-v2"))
        await ctx.wait_for_event("go")

    outcome = await start_then_resume_with(store, original, changed)
    assert outcome.code == "nondeterminism"
    assert "operation #0" in outcome.error.message
    assert calls == ["fetch"]  # the changed step never ran


async def test_replay_meeting_a_different_signal_name_fails_the_run(
    store: InMemoryRunStore,
) -> None:
    @create_workflow("signal-name", version="1").handler
    async def original(ctx: Ctx) -> None:
        await ctx.wait_for_event("first", id="w1")
        await ctx.wait_for_event("go", id="w2")

    @create_workflow("signal-name", version="1").handler
    async def changed(ctx: Ctx) -> None:
        await ctx.wait_for_event("other", id="w1")
        await ctx.wait_for_event("go", id="w2")

    await run_workflow(workflow=original, run_store=store, run_id="r").result()
    await run_workflow(
        workflow=original,
        run_store=store,
        run_id="r",
        signal_delivery=SignalDelivery("s0", "first"),
    ).result()
    outcome = await run_workflow(
        workflow=changed, run_store=store, run_id="r", signal_delivery=SignalDelivery("s1", "go")
    ).result()
    assert outcome.code == "nondeterminism"
    assert "ctx.wait_for_event('other', id='w1')" in outcome.error.message


async def test_inserting_an_operation_before_recorded_ones_fails(store: InMemoryRunStore) -> None:
    @create_workflow("insert", version="1").handler
    async def original(ctx: Ctx) -> None:
        await ctx.step("a", lambda: 1)
        await ctx.wait_for_event("go")

    @create_workflow("insert", version="1").handler
    async def changed(ctx: Ctx) -> None:
        await ctx.step("a", lambda: 1)
        await ctx.step("audit", lambda: 2)
        await ctx.wait_for_event("go")

    outcome = await start_then_resume_with(store, original, changed)
    assert outcome.code == "nondeterminism"
    assert "ctx.step('audit')" in outcome.error.message


async def test_reordering_explicitly_named_operations_fails(store: InMemoryRunStore) -> None:
    @create_workflow("reorder", version="1").handler
    async def original(ctx: Ctx) -> None:
        await ctx.now(id="first")
        await ctx.now(id="second")
        await ctx.wait_for_event("go", id="gate")

    @create_workflow("reorder", version="1").handler
    async def changed(ctx: Ctx) -> None:
        await ctx.now(id="second")
        await ctx.now(id="first")
        await ctx.wait_for_event("go", id="gate")

    outcome = await start_then_resume_with(store, original, changed)
    assert outcome.code == "nondeterminism"


async def test_appending_work_after_the_recorded_history_is_allowed(
    store: InMemoryRunStore,
) -> None:
    @create_workflow("extend", version="1").handler
    async def original(ctx: Ctx) -> int:
        a: int = await ctx.step("a", lambda: 1)
        await ctx.wait_for_event("go")
        return a

    @create_workflow("extend", version="1").handler
    async def extended(ctx: Ctx) -> int:
        a: int = await ctx.step("a", lambda: 1)
        await ctx.wait_for_event("go")
        b: int = await ctx.step("b", lambda: 2)
        return a + b

    outcome = await start_then_resume_with(store, original, extended)
    assert outcome.kind == "finished"
    assert outcome.output == 3


async def test_concurrent_steps_with_gather_replay_without_false_alarms(
    store: InMemoryRunStore,
) -> None:
    calls: list[str] = []

    async def work(name: str, delay: float) -> str:
        calls.append(name)
        await asyncio.sleep(delay)
        return name

    @create_workflow("gather").handler
    async def wf(ctx: Ctx) -> list[str]:
        # finishes in the reverse order of the calls
        results = await asyncio.gather(
            ctx.step("slow", lambda: work("slow", 0.03)),
            ctx.step("medium", lambda: work("medium", 0.015)),
            ctx.step("fast", lambda: work("fast", 0)),
        )
        await ctx.wait_for_event("go")
        return list(results)

    paused = await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    assert paused.kind == "paused"
    log = await store.get_events("r")
    assert [e.step_id for e in log if e.type == "STEP_FINISHED"] == ["fast", "medium", "slow"]
    assert [e.seq for e in log if e.type == "STEP_FINISHED"] == [2, 1, 0]

    outcome = await run_workflow(
        workflow=wf, run_store=store, run_id="r", signal_delivery=SignalDelivery("s", "go")
    ).result()
    assert outcome.kind == "finished", outcome.error
    assert outcome.output == ["slow", "medium", "fast"]
    assert sorted(calls) == ["fast", "medium", "slow"]


async def test_gather_of_mixed_primitives_replays(store: InMemoryRunStore) -> None:
    @create_workflow("gather-mixed").handler
    async def wf(ctx: Ctx) -> list[Any]:
        values = await asyncio.gather(ctx.now(), ctx.uuid(), ctx.step("s", lambda: "x"))
        await ctx.wait_for_event("go")
        return list(values)

    paused = await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    assert paused.kind == "paused"
    outcome = await run_workflow(
        workflow=wf, run_store=store, run_id="r", signal_delivery=SignalDelivery("s", "go")
    ).result()
    assert outcome.kind == "finished", outcome.error
    log = await store.get_events("r")
    assert outcome.output == [log[0].value, log[1].value, "x"]


async def test_loop_with_derived_ids_is_deterministic(store: InMemoryRunStore) -> None:
    @create_workflow("loop").handler
    async def wf(ctx: Ctx) -> list[int]:
        # partial binds the loop value (``lambda i=i: square(i)`` works as well)
        out = [await ctx.step(f"item-{i}", functools.partial(square, i)) for i in range(3)]
        await ctx.wait_for_event("go")
        return out

    await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    outcome = await run_workflow(
        workflow=wf, run_store=store, run_id="r", signal_delivery=SignalDelivery("s", "go")
    ).result()
    assert outcome.output == [0, 1, 4]


async def test_skipping_a_recorded_operation_fails_the_run(store: InMemoryRunStore) -> None:
    @create_workflow("skip", version="1").handler
    async def original(ctx: Ctx) -> None:
        await ctx.step("first", lambda: 1)
        await ctx.approve(title="check", id="gate")
        await ctx.step("second", lambda: 2)

    @create_workflow("skip", version="1").handler
    async def without_gate(ctx: Ctx) -> None:
        await ctx.step("first", lambda: 1)
        await ctx.step("second", lambda: 2)

    await run_workflow(workflow=original, run_store=store, run_id="r").result()
    outcome = await run_workflow(
        workflow=without_gate, run_store=store, run_id="r", approval=ApprovalResult(True, "r:gate")
    ).result()
    assert outcome.code == "nondeterminism"
    assert outcome.error is not None
    assert "ctx.approve(id='gate')" in outcome.error.message
