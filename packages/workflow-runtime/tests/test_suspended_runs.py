"""The runtime keeps runs it paused parked in memory and resumes them in O(new events)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from runtime_helpers import T0, runtime_for

from tanstack_workflow.core import WorkflowContext, create_workflow
from tanstack_workflow.runtime import InMemoryWorkflowExecutionStore

Ctx = WorkflowContext[Any, Any]


class Spy(InMemoryWorkflowExecutionStore):
    """Counts store calls and how many events the runtime read back."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: Counter[str] = Counter()
        self.events_read = 0

    async def claim_run(self, **kwargs: Any) -> Any:
        self.calls["claim_run"] += 1
        claim = await super().claim_run(**kwargs)
        self.events_read += len(claim.events or ())
        return claim

    async def read_events(self, run_id: str, *, from_index: int = 0) -> Any:
        self.calls["read_events"] += 1
        events = await super().read_events(run_id, from_index=from_index)
        self.events_read += len(events)
        return events

    async def load_execution(self, run_id: str, *, from_index: int = 0) -> Any:
        self.calls["load_execution"] += 1
        return await super().load_execution(run_id, from_index=from_index)

    async def load_run(self, run_id: str) -> Any:
        self.calls["load_run"] += 1
        return await super().load_run(run_id)


class Body:
    def __init__(self) -> None:
        self.entered = 0
        self.cleanups = 0


def ticker(body: Body, waits: int) -> Any:
    @create_workflow("ticker").handler
    async def wf(ctx: Ctx) -> int:
        body.entered += 1
        total = 0
        try:
            for i in range(waits):
                total += int(await ctx.wait_for_event("tick", id=f"w{i}"))
            return total
        finally:
            body.cleanups += 1

    return wf


async def tick(runtime: Any, i: int, run_id: str = "r") -> Any:
    return await runtime.deliver_signal(
        run_id=run_id, signal_id=f"s{i}", name="tick", payload=1, now=T0 + i
    )


async def test_signals_continue_the_parked_handler_without_reading_the_log() -> None:
    store, body = Spy(), Body()
    runtime = runtime_for(store, {"ticker": ticker(body, 50)})
    await runtime.start_run(workflow_id="ticker", run_id="r", now=T0)
    for i in range(50):
        result = await tick(runtime, i)
    assert (result.kind, result.run.output) == ("completed", 50)
    assert body.entered == 1
    assert store.events_read == 0  # every claim skipped the log: the handler was parked here
    assert store.calls["read_events"] == 0
    assert len(runtime.suspended) == 0


async def test_another_runtime_writing_makes_this_one_replay() -> None:
    store, body = Spy(), Body()
    workflows = {"ticker": ticker(body, 3)}
    first, second = runtime_for(store, workflows), runtime_for(store, workflows)
    await first.start_run(workflow_id="ticker", run_id="r", now=T0)
    assert (await tick(second, 0)).kind == "paused"  # another process moved the run on
    assert "r" in second.suspended
    result = await tick(first, 1)  # stale here: detected through the log index
    assert result.kind == "paused"
    assert store.calls["read_events"] == 1  # the fallback read the whole log once
    result = await tick(first, 2)
    assert (result.kind, result.run.output) == ("completed", 3)
    await first.close()
    await second.close()


async def test_capacity_zero_replays_every_time() -> None:
    store, body = Spy(), Body()
    runtime = runtime_for(store, {"ticker": ticker(body, 3)}, suspended_runs=0)
    await runtime.start_run(workflow_id="ticker", run_id="r", now=T0)
    for i in range(3):
        result = await tick(runtime, i)
    assert result.kind == "completed"
    assert body.entered == 4  # start + one replay per resume
    assert len(runtime.suspended) == 0


async def test_the_oldest_parked_run_is_evicted_beyond_capacity() -> None:
    store, body = Spy(), Body()
    runtime = runtime_for(store, {"ticker": ticker(body, 1)}, suspended_runs=2)
    for run_id in ("a", "b", "c"):
        await runtime.start_run(workflow_id="ticker", run_id=run_id, now=T0)
    assert len(runtime.suspended) == 2
    assert "a" not in runtime.suspended
    await runtime.close()
    assert body.cleanups == 3  # evicted and closed handlers unwound (finally blocks ran)
    result = await tick(runtime, 0, run_id="a")  # still resumable from the store
    assert (result.kind, result.run.output) == ("completed", 1)


async def test_cancelled_runs_drop_their_parked_handler() -> None:
    store, body = Spy(), Body()
    runtime = runtime_for(store, {"ticker": ticker(body, 2)})
    await runtime.start_run(workflow_id="ticker", run_id="r", now=T0)
    await runtime.cancel_run(run_id="r", now=T0 + 1)
    result = await tick(runtime, 0)
    assert result.kind == "not-waiting"
    assert "r" not in runtime.suspended
    await runtime.close()
    assert body.cleanups == 1


async def test_a_due_timer_resumes_the_parked_handler() -> None:
    body = Body()

    @create_workflow("napper").handler
    async def napper(ctx: Ctx) -> str:
        body.entered += 1
        await ctx.sleep(1_000)
        await ctx.sleep(1_000)
        return "rested"

    store = Spy()
    runtime = runtime_for(store, {"napper": napper})
    await runtime.start_run(workflow_id="napper", run_id="r", now=T0)
    await runtime.sweep(now=T0 + 1_500)
    swept = await runtime.sweep(now=T0 + 3_000)
    assert swept.summary.timers == {"completed": 1}
    assert body.entered == 1
    # The timer claim brings the run row (and its log): nothing is read per timer.
    assert store.calls["load_execution"] == 0
    assert store.calls["load_run"] == 0


async def test_a_sweep_of_another_runtime_replays_from_the_store() -> None:
    store, body = Spy(), Body()
    workflows = {"ticker": ticker(body, 1)}
    starter = runtime_for(store, workflows)
    await starter.start_run(workflow_id="ticker", run_id="r", now=T0)
    other = runtime_for(store, workflows)
    result = await tick(other, 0)
    assert (result.kind, body.entered) == ("completed", 2)
    # The starter's parked handler is stale; its next use discovers that and lets go.
    assert "r" in starter.suspended
    assert (await tick(starter, 1)).kind == "not-waiting"
    assert "r" not in starter.suspended
