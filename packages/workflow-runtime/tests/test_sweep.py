"""The bounded sweep: phases, limits, time budget, concurrency and flat memory."""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
from typing import Any

import pytest
from runtime_helpers import T0, runtime_for

from tanstack_workflow.core import WorkflowValidationError, create_workflow
from tanstack_workflow.runtime import (
    InMemoryWorkflowExecutionStore,
    SweepResult,
    WorkflowRuntime,
    every,
)

WAKE = T0 + 1_000


@create_workflow("nap").handler
async def nap(ctx):  # type: ignore[no-untyped-def]
    await ctx.sleep_until(WAKE)
    return "rested"


async def start_sleepers(runtime: WorkflowRuntime, n: int, prefix: str = "n") -> None:
    for i in range(n):
        await runtime.start_run(
            workflow_id="nap", run_id=f"{prefix}{i:04}", now=T0, include_events=False
        )


async def abandon(store: InMemoryWorkflowExecutionStore, n: int, workflow_id: str) -> None:
    """Runs whose driver crashed right after creating them (lease expires at T0 + 10)."""
    for i in range(n):
        await store.create_run(
            run_id=f"crashed{i}",
            workflow_id=workflow_id,
            workflow_version=None,
            input=None,
            now=T0,
            lease_owner="dead",
            lease_ms=10,
        )


async def test_empty_sweep(store: InMemoryWorkflowExecutionStore) -> None:
    runtime = runtime_for(store, {"nap": nap})
    result = await runtime.sweep(now=T0)
    assert isinstance(result, SweepResult)
    assert (result.recovered, result.scheduled, result.timers) == ([], [], [])
    assert not result.deadline_reached
    assert not result.remaining_may_exist
    assert result.to_wire() == {
        "recovered": [],
        "scheduled": [],
        "timers": [],
        "summary": {
            "recovered": {},
            "scheduled": {},
            "timers": {},
            "eventCount": 0,
            "returnedEventCount": 0,
        },
        "deadlineReached": False,
        "remainingMayExist": False,
    }


async def test_max_timers_limits_and_remaining_may_exist(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    runtime = runtime_for(store, {"nap": nap})
    await start_sleepers(runtime, 5)
    first = await runtime.sweep(now=WAKE, max_timers=3)
    assert len(first.timers) == 3
    assert first.summary.timers == {"completed": 3}
    assert first.remaining_may_exist
    assert [r.run_id for r in first.timers] == ["n0000", "n0001", "n0002"]
    second = await runtime.sweep(now=WAKE, max_timers=3)
    assert first.summary.event_count > 0
    assert len(second.timers) == 2
    assert not second.remaining_may_exist
    third = await runtime.sweep(now=WAKE, max_timers=3)
    assert third.timers == []


async def test_shared_limit_applies_to_every_phase(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    @create_workflow("quick").handler
    async def quick(ctx):  # type: ignore[no-untyped-def]
        return 1

    runtime = runtime_for(
        store,
        {
            "nap": nap,
            "quick": {"load": quick, "schedules": [every.seconds(1), every.minutes(1)]},
        },
    )
    await start_sleepers(runtime, 3)
    await abandon(store, 3, "quick")
    from tanstack_workflow.runtime import materialize_workflow_schedules

    await materialize_workflow_schedules(runtime, now=WAKE)
    result = await runtime.sweep(now=WAKE, limit=1)
    assert len(result.recovered) == 1
    assert len(result.scheduled) == 1
    assert len(result.timers) == 1
    assert result.remaining_may_exist
    # a per-phase limit overrides the shared one
    more = await runtime.sweep(now=WAKE, limit=1, max_recovered_runs=5, max_timers=0)
    assert len(more.recovered) == 2
    assert len(more.scheduled) == 1
    assert more.timers == []
    assert more.remaining_may_exist  # the timers phase was capped at zero


async def test_max_recovered_and_max_scheduled_runs(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    @create_workflow("quick").handler
    async def quick(ctx):  # type: ignore[no-untyped-def]
        return 1

    runtime = runtime_for(
        store,
        {"quick": {"load": quick, "schedules": [every.seconds(1), every.seconds(2)]}},
    )
    await abandon(store, 4, "quick")
    from tanstack_workflow.runtime import materialize_workflow_schedules

    await materialize_workflow_schedules(runtime, now=T0 + 2_000)
    result = await runtime.sweep(now=T0 + 2_000, max_recovered_runs=3, max_scheduled_runs=1)
    assert result.summary.recovered == {"completed": 3}
    assert result.summary.scheduled == {"completed": 1}
    assert result.remaining_may_exist
    rest = await runtime.sweep(now=T0 + 2_000)
    assert rest.summary.recovered == {"completed": 1}
    assert rest.summary.scheduled == {"completed": 1}
    assert not rest.remaining_may_exist


async def test_phases_run_in_order(store: InMemoryWorkflowExecutionStore) -> None:
    order: list[str] = []

    @create_workflow("tracked").handler
    async def tracked(ctx):  # type: ignore[no-untyped-def]
        if ctx.input == "sleep":
            await ctx.sleep_until(WAKE)
        order.append(ctx.input)
        return None

    runtime = runtime_for(
        store,
        {
            "tracked": {
                "load": tracked,
                "schedules": [{"spec": every.seconds(1), "input": "scheduled"}],
            }
        },
    )
    await runtime.start_run(workflow_id="tracked", run_id="t", input="sleep", now=T0)
    await store.create_run(
        run_id="c",
        workflow_id="tracked",
        workflow_version=None,
        input="recovered",
        now=T0,
        lease_owner="dead",
        lease_ms=1,
    )
    from tanstack_workflow.runtime import materialize_workflow_schedules

    await materialize_workflow_schedules(runtime, now=WAKE)
    await runtime.sweep(now=WAKE)
    assert order == ["recovered", "scheduled", "sleep"]


async def test_time_budget_stops_the_sweep(store: InMemoryWorkflowExecutionStore) -> None:
    runtime = runtime_for(store, {"nap": nap})
    await start_sleepers(runtime, 3)
    result = await runtime.sweep(now=WAKE, max_duration_ms=500, min_yield_remaining_ms=1_000)
    assert result.deadline_reached
    assert result.remaining_may_exist
    assert result.timers == []
    ok = await runtime.sweep(now=WAKE, max_duration_ms=5_000, min_yield_remaining_ms=1_000)
    assert not ok.deadline_reached
    assert len(ok.timers) == 3


async def test_deadline_reached_midway(store: InMemoryWorkflowExecutionStore) -> None:
    @create_workflow("slow-nap").handler
    async def slow_nap(ctx):  # type: ignore[no-untyped-def]
        await ctx.sleep_until(WAKE)
        await ctx.step("slow", lambda: asyncio.sleep(0.2))
        return None

    runtime = runtime_for(store, {"slow-nap": slow_nap}, concurrency=1)
    for i in range(10):
        await runtime.start_run(workflow_id="slow-nap", run_id=f"s{i}", now=T0)
    result = await runtime.sweep(now=WAKE, max_duration_ms=1_500, min_yield_remaining_ms=1_000)
    assert result.deadline_reached
    assert result.remaining_may_exist
    assert 1 <= sum(result.summary.timers.values()) < 10
    for r in result.timers:
        assert r.kind in ("completed", "paused")  # a run may itself yield on the budget


async def test_bad_limits_raise(store: InMemoryWorkflowExecutionStore) -> None:
    runtime = runtime_for(store, {"nap": nap})
    for options in ({"limit": -1}, {"max_timers": 1.5}, {"max_recovered_runs": True}):
        with pytest.raises(WorkflowValidationError):
            await runtime.sweep(now=T0, **options)  # type: ignore[arg-type]
    with pytest.raises(WorkflowValidationError):
        runtime_for(store, {"nap": nap}, concurrency=0)


async def test_concurrency_bounds_parallel_step_execution(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    active = 0
    peak = 0

    async def work() -> None:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.05)
        active -= 1

    @create_workflow("busy").handler
    async def busy(ctx):  # type: ignore[no-untyped-def]
        await ctx.sleep_until(WAKE)
        await ctx.step("work", work)
        return None

    runtime = runtime_for(store, {"busy": busy}, concurrency=2)
    for i in range(7):
        await runtime.start_run(workflow_id="busy", run_id=f"b{i}", now=T0)
    result = await runtime.sweep(now=WAKE)
    assert result.summary.timers == {"completed": 7}
    assert peak == 2  # driven concurrently, never more than two at once


async def test_include_events_false_keeps_no_per_run_results(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    runtime = runtime_for(store, {"nap": nap})
    await start_sleepers(runtime, 10)
    result = await runtime.sweep(now=WAKE, include_events=False)
    assert result.timers == []
    assert result.summary.timers == {"completed": 10}
    assert result.summary.event_count > 0
    assert result.summary.returned_event_count == 0


async def test_include_results_without_events(store: InMemoryWorkflowExecutionStore) -> None:
    runtime = runtime_for(store, {"nap": nap})
    await start_sleepers(runtime, 2)
    result = await runtime.sweep(now=WAKE, include_events=False, include_results=True)
    assert [r.kind for r in result.timers] == ["completed", "completed"]
    assert all(r.events == [] and r.event_count > 0 for r in result.timers)
    assert result.summary.returned_event_count == 0


async def test_max_events_applies_per_run(store: InMemoryWorkflowExecutionStore) -> None:
    runtime = runtime_for(store, {"nap": nap})
    await start_sleepers(runtime, 2)
    result = await runtime.sweep(now=WAKE, max_events=1)
    assert all(len(r.events) == 1 and r.events_truncated for r in result.timers)
    assert result.summary.returned_event_count == 2
    assert result.summary.event_count > 2


class ForgetfulStore(InMemoryWorkflowExecutionStore):
    """Drops a run as soon as it finishes, so only the sweep itself can hold memory."""

    async def append_events(self, **kwargs: Any) -> int:
        index = await super().append_events(**kwargs)
        transition = kwargs.get("transition")
        if transition is not None and transition.status == "finished":
            await self.delete_run(kwargs["run_id"], "finished")
        return index


async def _sweep_growth(n: int, include_events: bool) -> tuple[int, int, SweepResult]:
    store = ForgetfulStore()
    runtime = runtime_for(store, {"nap": nap})
    await start_sleepers(runtime, 20, prefix="warm")
    await runtime.sweep(now=WAKE, include_events=False, limit=20)  # warm caches
    await start_sleepers(runtime, n)
    gc.collect()
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        result = await runtime.sweep(now=WAKE, include_events=include_events, limit=n)
        gc.collect()
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return current - base, peak - base, result


async def test_memory_stays_flat_without_events() -> None:
    small_retained, small_peak, small = await _sweep_growth(30, include_events=False)
    big_retained, big_peak, big = await _sweep_growth(300, include_events=False)
    assert small.summary.timers == {"completed": 30}
    assert big.summary.timers == {"completed": 300}
    assert len(big.timers) == 0
    # Ten times the runs, but nothing per run is kept: growth stays in the same range.
    slack = 256 * 1024
    assert big_retained <= max(small_retained, 0) * 3 + slack
    assert big_peak <= small_peak * 3 + slack
    # ...whereas keeping results really does grow with the number of runs.
    kept_retained, _, kept = await _sweep_growth(100, include_events=True)
    assert len(kept.timers) == 100
    assert kept_retained > big_retained


async def test_a_run_of_an_unregistered_workflow_fails_only_itself(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    @create_workflow("retired").handler
    async def retired(ctx):  # type: ignore[no-untyped-def]
        await ctx.sleep_until(T0 + 500)
        return None

    old = runtime_for(store, {"nap": nap, "retired": retired})
    await old.start_run(workflow_id="retired", run_id="r", now=T0)
    await start_sleepers(old, 2)
    await abandon(store, 1, "retired")

    current = runtime_for(store, {"nap": nap})  # "retired" was removed in a deploy
    result = await current.sweep(now=WAKE, lease_ms=10_000)
    assert result.summary.recovered == {"errored": 1}
    assert result.summary.timers == {"errored": 1, "completed": 2}
    failed = [r for r in result.timers if r.kind == "errored"]
    assert failed[0].run_id == "r"
    assert "UnknownWorkflowError" in (failed[0].detail or "")
    stuck = await store.load_run("r")
    assert stuck is not None
    assert stuck.status == "paused"  # untouched, and held until its lease lapses
    assert (await current.sweep(now=WAKE + 5_000)).summary.timers == {}
    retried = await current.sweep(now=WAKE + 11_000, lease_ms=10_000)
    assert retried.summary.timers == {"errored": 1}
    assert retried.summary.recovered == {"errored": 1}
    # registering it again lets a later sweep finish the run
    again = runtime_for(store, {"nap": nap, "retired": retired})
    done = await again.sweep(now=WAKE + 30_000)
    assert done.summary.recovered == {"paused": 1}  # recovered, then slept until T0 + 500...
    assert done.summary.timers == {"completed": 2}  # ...which is already due
