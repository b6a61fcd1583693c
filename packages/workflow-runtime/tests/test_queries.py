"""list_runs with filters and cursor pagination; get_run_timeline."""

from __future__ import annotations

import pytest
from runtime_helpers import T0, runtime_for

from tanstack_workflow.core import WorkflowValidationError, create_workflow
from tanstack_workflow.runtime import InMemoryWorkflowExecutionStore, RunPage, WorkflowRuntime


@create_workflow("done").handler
async def done(ctx):  # type: ignore[no-untyped-def]
    return await ctx.step("s", lambda: "ok")


@create_workflow("waits").handler
async def waits(ctx):  # type: ignore[no-untyped-def]
    return await ctx.wait_for_event("go")


async def populate(store: InMemoryWorkflowExecutionStore) -> WorkflowRuntime:
    runtime = runtime_for(store, {"done": done, "waits": waits})
    for i in range(7):
        await runtime.start_run(workflow_id="done", run_id=f"d{i}", now=T0 + i)
    for i in range(5):
        await runtime.start_run(workflow_id="waits", run_id=f"w{i}", now=T0 + 100 + i)
    # two runs share a creation time: the run id breaks the tie
    await runtime.start_run(workflow_id="waits", run_id="w-tie-a", now=T0 + 100)
    return runtime


async def test_list_runs_newest_first_with_filters(store: InMemoryWorkflowExecutionStore) -> None:
    runtime = await populate(store)
    everything = await runtime.list_runs(limit=100)
    assert isinstance(everything, RunPage)
    assert everything.next_cursor is None
    assert len(everything.runs) == 13
    keys = [(r.created_at, r.run_id) for r in everything.runs]
    assert keys == sorted(keys, reverse=True)

    finished = await runtime.list_runs(workflow_id="done", limit=100)
    assert {r.run_id for r in finished.runs} == {f"d{i}" for i in range(7)}
    assert all(r.status == "finished" for r in finished.runs)
    paused = await runtime.list_runs(status="paused", limit=100)
    assert len(paused.runs) == 6
    assert all(r.awaiting for r in paused.runs)
    both = await runtime.list_runs(workflow_id="done", status="paused")
    assert both.runs == []
    assert (await runtime.list_runs(workflow_id="nope")).runs == []


@pytest.mark.parametrize("limit", [1, 2, 5, 13, 50])
async def test_cursor_pagination_covers_every_run_once(
    store: InMemoryWorkflowExecutionStore, limit: int
) -> None:
    runtime = await populate(store)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = await runtime.list_runs(limit=limit, cursor=cursor)
        pages += 1
        assert len(page.runs) <= limit
        seen += [r.run_id for r in page.runs]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 13
    assert pages == -(-13 // limit)


async def test_cursor_is_stable_when_runs_are_added(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    runtime = await populate(store)
    first = await runtime.list_runs(workflow_id="done", limit=3)
    await runtime.start_run(workflow_id="done", run_id="newer", now=T0 + 1_000)
    rest: list[str] = []
    cursor = first.next_cursor
    while cursor is not None:
        page = await runtime.list_runs(workflow_id="done", limit=3, cursor=cursor)
        rest += [r.run_id for r in page.runs]
        cursor = page.next_cursor
    assert [r.run_id for r in first.runs] + rest == [f"d{i}" for i in reversed(range(7))]


async def test_bad_queries(store: InMemoryWorkflowExecutionStore) -> None:
    runtime = await populate(store)
    with pytest.raises(ValueError, match="cursor"):
        await runtime.list_runs(cursor="not-a-cursor")
    with pytest.raises(WorkflowValidationError):
        await runtime.list_runs(limit=0)


async def test_run_timeline(store: InMemoryWorkflowExecutionStore) -> None:
    runtime = runtime_for(store, {"waits": waits})
    await runtime.start_run(workflow_id="waits", run_id="w", now=T0)
    await runtime.deliver_signal(run_id="w", signal_id="s", name="go", payload=1, now=T0 + 5)
    timeline = await runtime.get_run_timeline("w")
    assert timeline is not None
    assert timeline.run.status == "finished"
    assert [(e.event_index, e.event_type) for e in timeline.events] == [
        (0, "SIGNAL_AWAITED"),
        (1, "SIGNAL_RESOLVED"),
        (2, "RUN_FINISHED"),
    ]
    # stamped by the driving call's clock: its ``now`` plus the real time it has run
    created = [e.created_at for e in timeline.events]
    assert created == sorted(created)
    assert T0 <= created[0] < T0 + 5 <= created[1]
    assert all(e.run_id == "w" for e in timeline.events)
    wire = timeline.to_wire()
    assert wire["events"][1]["eventType"] == "SIGNAL_RESOLVED"
    assert await runtime.get_run_timeline("ghost") is None
