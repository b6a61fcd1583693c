"""Leases: heartbeats while user code runs, recovery of runs whose driver crashed."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from runtime_helpers import T0, Calls, log_types, runtime_for

from tanstack_workflow.core import StepFinished, create_workflow
from tanstack_workflow.runtime import InMemoryWorkflowExecutionStore


async def test_heartbeat_extends_the_lease_during_a_long_step(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    halfway = asyncio.Event()

    async def long_step() -> str:
        await asyncio.sleep(0.25)
        halfway.set()
        await asyncio.sleep(0.25)
        return "done"

    @create_workflow("long").handler
    async def long(ctx):  # type: ignore[no-untyped-def]
        return await ctx.step("long", long_step)

    runtime = runtime_for(store, {"long": long})
    driving = asyncio.create_task(
        runtime.start_run(workflow_id="long", run_id="l", now=T0, lease_ms=300)
    )
    await halfway.wait()
    run = await store.load_run("l")
    assert run is not None
    assert run.lease_owner is not None
    # ~400 ms in: without heartbeats the 300 ms lease would have lapsed already
    assert run.lease_expires_at is not None
    assert run.lease_expires_at > T0 + 300
    claim = await store.claim_run(run_id="l", lease_owner="intruder", lease_ms=300, now=T0 + 301)
    assert claim.kind == "not-claimable"
    stale = await store.claim_stale_runs(
        now=T0 + 301, limit=10, lease_owner="intruder", lease_ms=300
    )
    assert stale == []
    result = await driving
    assert result.kind == "completed"
    final = await store.load_run("l")
    assert final is not None
    assert final.lease_owner is None


async def test_lease_is_released_on_pause_finish_and_error(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    @create_workflow("pauses").handler
    async def pauses(ctx):  # type: ignore[no-untyped-def]
        return await ctx.wait_for_event("go")

    @create_workflow("fails").handler
    async def fails(ctx):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    runtime = runtime_for(store, {"pauses": pauses, "fails": fails})
    paused = await runtime.start_run(workflow_id="pauses", run_id="p", now=T0)
    errored = await runtime.start_run(workflow_id="fails", run_id="f", now=T0)
    assert paused.kind == "paused"
    assert errored.kind == "errored"
    for run_id in ("p", "f"):
        run = await store.load_run(run_id)
        assert run is not None
        assert run.lease_owner is None
        assert run.lease_expires_at is None
    # a released run can be claimed right away by anyone
    claim = await store.claim_run(run_id="p", lease_owner="x", lease_ms=1_000, now=T0)
    assert claim.kind == "claimed"


async def test_crashed_driver_is_recovered_after_lease_expiry(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    calls = Calls()

    @create_workflow("pipeline").handler
    async def pipeline(ctx):  # type: ignore[no-untyped-def]
        a = await ctx.step("a", calls("a", 1))
        b = await ctx.step("b", calls("b", 2))
        return a + b

    runtime = runtime_for(store, {"pipeline": pipeline})
    # A driver claimed the run, checkpointed step "a", then died without releasing.
    created = await store.create_run(
        run_id="c",
        workflow_id="pipeline",
        workflow_version=None,
        input=None,
        now=T0,
        lease_owner="crashed-worker",
        lease_ms=30_000,
    )
    assert created.kind == "created"
    await store.append_events(
        run_id="c",
        expected_next_index=0,
        events=[StepFinished(ts=T0, step_id="a", result=1, seq=0)],
        now=T0,
    )

    before_expiry = await runtime.sweep(now=T0 + 29_000)
    assert before_expiry.recovered == []
    blocked = await runtime.start_run(workflow_id="pipeline", run_id="c", now=T0 + 1)
    assert blocked.detail == "existing run"  # attaching never steals the lease

    recovered = await runtime.sweep(now=T0 + 30_000)
    assert [r.kind for r in recovered.recovered] == ["completed"]
    assert recovered.summary.recovered == {"completed": 1}
    assert calls.counts == {"b": 1}  # "a" replayed from its checkpoint
    run = await store.load_run("c")
    assert run is not None
    assert run.output == 3
    assert run.lease_owner is None
    assert await log_types(store, "c") == ["STEP_FINISHED", "STEP_FINISHED", "RUN_FINISHED"]


async def test_driver_killed_mid_step_is_recovered(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    """A driver task killed mid-step (its process died): nothing released, nothing
    heartbeated. The next sweep after the lease lapses replays and finishes the run."""
    calls = Calls()
    entered = asyncio.Event()
    hang = asyncio.Event()
    attempts = {"n": 0}

    async def flaky() -> str:
        attempts["n"] += 1
        if attempts["n"] == 1:
            entered.set()
            await hang.wait()  # never set: the first driver dies here
        return "ok"

    @create_workflow("flow").handler
    async def flow(ctx):  # type: ignore[no-untyped-def]
        await ctx.step("first", calls("first"))
        return await ctx.step("second", flaky)

    class DeadProcessStore:
        """Delegates to the real store but drops the dying driver's lease bookkeeping."""

        def __init__(self, inner: InMemoryWorkflowExecutionStore) -> None:
            self.inner = inner
            self.dead = False

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

        async def release_run_lease(self, **kwargs: Any) -> None:
            if not self.dead:
                await self.inner.release_run_lease(**kwargs)

        async def heartbeat_run_lease(self, **kwargs: Any) -> bool:
            if self.dead:
                return True
            return await self.inner.heartbeat_run_lease(**kwargs)

    dying = DeadProcessStore(store)
    first = runtime_for(dying, {"flow": flow}, default_lease_ms=10_000)  # type: ignore[arg-type]
    task = asyncio.create_task(first.start_run(workflow_id="flow", run_id="k", now=T0))
    await entered.wait()
    dying.dead = True
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    run = await store.load_run("k")
    assert run is not None
    assert run.status == "running"
    assert run.lease_owner is not None

    second = runtime_for(store, {"flow": flow})
    assert (await second.sweep(now=T0 + 9_000)).recovered == []
    swept = await second.sweep(now=T0 + 10_000)
    assert [r.kind for r in swept.recovered] == ["completed"]
    assert calls.counts == {"first": 1}
    assert attempts["n"] == 2
    final = await store.load_run("k")
    assert final is not None
    assert final.output == "ok"


async def test_two_sweeps_never_both_recover_a_run(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    calls = Calls()

    @create_workflow("once").handler
    async def once(ctx):  # type: ignore[no-untyped-def]
        return await ctx.step("only", calls("only"))

    runtime = runtime_for(store, {"once": once})
    await store.create_run(
        run_id="o",
        workflow_id="once",
        workflow_version=None,
        input=None,
        now=T0,
        lease_owner="dead",
        lease_ms=1_000,
    )
    a, b = await asyncio.gather(
        runtime.sweep(now=T0 + 5_000, lease_owner="sweep-a"),
        runtime.sweep(now=T0 + 5_000, lease_owner="sweep-b"),
    )
    assert len(a.recovered) + len(b.recovered) == 1
    assert calls.counts == {"only": 1}
