"""Benchmark workloads W1-W4, run against any store target (see ``counting.py``).

W1  one run of N sequential trivial steps (median of a few runs)
W2  N three-step runs, with 1 and 8 concurrent drivers
W3  N runs sleeping, then sweeps until every run has resumed: timed by a fresh runtime
    (real timers fire in another process), then a second pass under tracemalloc for memory
W4  a run that pauses N times on ``wait_for_event``, each resumed by ``deliver_signal``

Each workload reports time per unit and, from the target's counting window, statements and
commits per unit.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from counting import Target, Window

from tanstack_workflow.core import create_workflow
from tanstack_workflow.runtime import define_workflow_runtime


@dataclass
class Measurement:
    workload: str
    units: int
    unit: str
    ms_per_unit: float
    statements_per_unit: float
    commits_per_unit: float | None
    extra: dict[str, str] = field(default_factory=dict)
    per_run_ms: list[float] = field(default_factory=list)


def _measurement(
    workload: str, units: int, unit: str, seconds: float, window: Window, counted_units: int
) -> Measurement:
    return Measurement(
        workload,
        units,
        unit,
        seconds * 1000 / units,
        window.statements / counted_units,
        None if window.commits is None else window.commits / counted_units,
    )


@create_workflow("bench-steps").handler
async def many_steps(ctx: Any) -> int:
    for i in range(ctx.input["steps"]):
        await ctx.step(f"s{i}", lambda i=i: i)
    return int(ctx.input["steps"])


@create_workflow("bench-three").handler
async def three_steps(ctx: Any) -> str:
    await ctx.step("a", lambda: 1)
    await ctx.step("b", lambda: 2)
    await ctx.step("c", lambda: 3)
    return "ok"


@create_workflow("bench-sleep").handler
async def sleeper(ctx: Any) -> str:
    await ctx.sleep(1_000)
    return "woke"


@create_workflow("bench-waits").handler
async def waiter(ctx: Any) -> int:
    total = 0
    for i in range(ctx.input["waits"]):
        total += int(await ctx.wait_for_event("tick", id=f"w{i}"))
    return total


WORKFLOWS = {
    "bench-steps": many_steps,
    "bench-three": three_steps,
    "bench-sleep": sleeper,
    "bench-waits": waiter,
}

NOW = 1_800_000_000_000


async def _runtime(window: Window, **options: Any) -> Any:
    """A fresh runtime over a store object opened in ``window``."""
    return define_workflow_runtime(store=await window.store(), workflows=WORKFLOWS, **options)  # type: ignore[arg-type]


async def w1(
    target: Target,
    steps: int = 1_000,
    repeats: int = 3,
    between: Callable[[], Awaitable[None]] | None = None,
) -> Measurement:
    """``repeats`` runs, each in its own window; ``between`` runs before, between and after."""
    await target.reset()
    times: list[float] = []
    statements = commits = 0
    counted_commits = True
    for k in range(repeats):
        if between is not None:
            await between()
        async with target.window() as window:
            runtime = await _runtime(window)
            start = time.perf_counter()
            result = await runtime.start_run(
                workflow_id="bench-steps",
                run_id=f"w1-{k}",
                input={"steps": steps},
                now=NOW,
                include_events=False,
            )
            times.append((time.perf_counter() - start) * 1000 / steps)
            assert result.kind == "completed", result
            await runtime.close()
        statements += window.statements
        if window.commits is None:
            counted_commits = False
        else:
            commits += window.commits
    if between is not None:
        await between()
    units = steps * repeats
    m = Measurement(
        "W1",
        steps,
        "step",
        statistics.median(times),
        statements / units,
        commits / units if counted_commits else None,
        per_run_ms=times,
    )
    if repeats > 1:
        m.extra["runs"] = f"median of {repeats}"
    return m


async def w2(target: Target, runs: int = 1_000, drivers: int = 1) -> Measurement:
    await target.reset()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(runs):
        queue.put_nowait(i)
    async with target.window() as window:
        runtime = await _runtime(window)

        async def driver() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                result = await runtime.start_run(
                    workflow_id="bench-three", run_id=f"w2-{i}", now=NOW, include_events=False
                )
                assert result.kind == "completed", result

        start = time.perf_counter()
        await asyncio.gather(*(driver() for _ in range(drivers)))
        seconds = time.perf_counter() - start
        await runtime.close()
    m = _measurement(f"W2x{drivers}", runs, "run", seconds, window, runs)
    m.extra["runs/s"] = f"{runs / seconds:.0f}"
    return m


async def _start_sleepers(target: Target, runs: int) -> None:
    """Fresh data holding ``runs`` runs asleep until NOW + 1000 (not measured)."""
    await target.reset()
    async with target.window() as window:
        runtime = await _runtime(window)
        for i in range(runs):
            result = await runtime.start_run(
                workflow_id="bench-sleep", run_id=f"w3-{i}", now=NOW, include_events=False
            )
            assert result.kind == "paused", result
        await runtime.close()


async def _sweep_all(runtime: Any, runs: int, limit: int, after_batch: Any = None) -> int:
    resumed = 0
    while resumed < runs:
        swept = await runtime.sweep(now=NOW + 1_000, limit=limit, include_events=False)
        done = sum(swept.summary.timers.values())
        if done == 0:
            break
        resumed += done
        if after_batch is not None:
            after_batch()
    return resumed


async def w3(
    target: Target, runs: int = 5_000, sweep_limit: int = 500, **options: Any
) -> Measurement:
    # Timed pass: the sleeping runs were started by another runtime (another process, in
    # production), so the sweeping runtime has nothing of them in memory.
    await _start_sleepers(target, runs)
    async with target.window() as window:
        runtime = await _runtime(window, **options)
        start = time.perf_counter()
        resumed = await _sweep_all(runtime, runs, sweep_limit)
        seconds = time.perf_counter() - start
        await runtime.close()
    assert resumed == runs, (resumed, runs)
    m = _measurement("W3", runs, "timer", seconds, window, runs)
    m.extra["timers/s"] = f"{runs / seconds:.0f}"
    if "concurrency" in options:
        m.extra["sweep concurrency"] = str(options["concurrency"])

    # Memory pass, not timed: the Python heap after each sweep batch, under tracemalloc.
    await _start_sleepers(target, runs)
    async with target.window() as window:
        runtime = await _runtime(window, **options)
        heap: list[int] = []
        tracemalloc.start()
        try:
            await _sweep_all(
                runtime, runs, sweep_limit, lambda: heap.append(tracemalloc.get_traced_memory()[0])
            )
        finally:
            tracemalloc.stop()
        await runtime.close()
    if len(heap) >= 2:
        m.extra["heap MiB first/last batch"] = f"{heap[0] / 2**20:.1f}/{heap[-1] / 2**20:.1f}"
    return m


async def w4(target: Target, waits: int) -> Measurement:
    await target.reset()
    run_id = f"w4-{waits}"
    async with target.window() as window:
        runtime = await _runtime(window)
        start = time.perf_counter()
        result = await runtime.start_run(
            workflow_id="bench-waits",
            run_id=run_id,
            input={"waits": waits},
            now=NOW,
            include_events=False,
        )
        for i in range(waits):
            result = await runtime.deliver_signal(
                run_id=run_id,
                signal_id=f"sig-{i}",
                name="tick",
                payload=1,
                now=NOW + i,
                include_events=False,
            )
        seconds = time.perf_counter() - start
        assert result.kind == "completed", result
        await runtime.close()
    return _measurement(f"W4 N={waits}", waits, "resume", seconds, window, waits)
