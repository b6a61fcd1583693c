"""The ctx primitives: step, now, uuid, approve, sleep, sleep_until, emit, runtime.yield_."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from workflow_core_helpers import all_of, collect, first, types

from tanstack_workflow.core import (
    TIMER_SIGNAL,
    ApprovalResult,
    InMemoryRunStore,
    SignalDelivery,
    StepContext,
    StepFailedError,
    WorkflowContext,
    create_workflow,
    fail,
    run_workflow,
    succeed,
)

Ctx = WorkflowContext[object, object]


async def approve_run(store: InMemoryRunStore, workflow: object, run_id: str) -> object:
    state = await store.get_run_state(run_id)
    assert state is not None
    assert state.pending_approval is not None
    return await run_workflow(
        workflow=workflow,  # type: ignore[arg-type]
        run_store=store,
        run_id=run_id,
        approval=ApprovalResult(approved=True, approval_id=state.pending_approval.approval_id),
    ).result()


async def test_step_runs_once_and_persists_its_result(store: InMemoryRunStore) -> None:
    calls = 0

    def fetch() -> str:
        nonlocal calls
        calls += 1
        return "hello"

    @create_workflow("step-once").handler
    async def wf(ctx: Ctx) -> dict[str, str]:
        data = await ctx.step("fetch", fetch)
        await ctx.approve(title="go?")
        return {"data": data}

    _, outcome = await collect(run_workflow(workflow=wf, run_store=store))
    assert calls == 1
    log = await store.get_events(outcome.run_id)
    finished = first(log, "STEP_FINISHED")
    assert (finished.step_id, finished.result) == ("fetch", "hello")

    resumed = await approve_run(store, wf, outcome.run_id)
    assert calls == 1
    assert resumed.output == {"data": "hello"}  # type: ignore[attr-defined]


async def test_step_context_id_is_run_id_and_step_id(store: InMemoryRunStore) -> None:
    seen: list[tuple[str, int]] = []

    def record(step: StepContext) -> int:
        seen.append((step.id, step.attempt))
        return len(seen)

    @create_workflow("step-ctx-id").handler
    async def wf(ctx: Ctx) -> None:
        await ctx.step("a", record)
        await ctx.step("b", record)

    outcome = await run_workflow(workflow=wf, run_store=store, run_id="r1").result()
    assert outcome.kind == "finished"
    assert seen == [("r1:a", 1), ("r1:b", 1)]


async def test_step_accepts_async_functions_with_and_without_context(
    store: InMemoryRunStore,
) -> None:
    async def plain() -> int:
        return 1

    async def with_ctx(step: StepContext) -> str:
        return step.id

    @create_workflow("async-steps").handler
    async def wf(ctx: Ctx) -> list[object]:
        return [await ctx.step("plain", plain), await ctx.step("ctx", with_ctx)]

    outcome = await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    assert outcome.output == [1, "r:ctx"]


async def test_failed_step_raises_step_failed_error_first_time_and_on_replay(
    store: InMemoryRunStore,
) -> None:
    calls = 0
    caught: list[StepFailedError] = []

    def boom() -> None:
        nonlocal calls
        calls += 1
        raise ValueError("kaboom")

    @create_workflow("step-throws").handler
    async def wf(ctx: Ctx) -> dict[str, str]:
        try:
            await ctx.step("boom", boom)
        except StepFailedError as err:
            caught.append(err)
        await ctx.approve(title="go?")
        return {"name": caught[-1].error_name, "message": caught[-1].error_message}

    _, outcome = await collect(run_workflow(workflow=wf, run_store=store))
    assert calls == 1
    failed = first(await store.get_events(outcome.run_id), "STEP_FAILED")
    assert failed.step_id == "boom"
    assert (failed.error.name, failed.error.message) == ("ValueError", "kaboom")
    assert failed.error.stack is not None
    assert "kaboom" in failed.error.stack

    resumed = await approve_run(store, wf, outcome.run_id)
    assert calls == 1
    assert resumed.output == {"name": "ValueError", "message": "kaboom"}  # type: ignore[attr-defined]
    assert len(caught) == 2
    fresh, replayed = caught
    for err in caught:
        assert err.step_id == "boom"
        assert str(err) == "Step 'boom' failed: ValueError: kaboom"
    assert isinstance(fresh.__cause__, ValueError)
    assert replayed.remote_traceback == fresh.remote_traceback
    assert replayed.remote_traceback is not None
    assert "Traceback" in replayed.remote_traceback


async def test_uncaught_step_failure_errors_the_run(store: InMemoryRunStore) -> None:
    def boom() -> None:
        raise RuntimeError("nope")

    @create_workflow("step-uncaught").handler
    async def wf(ctx: Ctx) -> None:
        await ctx.step("boom", boom)

    events, outcome = await collect(run_workflow(workflow=wf, run_store=store))
    assert outcome.kind == "errored"
    assert outcome.code == "error"
    assert outcome.error is not None
    assert outcome.error.name == "RuntimeError"
    assert outcome.error.message == "nope"
    assert types(events)[-2:] == ["STEP_FAILED", "RUN_ERRORED"]


async def test_now_is_recorded_once_and_replayed(store: InMemoryRunStore) -> None:
    clock_values = iter(range(1_000, 2_000, 7))

    @create_workflow("now-replay").handler
    async def wf(ctx: Ctx) -> dict[str, int]:
        ts = await ctx.now()
        await ctx.approve(title="go?")
        return {"ts": ts}

    _, paused = await collect(
        run_workflow(workflow=wf, run_store=store, clock=lambda: next(clock_values))
    )
    recorded = first(await store.get_events(paused.run_id), "NOW_RECORDED")
    assert recorded.step_id == "__now-0"
    resumed = await approve_run(store, wf, paused.run_id)
    assert resumed.output == {"ts": recorded.value}  # type: ignore[attr-defined]


async def test_uuid_is_recorded_once_and_replayed(store: InMemoryRunStore) -> None:
    @create_workflow("uuid-replay").handler
    async def wf(ctx: Ctx) -> dict[str, str]:
        value = await ctx.uuid()
        await ctx.approve(title="go?")
        return {"id": value}

    _, paused = await collect(run_workflow(workflow=wf, run_store=store))
    recorded = first(await store.get_events(paused.run_id), "UUID_RECORDED")
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", recorded.value
    )
    resumed = await approve_run(store, wf, paused.run_id)
    assert resumed.output == {"id": recorded.value}  # type: ignore[attr-defined]


async def test_now_and_uuid_accept_explicit_ids(store: InMemoryRunStore) -> None:
    @create_workflow("explicit").handler
    async def wf(ctx: Ctx) -> None:
        await ctx.now(id="started-at", meta={"k": 1})
        await ctx.uuid(id="idempotency-key")

    outcome = await run_workflow(workflow=wf, run_store=store).result()
    log = await store.get_events(outcome.run_id)
    assert first(log, "NOW_RECORDED").step_id == "started-at"
    assert first(log, "NOW_RECORDED").meta == {"k": 1}
    assert first(log, "UUID_RECORDED").step_id == "idempotency-key"


async def test_approve_persists_explicit_id_and_metadata(store: InMemoryRunStore) -> None:
    @create_workflow("approve-id-meta").handler
    async def wf(ctx: Ctx) -> dict[str, object]:
        decision = await ctx.approve(
            id="legal-review", title="Ship?", description="v2 launch", meta={"assignee": "legal"}
        )
        return {"approved": decision.approved, "feedback": decision.feedback}

    events, _paused = await collect(run_workflow(workflow=wf, run_store=store, run_id="r"))
    requested = first(events, "APPROVAL_REQUESTED")
    assert requested.step_id == "legal-review"
    assert requested.approval_id == "r:legal-review"
    assert requested.meta == {"assignee": "legal"}

    state = await store.get_run_state("r")
    assert state is not None
    assert state.awaiting is not None
    assert [a.to_wire() for a in state.awaiting] == [
        {
            "type": "approval",
            "stepId": "legal-review",
            "approvalId": "r:legal-review",
            "title": "Ship?",
            "description": "v2 launch",
            "meta": {"assignee": "legal"},
        }
    ]
    assert state.pending_approval is not None
    assert state.pending_approval.step_id == "legal-review"
    assert state.waiting_for is None

    events, outcome = await collect(
        run_workflow(
            workflow=wf,
            run_store=store,
            run_id="r",
            approval=ApprovalResult(
                approved=False, approval_id="r:legal-review", feedback="not yet", meta={"by": "ann"}
            ),
        )
    )
    resolved = first(events, "APPROVAL_RESOLVED")
    assert resolved.step_id == "legal-review"
    assert resolved.meta == {"by": "ann"}
    assert outcome.output == {"approved": False, "feedback": "not yet"}


async def test_approval_result_fields_reach_the_handler(store: InMemoryRunStore) -> None:
    seen: list[ApprovalResult] = []

    @create_workflow("approval-fields").handler
    async def wf(ctx: Ctx) -> None:
        seen.append(await ctx.approve(title="t", id="gate"))

    await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    decision = ApprovalResult(approved=True, approval_id="r:gate", feedback="ok", meta={"x": 1})
    await run_workflow(workflow=wf, run_store=store, run_id="r", approval=decision).result()
    assert seen == [decision]


async def test_sleep_until_pauses_on_the_timer_signal(store: InMemoryRunStore) -> None:
    wake_at = 1_900_000_000_000

    @create_workflow("sleep-until").handler
    async def wf(ctx: Ctx) -> dict[str, bool]:
        await ctx.sleep_until(wake_at, id="cooldown", meta={"reason": "rate-limit"})
        return {"awoke": True}

    events, paused = await collect(run_workflow(workflow=wf, run_store=store))
    awaited = first(events, "SIGNAL_AWAITED")
    assert (awaited.step_id, awaited.name, awaited.deadline) == ("cooldown", TIMER_SIGNAL, wake_at)
    assert awaited.meta == {"reason": "rate-limit"}
    state = await store.get_run_state(paused.run_id)
    assert state is not None
    assert state.waiting_for is not None
    assert state.waiting_for.signal_name == "__timer"
    assert state.waiting_for.deadline == wake_at
    assert state.awaiting is not None
    assert [a.to_wire() for a in state.awaiting] == [
        {
            "type": "signal",
            "stepId": "cooldown",
            "signalName": "__timer",
            "deadline": wake_at,
            "meta": {"reason": "rate-limit"},
        }
    ]

    outcome = await run_workflow(
        workflow=wf,
        run_store=store,
        run_id=paused.run_id,
        signal_delivery=SignalDelivery(signal_id="wake-1", name=TIMER_SIGNAL),
    ).result()
    assert outcome.output == {"awoke": True}


async def test_sleep_deadline_is_measured_from_the_first_call(store: InMemoryRunStore) -> None:
    now = [10_000]

    @create_workflow("sleep").handler
    async def wf(ctx: Ctx) -> str:
        await ctx.sleep(timedelta(seconds=5))
        await ctx.sleep(250)
        return "done"

    events, paused = await collect(run_workflow(workflow=wf, run_store=store, clock=lambda: now[0]))
    assert first(events, "SIGNAL_AWAITED").deadline == 15_000
    assert first(events, "SIGNAL_AWAITED").step_id == "__sleep-0"

    now[0] = 20_000  # a late wake-up does not move the recorded deadline
    events, _ = await collect(
        run_workflow(
            workflow=wf,
            run_store=store,
            run_id=paused.run_id,
            signal_delivery=SignalDelivery("t1", TIMER_SIGNAL),
            clock=lambda: now[0],
        )
    )
    awaited = all_of(await store.get_events(paused.run_id), "SIGNAL_AWAITED")
    assert [a.deadline for a in awaited] == [15_000, 20_250]
    assert [a.step_id for a in awaited] == ["__sleep-0", "__sleep-1"]


async def test_sleep_until_accepts_aware_datetimes_only(store: InMemoryRunStore) -> None:
    when = datetime(2030, 1, 1, tzinfo=UTC)

    @create_workflow("sleep-dt").handler
    async def wf(ctx: Ctx) -> None:
        await ctx.sleep_until(when)

    events, _ = await collect(run_workflow(workflow=wf, run_store=store))
    assert first(events, "SIGNAL_AWAITED").deadline == int(when.timestamp() * 1000)

    @create_workflow("sleep-naive").handler
    async def naive(ctx: Ctx) -> None:
        await ctx.sleep_until(datetime(2030, 1, 1))

    outcome = await run_workflow(workflow=naive, run_store=store).result()
    assert outcome.kind == "errored"
    assert outcome.error is not None
    assert "timezone-aware" in outcome.error.message


async def test_emit_sends_custom_events_that_are_never_persisted(store: InMemoryRunStore) -> None:
    @create_workflow("emit").handler
    async def wf(ctx: Ctx) -> None:
        ctx.emit("progress", {"pct": 50})
        await ctx.step("s", lambda: 1)
        ctx.emit("progress", {"pct": 100})

    events, outcome = await collect(run_workflow(workflow=wf, run_store=store))
    custom = all_of(events, "CUSTOM")
    assert [(c.name, c.value) for c in custom] == [
        ("progress", {"pct": 50}),
        ("progress", {"pct": 100}),
    ]
    assert "CUSTOM" not in types(await store.get_events(outcome.run_id))


async def test_runtime_yield_pauses_durably_and_resumes(store: InMemoryRunStore) -> None:
    calls = 0

    def work() -> int:
        nonlocal calls
        calls += 1
        return calls

    @create_workflow("yield").handler
    async def wf(ctx: Ctx) -> int:
        first_value = await ctx.step("first", work)
        assert ctx.runtime.deadline is None
        assert not ctx.runtime.should_yield()
        await ctx.runtime.yield_(reason="batch")
        return first_value + await ctx.step("second", work)

    events, paused = await collect(run_workflow(workflow=wf, run_store=store))
    awaited = first(events, "SIGNAL_AWAITED")
    assert awaited.name == TIMER_SIGNAL
    assert awaited.meta == {"reason": "batch"}
    assert paused.kind == "paused"
    outcome = await run_workflow(
        workflow=wf,
        run_store=store,
        run_id=paused.run_id,
        signal_delivery=SignalDelivery("y", TIMER_SIGNAL, step_id=awaited.step_id),
    ).result()
    assert outcome.output == 3
    assert calls == 2


async def test_budget_exhaustion_yields_before_fresh_work(store: InMemoryRunStore) -> None:
    now = [0]

    def tick() -> int:
        now[0] += 600
        return now[0]

    @create_workflow("budget").handler
    async def wf(ctx: Ctx) -> list[int]:
        return [await ctx.step(f"s{i}", tick) for i in range(3)]

    events, paused = await collect(
        run_workflow(workflow=wf, run_store=store, deadline=1_500, clock=lambda: now[0])
    )
    # 1500 ms budget, 1000 ms floor: one step fits, then the run yields durably
    assert [e.step_id for e in all_of(events, "STEP_FINISHED")] == ["s0"]
    awaited = first(events, "SIGNAL_AWAITED")
    assert awaited.meta == {"reason": "deadline"}
    assert paused.kind == "paused"

    outcome = await run_workflow(
        workflow=wf,
        run_store=store,
        run_id=paused.run_id,
        signal_delivery=SignalDelivery("wake", TIMER_SIGNAL, step_id=awaited.step_id),
        clock=lambda: now[0],
    ).result()
    assert outcome.output == [600, 1200, 1800]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (succeed(), {"ok": True}),
        (succeed({"id": 1}), {"ok": True, "id": 1}),
        (succeed(id=2), {"ok": True, "id": 2}),
        (fail("out of stock"), {"ok": False, "reason": "out of stock"}),
    ],
)
def test_succeed_and_fail_helpers(value: dict[str, object], expected: dict[str, object]) -> None:
    assert value == expected
