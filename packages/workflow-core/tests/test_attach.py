"""attach=True: read a run's history without driving it."""

from __future__ import annotations

from typing import Any

from workflow_core_helpers import collect, first, types

from tanstack_workflow.core import (
    InMemoryRunStore,
    RunState,
    WorkflowContext,
    create_workflow,
    run_workflow,
)

Ctx = WorkflowContext[Any, Any]


async def test_attach_to_a_paused_run_replays_the_log(store: InMemoryRunStore) -> None:
    handler_runs = 0

    @create_workflow("attach-paused").handler
    async def wf(ctx: Ctx) -> None:
        nonlocal handler_runs
        handler_runs += 1
        await ctx.step("echo", lambda: {"echoed": "HI"})
        await ctx.wait_for_event("go", meta={"hint": "waiting on user"})

    await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    log = list(await store.get_events("r"))
    events, outcome = await collect(
        run_workflow(workflow=wf, run_store=store, run_id="r", attach=True)
    )

    assert handler_runs == 1
    assert types(events) == ["RUN_STARTED", "STEP_FINISHED", "SIGNAL_AWAITED"]
    assert events[1:] == log
    assert first(events, "SIGNAL_AWAITED").meta == {"hint": "waiting on user"}
    assert outcome.kind == "attached"
    assert outcome.persisted is False
    assert outcome.next_index == 2
    assert outcome.run is not None
    assert outcome.run.status == "paused"
    assert list(await store.get_events("r")) == log


async def test_attach_to_a_finished_run_ends_with_its_output(store: InMemoryRunStore) -> None:
    @create_workflow("attach-finished").handler
    async def wf(ctx: Ctx) -> dict[str, int]:
        return {"value": await ctx.step("compute", lambda: 42)}

    await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    events, outcome = await collect(
        run_workflow(workflow=wf, run_store=store, run_id="r", attach=True)
    )
    assert first(events, "RUN_FINISHED").output == {"value": 42}
    assert outcome.output == {"value": 42}


async def test_attach_synthesizes_a_terminal_event_missing_from_the_log(
    store: InMemoryRunStore,
) -> None:
    # a store whose log was trimmed keeps only the final snapshot
    await store.set_run_state(
        "r",
        RunState(
            run_id="r", status="finished", workflow_id="w", output=7, created_at=1, updated_at=2
        ),
    )
    await store.set_run_state(
        "e",
        RunState(
            run_id="e",
            status="aborted",
            workflow_id="w",
            error_code="cancelled",
            created_at=1,
            updated_at=2,
        ),
    )

    @create_workflow("w").handler
    async def wf(ctx: Ctx) -> None:
        return None

    events, _ = await collect(run_workflow(workflow=wf, run_store=store, run_id="r", attach=True))
    assert types(events) == ["RUN_STARTED", "RUN_FINISHED"]
    assert events[1].output == 7
    events, _ = await collect(run_workflow(workflow=wf, run_store=store, run_id="e", attach=True))
    assert types(events) == ["RUN_STARTED", "RUN_ERRORED"]
    assert events[1].code == "cancelled"


async def test_attach_to_a_missing_run_reports_run_lost(store: InMemoryRunStore) -> None:
    @create_workflow("attach-missing").handler
    async def wf(ctx: Ctx) -> None:
        return None

    events, outcome = await collect(
        run_workflow(workflow=wf, run_store=store, run_id="nope", attach=True)
    )
    assert first(events, "RUN_ERRORED").code == "run_lost"
    assert (outcome.kind, outcome.code) == ("not_found", "run_lost")


def test_attach_needs_a_run_id(store: InMemoryRunStore) -> None:
    import pytest

    @create_workflow("attach-no-id").handler
    async def wf(ctx: Ctx) -> None:
        return None

    with pytest.raises(ValueError, match="run_id"):
        run_workflow(workflow=wf, run_store=store, attach=True)
    with pytest.raises(ValueError, match="run_id"):
        run_workflow(workflow=wf, run_store=store, recover=True)
