"""Budgets: runs yield on a durable timer when the call's time budget runs low."""

from __future__ import annotations

import asyncio

from runtime_helpers import T0, runtime_for

from tanstack_workflow.core import TIMER_SIGNAL, create_workflow
from tanstack_workflow.runtime import InMemoryWorkflowExecutionStore

STEPS = 8
STEP_SECONDS = 0.1


def counting_workflow(counts: dict[str, int]):  # type: ignore[no-untyped-def]
    @create_workflow("many").handler
    async def many(ctx):  # type: ignore[no-untyped-def]
        total = 0
        for i in range(STEPS):

            async def work(i: int = i) -> int:
                counts[f"s{i}"] = counts.get(f"s{i}", 0) + 1
                await asyncio.sleep(STEP_SECONDS)  # consumes real budget
                return i

            total += await ctx.step(f"s{i}", work)
        return total

    return many


async def test_low_budget_pauses_on_a_timer_and_sweep_continues(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    counts: dict[str, int] = {}
    runtime = runtime_for(store, {"many": counting_workflow(counts)})
    # 300 ms of budget above the 1 s floor: at most a few 100 ms steps fit.
    result = await runtime.start_run(workflow_id="many", run_id="m", now=T0, max_duration_ms=1_300)
    assert result.kind == "paused"
    assert result.run is not None
    assert result.run.waiting_for is not None
    assert result.run.waiting_for.signal_name == TIMER_SIGNAL
    assert result.run.wake_at == T0 + 1
    assert result.run.wake_kind == "timer"
    assert result.run.lease_owner is None
    done_first = len(counts)
    assert 1 <= done_first < STEPS

    swept = await runtime.sweep(now=T0 + 1)
    assert [r.kind for r in swept.timers] == ["completed"]
    run = await store.load_run("m")
    assert run is not None
    assert run.output == sum(range(STEPS))
    assert all(n == 1 for n in counts.values())  # no step ran twice
    assert len(counts) == STEPS


async def test_absolute_deadline_behaves_like_max_duration(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    counts: dict[str, int] = {}
    runtime = runtime_for(store, {"many": counting_workflow(counts)})
    result = await runtime.start_run(
        workflow_id="many",
        run_id="m",
        now=T0,
        deadline=T0 + 400,
        min_yield_remaining_ms=100,
    )
    assert result.kind == "paused"
    assert result.run is not None
    assert result.run.wake_at == T0 + 1
    # each sweep continues under its own budget until the run completes
    now = T0 + 1
    for _ in range(STEPS):
        swept = await runtime.sweep(now=now, deadline=now + 400, min_yield_remaining_ms=100)
        assert swept.summary.timers
        run = await store.load_run("m")
        assert run is not None
        if run.status == "finished":
            break
        assert run.wake_at is not None
        assert run.wake_at == now + 1
        now = run.wake_at
    assert run.status == "finished"
    assert all(n == 1 for n in counts.values())
    assert len(counts) == STEPS


async def test_no_budget_means_no_yield(store: InMemoryWorkflowExecutionStore) -> None:
    @create_workflow("unbounded").handler
    async def unbounded(ctx):  # type: ignore[no-untyped-def]
        assert ctx.runtime.deadline is None
        assert ctx.runtime.time_remaining() == float("inf")
        assert not ctx.runtime.should_yield()
        return await ctx.step("a", lambda: 1)

    runtime = runtime_for(store, {"unbounded": unbounded})
    result = await runtime.start_run(workflow_id="unbounded", run_id="u", now=T0)
    assert result.kind == "completed"


async def test_should_yield_and_yield_inside_a_workflow(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    seen: list[tuple[int, int | None]] = []
    counts: dict[str, int] = {}

    @create_workflow("batches").handler
    async def batches(ctx):  # type: ignore[no-untyped-def]
        total = 0
        for i in range(6):
            if ctx.runtime.should_yield():
                seen.append((i, ctx.runtime.deadline))
                await ctx.runtime.yield_(reason="budget")

            async def work(i: int = i) -> int:
                counts[f"s{i}"] = counts.get(f"s{i}", 0) + 1
                await asyncio.sleep(STEP_SECONDS)
                return i

            total += await ctx.step(f"s{i}", work)
        return total

    runtime = runtime_for(store, {"batches": batches})
    result = await runtime.start_run(
        workflow_id="batches", run_id="b", now=T0, max_duration_ms=1_250
    )
    assert result.kind == "paused"
    assert seen  # the workflow saw its budget run low and yielded itself
    assert seen[0][1] == T0 + 1_250
    assert result.run is not None
    assert result.run.waiting_for is not None
    assert result.run.waiting_for.meta == {"reason": "budget"}
    assert result.run.wake_at == T0 + 1

    # the resumed invocation has no budget: replay skips the recorded yield cleanly
    swept = await runtime.sweep(now=T0 + 1)
    assert [r.kind for r in swept.timers] == ["completed"]
    run = await store.load_run("b")
    assert run is not None
    assert run.output == sum(range(6))
    assert all(n == 1 for n in counts.values())


async def test_unconditional_yield_resumes_on_the_next_sweep(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    @create_workflow("polite").handler
    async def polite(ctx):  # type: ignore[no-untyped-def]
        a = await ctx.step("a", lambda: 1)
        await ctx.runtime.yield_()
        b = await ctx.step("b", lambda: 2)
        return a + b

    runtime = runtime_for(store, {"polite": polite})
    first = await runtime.start_run(workflow_id="polite", run_id="p", now=T0)
    assert first.kind == "paused"
    assert first.run is not None
    assert first.run.wake_at == T0 + 1
    swept = await runtime.sweep(now=T0 + 1)
    assert [r.kind for r in swept.timers] == ["completed"]
    assert swept.timers[0].run is not None
    assert swept.timers[0].run.output == 3


async def test_step_context_sees_the_budget(store: InMemoryWorkflowExecutionStore) -> None:
    from tanstack_workflow.core import StepContext

    observed: list[int | None] = []

    @create_workflow("budgeted").handler
    async def budgeted(ctx):  # type: ignore[no-untyped-def]
        def step(step_ctx: StepContext) -> bool:
            observed.append(step_ctx.deadline)
            return step_ctx.should_yield()

        return await ctx.step("s", step)

    runtime = runtime_for(store, {"budgeted": budgeted})
    result = await runtime.start_run(
        workflow_id="budgeted", run_id="b", now=T0, deadline=T0 + 60_000
    )
    assert result.kind == "completed"
    assert observed == [T0 + 60_000]
    assert result.run is not None
    assert result.run.output is False
