"""Replay across restarts: completed work is never redone and state is rebuilt."""

from __future__ import annotations

from pydantic import BaseModel
from workflow_core_helpers import collect, crashed_copy, first, types

from tanstack_workflow.core import (
    ApprovalResult,
    InMemoryRunStore,
    SignalDelivery,
    WorkflowContext,
    create_workflow,
    run_workflow,
)

Ctx = WorkflowContext[object, object]


class Seed(BaseModel):
    seed: int


class Counter(BaseModel):
    counter: int = 0


async def test_recover_resumes_an_interrupted_running_run(store: InMemoryRunStore) -> None:
    executions = {"first": 0, "second": 0}

    def count(name: str) -> int:
        executions[name] += 1
        return executions[name]

    @create_workflow("recover").handler
    async def wf(ctx: Ctx) -> dict[str, int]:
        first_value = await ctx.step("first", lambda: count("first"))
        await ctx.approve(title="go?", id="gate")
        second_value = await ctx.step("second", lambda: count("second"))
        return {"first": first_value, "second": second_value}

    await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    # the process died after "first" was recorded, before the approval request
    crashed = await crashed_copy(store, "r", keep=1)
    state = await crashed.get_run_state("r")
    assert state is not None
    assert state.status == "running"

    recovered = await run_workflow(
        workflow=wf, run_store=crashed, run_id="r", recover=True
    ).result()
    assert recovered.kind == "paused"
    assert executions == {"first": 1, "second": 0}
    assert types(await crashed.get_events("r")) == ["STEP_FINISHED", "APPROVAL_REQUESTED"]

    outcome = await run_workflow(
        workflow=wf, run_store=crashed, run_id="r", approval=ApprovalResult(True, "r:gate")
    ).result()
    assert outcome.kind == "finished"
    assert outcome.output == {"first": 1, "second": 1}
    assert executions == {"first": 1, "second": 1}


async def test_steps_are_not_re_executed_across_many_resumes(store: InMemoryRunStore) -> None:
    calls = {"a": 0, "b": 0, "c": 0}

    def bump(name: str) -> str:
        calls[name] += 1
        return name

    @create_workflow("many-resumes").handler
    async def wf(ctx: Ctx) -> list[str]:
        out = [await ctx.step("a", lambda: bump("a"))]
        await ctx.wait_for_event("one")
        out.append(await ctx.step("b", lambda: bump("b")))
        await ctx.wait_for_event("two")
        out.append(await ctx.step("c", lambda: bump("c")))
        return out

    await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    await run_workflow(
        workflow=wf, run_store=store, run_id="r", signal_delivery=SignalDelivery("s1", "one")
    ).result()
    outcome = await run_workflow(
        workflow=wf, run_store=store, run_id="r", signal_delivery=SignalDelivery("s2", "two")
    ).result()
    assert outcome.output == ["a", "b", "c"]
    assert calls == {"a": 1, "b": 1, "c": 1}


async def test_state_is_rebuilt_from_initial_state_and_replayed_mutations(
    store: InMemoryRunStore,
) -> None:
    @create_workflow(
        "state-replay",
        input=Seed,
        state=Counter,
        initial_state=lambda input: Counter(counter=input.seed),
    ).handler
    async def wf(ctx: WorkflowContext[Seed, Counter]) -> dict[str, int]:
        ctx.state.counter += 10
        bump: int = await ctx.step("bump", lambda: 5)
        ctx.state.counter += bump
        await ctx.approve(title="go?", id="gate")
        return {"final": ctx.state.counter}

    events, _ = await collect(
        run_workflow(workflow=wf, run_store=store, input={"seed": 100}, run_id="r")
    )
    delta = first(events, "STATE_DELTA")
    assert delta.delta == [{"op": "replace", "path": "/counter", "value": 110}]
    # state is never persisted: neither in the log nor in the run snapshot
    assert "STATE_DELTA" not in types(await store.get_events("r"))
    stored = await store.get_run_state("r")
    assert stored is not None
    assert "state" not in stored.to_wire()

    outcome = await run_workflow(
        workflow=wf, run_store=store, run_id="r", approval=ApprovalResult(True, "r:gate")
    ).result()
    assert outcome.output == {"final": 115}


async def test_truncated_log_recovers_and_skips_completed_steps(store: InMemoryRunStore) -> None:
    calls: list[str] = []

    def a() -> str:
        calls.append("a")
        return "A"

    def b() -> str:
        calls.append("b")
        return "B"

    def c() -> str:
        calls.append("c")
        return "C"

    @create_workflow("truncated").handler
    async def wf(ctx: Ctx) -> list[str]:
        return [await ctx.step("a", a), await ctx.step("b", b), await ctx.step("c", c)]

    full = await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    assert full.output == ["A", "B", "C"]
    assert types(await store.get_events("r")) == ["STEP_FINISHED"] * 3 + ["RUN_FINISHED"]

    calls.clear()
    crashed = await crashed_copy(store, "r", keep=2)  # died after "b" was recorded
    outcome = await run_workflow(workflow=wf, run_store=crashed, run_id="r", recover=True).result()
    assert outcome.output == ["A", "B", "C"]
    assert calls == ["c"]
    assert types(await crashed.get_events("r")) == types(await store.get_events("r"))


async def test_recover_of_a_finished_run_attaches(store: InMemoryRunStore) -> None:
    runs = 0

    @create_workflow("finished").handler
    async def wf(ctx: Ctx) -> int:
        nonlocal runs
        runs += 1
        return 7

    await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    events, outcome = await collect(
        run_workflow(workflow=wf, run_store=store, run_id="r", recover=True)
    )
    assert outcome.kind == "attached"
    assert outcome.output == 7
    assert runs == 1
    assert first(events, "RUN_FINISHED").output == 7


async def test_recover_of_an_unknown_run_reports_run_lost(store: InMemoryRunStore) -> None:
    @create_workflow("unknown").handler
    async def wf(ctx: Ctx) -> None:
        return None

    events, outcome = await collect(
        run_workflow(workflow=wf, run_store=store, run_id="missing", recover=True)
    )
    assert outcome.kind == "not_found"
    assert outcome.code == "run_lost"
    assert outcome.persisted is False
    assert first(events, "RUN_ERRORED").code == "run_lost"
    assert await store.get_run_state("missing") is None


async def test_starting_an_existing_run_id_attaches_instead_of_running_again(
    store: InMemoryRunStore,
) -> None:
    runs = 0

    @create_workflow("idempotent-start").handler
    async def wf(ctx: Ctx) -> str:
        nonlocal runs
        runs += 1
        await ctx.wait_for_event("go")
        return "done"

    first_outcome = await run_workflow(workflow=wf, run_store=store, run_id="order-1").result()
    second_outcome = await run_workflow(workflow=wf, run_store=store, run_id="order-1").result()
    assert first_outcome.kind == "paused"
    assert second_outcome.kind == "attached"
    assert runs == 1
    assert len(await store.get_events("order-1")) == 1


async def test_recover_after_a_crash_between_terminal_append_and_state_update(
    store: InMemoryRunStore,
) -> None:
    # Regression: the run used to be driven again and got a second RUN_FINISHED.
    calls = 0

    def work() -> int:
        nonlocal calls
        calls += 1
        return 5

    @create_workflow("terminal-crash").handler
    async def wf(ctx: Ctx) -> int:
        return await ctx.step("s", work)

    await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    crashed = await crashed_copy(store, "r", keep=2)  # log complete, snapshot says running
    events, outcome = await collect(
        run_workflow(workflow=wf, run_store=crashed, run_id="r", recover=True)
    )
    assert outcome.kind == "attached"
    assert outcome.output == 5
    assert calls == 1
    assert types(await crashed.get_events("r")) == ["STEP_FINISHED", "RUN_FINISHED"]
    state = await crashed.get_run_state("r")
    assert state is not None
    assert (state.status, state.output) == ("finished", 5)
    assert first(events, "RUN_FINISHED").output == 5


async def test_recover_after_a_crash_recording_a_cancellation(store: InMemoryRunStore) -> None:
    from tanstack_workflow.core import WorkflowCancelled

    @create_workflow("cancel-crash").handler
    async def wf(ctx: Ctx) -> None:
        raise WorkflowCancelled("stop")

    await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    crashed = await crashed_copy(store, "r", keep=1)
    outcome = await run_workflow(workflow=wf, run_store=crashed, run_id="r", recover=True).result()
    assert (outcome.kind, outcome.code) == ("attached", "cancelled")
    state = await crashed.get_run_state("r")
    assert state is not None
    assert state.status == "aborted"
