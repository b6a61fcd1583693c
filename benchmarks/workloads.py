"""Benchmark workloads W1-W4, run against any ``WorkflowExecutionStore``.

W1  one run of N sequential trivial steps
W2  N three-step runs, with 1 and 8 concurrent drivers
W3  N runs sleeping, then sweeps until every run has resumed
W4  a run that pauses N times on ``wait_for_event``, each resumed by ``deliver_signal``

Each workload reports wall time and store operations per unit. Every store
operation of the first-party SQL stores is one SQL statement (one batch on D1), so
operations per unit are statements per unit; ``run.py`` adds server-side counts
from ``pg_stat_statements`` where the server has it.
"""

from __future__ import annotations

import asyncio
import time
import tracemalloc
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from tanstack_workflow.core import create_workflow
from tanstack_workflow.runtime import WorkflowExecutionStore, define_workflow_runtime

StoreFactory = Callable[[], Awaitable[WorkflowExecutionStore]]


class CountingStore:
    """Forwards to a store and counts every awaited operation by name."""

    def __init__(self, inner: WorkflowExecutionStore) -> None:
        self._inner = inner
        self.counts: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._inner, name)
        if not callable(target) or name.startswith("_") or name in ("subscribe_events",):
            return target

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.counts[name] += 1
            return await target(*args, **kwargs)

        return counted

    def total(self, exclude: tuple[str, ...] = ("close",)) -> int:
        return sum(n for op, n in self.counts.items() if op not in exclude)


@dataclass
class Measurement:
    workload: str
    units: int
    unit: str
    seconds: float
    operations: Counter[str] = field(default_factory=Counter)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ops_per_unit(self) -> float:
        return sum(self.operations.values()) / self.units

    @property
    def ms_per_unit(self) -> float:
        return self.seconds * 1000 / self.units


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


async def _runtime(factory: StoreFactory) -> tuple[Any, CountingStore]:
    counting = CountingStore(await factory())
    runtime = define_workflow_runtime(store=counting, workflows=WORKFLOWS)  # type: ignore[arg-type]
    return runtime, counting


async def w1(factory: StoreFactory, steps: int = 1_000) -> Measurement:
    runtime, counting = await _runtime(factory)
    start = time.perf_counter()
    result = await runtime.start_run(
        workflow_id="bench-steps",
        run_id="w1",
        input={"steps": steps},
        now=NOW,
        include_events=False,
    )
    seconds = time.perf_counter() - start
    assert result.kind == "completed", result
    await runtime.close()
    return Measurement("W1", steps, "step", seconds, counting.counts)


async def w2(factory: StoreFactory, runs: int = 1_000, drivers: int = 1) -> Measurement:
    runtime, counting = await _runtime(factory)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(runs):
        queue.put_nowait(i)

    async def driver() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            result = await runtime.start_run(
                workflow_id="bench-three", run_id=f"w2-{drivers}-{i}", now=NOW, include_events=False
            )
            assert result.kind == "completed", result

    start = time.perf_counter()
    await asyncio.gather(*(driver() for _ in range(drivers)))
    seconds = time.perf_counter() - start
    await runtime.close()
    m = Measurement(f"W2x{drivers}", runs, "run", seconds, counting.counts)
    m.extra["runs_per_s"] = runs / seconds
    return m


async def w3(factory: StoreFactory, runs: int = 5_000, sweep_limit: int = 500) -> Measurement:
    runtime, counting = await _runtime(factory)
    for i in range(runs):
        result = await runtime.start_run(
            workflow_id="bench-sleep", run_id=f"w3-{i}", now=NOW, include_events=False
        )
        assert result.kind == "paused", result
    counting.counts.clear()
    tracemalloc.start()
    start = time.perf_counter()
    resumed = 0
    peaks = []
    while resumed < runs:
        swept = await runtime.sweep(now=NOW + 1_000, limit=sweep_limit, include_events=False)
        done = sum(swept.summary.timers.values())
        if done == 0:
            break
        resumed += done
        peaks.append(tracemalloc.get_traced_memory()[0])
    seconds = time.perf_counter() - start
    tracemalloc.stop()
    await runtime.close()
    m = Measurement("W3", runs, "timer", seconds, counting.counts)
    m.extra["timers_per_s"] = resumed / seconds
    m.extra["resumed"] = resumed
    if len(peaks) >= 2:
        m.extra["memory_first_mib"] = peaks[0] / 2**20
        m.extra["memory_last_mib"] = peaks[-1] / 2**20
    return m


async def w4(factory: StoreFactory, waits: int) -> Measurement:
    runtime, counting = await _runtime(factory)
    run_id = f"w4-{waits}"
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
    return Measurement(f"W4 N={waits}", waits, "resume", seconds, counting.counts)
