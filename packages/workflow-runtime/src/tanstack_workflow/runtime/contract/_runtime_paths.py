"""End to end: the runtime and core's engine driving real workflows through the store."""

from __future__ import annotations

from typing import Any

import pytest

from tanstack_workflow.core import (
    ApprovalResult,
    LogConflictError,
    SignalDelivery,
    StepFinished,
    WaitTimeoutError,
    WorkflowContext,
    create_workflow,
    run_workflow,
)

from .. import (
    WorkflowExecutionStore,
    WorkflowRuntime,
    WorkflowSchedule,
    bucket_run_id,
    create_run_store_adapter,
    define_workflow_runtime,
    every,
    materialize_workflow_schedules,
)
from ._fixtures import T0, StoreFixtures, must_load

QUARTER_HOUR = 15 * 60_000
WAKE = T0 + 60_000


@create_workflow("contract-steps", input=int).handler
async def steps(ctx: WorkflowContext[int, Any]) -> dict[str, int]:
    doubled = await ctx.step("double", lambda: ctx.input * 2)
    plus_one = await ctx.step("plus-one", lambda: doubled + 1)
    return {"result": plus_one}


@create_workflow("contract-sleeper").handler
async def sleeper(ctx: WorkflowContext[Any, Any]) -> str:
    await ctx.sleep_until(WAKE)
    return await ctx.step("after", lambda: "woke")


@create_workflow("contract-signal").handler
async def signalled(ctx: WorkflowContext[Any, Any]) -> Any:
    payload = await ctx.wait_for_event("approved")
    return {"payload": payload}


@create_workflow("contract-deadline").handler
async def deadline_wait(ctx: WorkflowContext[Any, Any]) -> str:
    try:
        await ctx.wait_for_event("reply", deadline=WAKE)
    except WaitTimeoutError:
        return "timed out"
    return "replied"


@create_workflow("contract-approval").handler
async def approval(ctx: WorkflowContext[Any, Any]) -> dict[str, Any]:
    decision = await ctx.approve(title="Ship it?", id="ship")
    return {"approved": decision.approved, "feedback": decision.feedback}


@create_workflow("contract-scheduled").handler
async def scheduled(ctx: WorkflowContext[Any, Any]) -> Any:
    return await ctx.step("tick", lambda: ctx.input)


WORKFLOWS: dict[str, Any] = {
    "contract-steps": steps,
    "contract-sleeper": sleeper,
    "contract-signal": signalled,
    "contract-deadline": deadline_wait,
    "contract-approval": approval,
    "contract-scheduled": {
        "load": scheduled,
        "schedules": [
            WorkflowSchedule(spec=every.minutes(15), id="quarter", input={"from": "schedule"})
        ],
    },
}


def _runtime(store: WorkflowExecutionStore) -> WorkflowRuntime:
    return define_workflow_runtime(store=store, workflows=WORKFLOWS)


async def _log_types(store: WorkflowExecutionStore, run_id: str) -> list[str]:
    return [s.event_type for s in await store.read_events(run_id)]


class RuntimeContract(StoreFixtures):
    """``define_workflow_runtime`` and ``create_run_store_adapter`` over the store."""

    async def test_start_runs_to_completion(self, store: WorkflowExecutionStore) -> None:
        runtime = _runtime(store)
        result = await runtime.start_run(
            workflow_id="contract-steps", run_id="steps-1", input=20, now=T0
        )
        assert result.kind == "completed"
        run = await must_load(store, "steps-1")
        assert (run.status, run.output, run.lease_owner) == ("finished", {"result": 41}, None)
        log = await _log_types(store, "steps-1")
        assert log == ["STEP_FINISHED", "STEP_FINISHED", "RUN_FINISHED"]
        again = await runtime.start_run(
            workflow_id="contract-steps", run_id="steps-1", input=20, now=T0 + 5
        )
        assert again.kind == "completed"
        assert await _log_types(store, "steps-1") == log

    async def test_sleep_resumes_from_a_sweep_once_due(self, store: WorkflowExecutionStore) -> None:
        runtime = _runtime(store)
        started = await runtime.start_run(workflow_id="contract-sleeper", run_id="nap", now=T0)
        assert started.kind == "paused"
        run = await must_load(store, "nap")
        assert (run.status, run.wake_at, run.lease_owner) == ("paused", WAKE, None)
        # the runtime's clock starts at ``now`` and then follows real time: keep a margin
        early = await runtime.sweep(now=WAKE - 10_000)
        assert early.timers == []
        due = await runtime.sweep(now=WAKE)
        assert [(r.run_id, r.kind) for r in due.timers] == [("nap", "completed")]
        run = await must_load(store, "nap")
        assert (run.status, run.output, run.wake_at) == ("finished", "woke", None)
        assert (await runtime.sweep(now=WAKE + 10 * QUARTER_HOUR)).timers == []

    async def test_a_wait_deadline_fires_from_a_sweep(self, store: WorkflowExecutionStore) -> None:
        runtime = _runtime(store)
        started = await runtime.start_run(workflow_id="contract-deadline", run_id="dl", now=T0)
        assert started.kind == "paused"
        due = await runtime.sweep(now=WAKE)
        assert [(r.run_id, r.kind) for r in due.timers] == [("dl", "completed")]
        assert (await must_load(store, "dl")).output == "timed out"

    async def test_signal_resumes_a_waiting_run(self, store: WorkflowExecutionStore) -> None:
        runtime = _runtime(store)
        started = await runtime.start_run(workflow_id="contract-signal", run_id="sig", now=T0)
        assert started.kind == "paused"
        run = await must_load(store, "sig")
        assert run.waiting_for is not None
        assert run.waiting_for.signal_name == "approved"
        wrong = await runtime.deliver_signal(
            run_id="sig", signal_id="s-0", name="rejected", payload=None, now=T0 + 1
        )
        assert wrong.kind == "not-waiting"
        done = await runtime.deliver_signal(
            run_id="sig", signal_id="s-1", name="approved", payload={"by": "ana"}, now=T0 + 2
        )
        assert done.kind == "completed"
        assert (await must_load(store, "sig")).output == {"payload": {"by": "ana"}}
        again = await runtime.deliver_signal(
            run_id="sig", signal_id="s-1", name="approved", payload={"by": "ana"}, now=T0 + 3
        )
        assert again.kind == "duplicate"
        missing = await runtime.deliver_signal(
            run_id="nope", signal_id="s-1", name="approved", now=T0
        )
        assert missing.kind == "not-found"

    async def test_approval_resumes_a_waiting_run(self, store: WorkflowExecutionStore) -> None:
        runtime = _runtime(store)
        started = await runtime.start_run(workflow_id="contract-approval", run_id="ap", now=T0)
        assert started.kind == "paused"
        run = await must_load(store, "ap")
        assert run.pending_approval is not None
        decision = ApprovalResult(
            approved=False, approval_id=run.pending_approval.approval_id, feedback="not today"
        )
        done = await runtime.deliver_approval(run_id="ap", approval=decision, now=T0 + 1)
        assert done.kind == "completed"
        finished = await must_load(store, "ap")
        assert finished.output == {"approved": False, "feedback": "not today"}
        again = await runtime.deliver_approval(run_id="ap", approval=decision, now=T0 + 2)
        assert again.kind == "duplicate"

    async def test_a_materialized_schedule_starts_one_run_per_bucket(
        self, store: WorkflowExecutionStore
    ) -> None:
        runtime = _runtime(store)
        now = T0 - T0 % QUARTER_HOUR + 60_000  # a minute after a quarter-hour tick
        tick = now - 60_000
        done = await materialize_workflow_schedules(runtime, now=now)
        assert [(m.kind, m.schedule_id, m.fire_at) for m in done] == [
            ("materialized", "quarter", tick)
        ]
        first = await runtime.sweep(now=now)
        run_id = bucket_run_id("contract-scheduled", "quarter", str(tick))
        assert [(r.run_id, r.kind) for r in first.scheduled] == [(run_id, "completed")]
        assert (await must_load(store, run_id)).output == {"from": "schedule"}
        await materialize_workflow_schedules(runtime, now=now + 1)
        assert (await runtime.sweep(now=now + 1)).scheduled == []
        [record] = await store.list_schedules()
        assert record.last_run_id == run_id
        listed = await store.list_runs(workflow_id="contract-scheduled")
        assert [r.run_id for r in listed.runs] == [run_id]

    async def test_cancel_ends_a_waiting_run(self, store: WorkflowExecutionStore) -> None:
        runtime = _runtime(store)
        await runtime.start_run(workflow_id="contract-sleeper", run_id="nap", now=T0)
        cancelled = await runtime.cancel_run(run_id="nap", reason="no longer needed", now=T0 + 1)
        assert cancelled.kind == "errored"
        run = await must_load(store, "nap")
        assert (run.status, run.error_code, run.wake_at) == ("aborted", "cancelled", None)
        assert (await _log_types(store, "nap"))[-1] == "RUN_ERRORED"
        assert (await runtime.sweep(now=WAKE)).timers == []
        late = await runtime.deliver_signal(
            run_id="nap", signal_id="s", name="__timer", now=WAKE + 1
        )
        assert late.kind == "not-waiting"
        assert (await runtime.cancel_run(run_id="nap", now=WAKE + 2)).detail == "already terminal"

    async def test_a_sweep_recovers_a_run_whose_driver_died(
        self, store: WorkflowExecutionStore
    ) -> None:
        # the driver created and leased the run, then crashed before its first step
        await store.create_run(
            run_id="orphan",
            workflow_id="contract-steps",
            workflow_version=None,
            input=1,
            now=T0,
            lease_owner="dead-worker",
            lease_ms=30_000,
        )
        runtime = _runtime(store)
        assert (await runtime.sweep(now=T0 + 20_000)).recovered == []
        swept = await runtime.sweep(now=T0 + 30_000)
        assert [(r.run_id, r.kind) for r in swept.recovered] == [("orphan", "completed")]
        assert (await must_load(store, "orphan")).output == {"result": 3}

    async def test_the_store_as_a_core_run_store(self, store: WorkflowExecutionStore) -> None:
        adapter = create_run_store_adapter(store, clock=lambda: T0)
        paused = await run_workflow(
            workflow=signalled, run_store=adapter, run_id="core-1", clock=lambda: T0
        ).result()
        assert paused.kind == "paused"
        run = await must_load(store, "core-1")
        assert (run.status, run.workflow_id, run.next_index) == ("paused", "contract-signal", 1)
        with pytest.raises(LogConflictError):
            await adapter.append_event("core-1", 0, StepFinished(ts=T0, step_id="x", result=1))
        delivery = SignalDelivery(signal_id="s-1", name="approved", payload=7)
        finished = await run_workflow(
            workflow=signalled,
            run_store=adapter,
            run_id="core-1",
            signal_delivery=delivery,
            clock=lambda: T0 + 1,
        ).result()
        assert finished.kind == "finished"
        assert finished.output == {"payload": 7}
        state = await adapter.get_run_state("core-1")
        assert state is not None
        assert (state.status, state.output) == ("finished", {"payload": 7})
        events = await adapter.get_events("core-1")
        assert [e.type for e in events] == ["SIGNAL_AWAITED", "SIGNAL_RESOLVED", "RUN_FINISHED"]
        # and the runtime sees the same run
        timeline = await _runtime(store).get_run_timeline("core-1")
        assert timeline is not None
        assert len(timeline.events) == 3
