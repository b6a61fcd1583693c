"""Compare-and-set appends: two drivers of one run can never both commit."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from workflow_core_helpers import (
    GatedStore,
    GatedTransitionStore,
    collect,
    crashed_copy,
    types,
)

from tanstack_workflow.core import (
    CustomEvent,
    InMemoryRunStore,
    LogConflictError,
    RunStore,
    TransitionRunStore,
    WorkflowContext,
    WorkflowDefinition,
    create_workflow,
    drive_workflow,
    in_memory_run_store,
    run_workflow,
)

Ctx = WorkflowContext[object, object]


def custom(name: str) -> CustomEvent:
    return CustomEvent(ts=1, name=name, value={})


async def test_append_at_an_existing_index_is_rejected(store: InMemoryRunStore) -> None:
    await store.append_event("run-1", 0, custom("winner"))
    with pytest.raises(LogConflictError) as info:
        await store.append_event("run-1", 0, custom("loser"))
    err = info.value
    assert (err.run_id, err.attempted_index, err.actual_next_index) == ("run-1", 0, 1)
    assert [e.name for e in await store.get_events("run-1")] == ["winner"]  # type: ignore[union-attr]


async def test_append_skipping_ahead_is_rejected(store: InMemoryRunStore) -> None:
    with pytest.raises(LogConflictError):
        await store.append_event("run-1", 1, custom("x"))
    assert await store.get_events("run-1") == []


async def test_commit_transition_is_all_or_nothing(store: InMemoryRunStore) -> None:
    from tanstack_workflow.core import RunState

    state = RunState(run_id="run-1", status="running", workflow_id="w", created_at=1, updated_at=1)
    await store.append_event("run-1", 0, custom("a"))
    with pytest.raises(LogConflictError):
        await store.commit_transition("run-1", 0, [custom("b"), custom("c")], state)
    assert len(await store.get_events("run-1")) == 1
    assert await store.get_run_state("run-1") is None
    await store.commit_transition("run-1", 1, [custom("b"), custom("c")], state)
    assert len(await store.get_events("run-1")) == 3
    assert await store.get_run_state("run-1") == state


def test_in_memory_store_satisfies_the_protocols() -> None:
    store = in_memory_run_store()
    assert isinstance(store, RunStore)
    assert isinstance(store, TransitionRunStore)
    assert not isinstance(GatedStore(), TransitionRunStore)
    assert isinstance(GatedTransitionStore(), TransitionRunStore)


def counting_workflow(calls: list[str]) -> WorkflowDefinition[Any, Any, Any]:
    def work(name: str) -> str:
        calls.append(name)
        return name

    @create_workflow("cas").handler
    async def wf(ctx: Ctx) -> list[str]:
        a = await ctx.step("a", lambda: work("a"))
        b = await ctx.step("b", lambda: work("b"))
        return [a, b]

    return wf


@pytest.mark.parametrize("store_type", [GatedStore, GatedTransitionStore])
async def test_two_drivers_of_one_run_never_both_commit(store_type: type[GatedStore]) -> None:
    calls: list[str] = []
    wf = counting_workflow(calls)
    seed = in_memory_run_store()
    await run_workflow(workflow=wf, run_store=seed, run_id="r").result()
    # a crash after step "a": the run is "running" and anyone may recover it
    store = store_type(await crashed_copy(seed, "r", keep=1))
    calls.clear()

    store.hold_next = True
    loser = asyncio.create_task(
        collect(run_workflow(workflow=wf, run_store=store, run_id="r", recover=True))
    )
    await store.arrived.wait()  # the loser ran step "b" and is about to record it
    _, winner = await collect(run_workflow(workflow=wf, run_store=store, run_id="r", recover=True))
    store.release.set()
    with pytest.raises(LogConflictError) as info:
        await loser

    assert winner.kind == "finished"
    assert winner.output == ["a", "b"]
    assert info.value.run_id == "r"
    assert info.value.attempted_index == 1
    # at-least-once: both drivers ran the step, but only one result was recorded
    assert calls == ["b", "b"]
    log = await store.get_events("r")
    assert types(log) == ["STEP_FINISHED", "STEP_FINISHED", "RUN_FINISHED"]
    assert [e.step_id for e in log[:2]] == ["a", "b"]  # type: ignore[union-attr]
    state = await store.get_run_state("r")
    assert state is not None
    assert state.status == "finished"


async def test_two_starts_of_one_run_id_never_both_commit() -> None:
    calls: list[str] = []
    wf = counting_workflow(calls)
    store = GatedStore()

    store.hold_next = True
    loser = asyncio.create_task(collect(run_workflow(workflow=wf, run_store=store, run_id="r")))
    await store.arrived.wait()
    # the second start sees the run already created and attaches to it
    _, second = await collect(run_workflow(workflow=wf, run_store=store, run_id="r"))
    assert second.kind == "attached"
    store.release.set()
    _, first = await loser
    assert first.kind == "finished"
    assert types(await store.get_events("r")) == ["STEP_FINISHED", "STEP_FINISHED", "RUN_FINISHED"]


async def test_drive_workflow_raises_log_conflict_error_too() -> None:
    calls: list[str] = []
    wf = counting_workflow(calls)
    seed = in_memory_run_store()
    await run_workflow(workflow=wf, run_store=seed, run_id="r").result()
    store = GatedStore(await crashed_copy(seed, "r", keep=1))

    store.hold_next = True
    loser = asyncio.create_task(
        drive_workflow(workflow=wf, run_store=store, run_id="r", recover=True)
    )
    await store.arrived.wait()
    winner = await drive_workflow(workflow=wf, run_store=store, run_id="r", recover=True)
    store.release.set()
    with pytest.raises(LogConflictError):
        await loser
    assert winner.kind == "finished"
    assert len(await store.get_events("r")) == 3


async def test_conflict_on_the_terminal_event_is_raised(store: InMemoryRunStore) -> None:
    @create_workflow("terminal").handler
    async def wf(ctx: Ctx) -> str:
        # another writer sneaks an event in while the handler runs
        log = await store.get_events(ctx.run_id)
        await store.append_event(ctx.run_id, len(log), custom("intruder"))
        return "done"

    with pytest.raises(LogConflictError):
        await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    assert types(await store.get_events("r")) == ["CUSTOM"]
