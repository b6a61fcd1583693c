"""Property tests: crash anywhere, recover, and get the same result without redoing work."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from workflow_core_helpers import crashed_copy

from tanstack_workflow.core import (
    TIMER_SIGNAL,
    InMemoryRunStore,
    SignalDelivery,
    StepFailedError,
    WorkflowContext,
    WorkflowDefinition,
    WorkflowOutcome,
    apply_patch,
    create_workflow,
    diff_state,
    in_memory_run_store,
    run_workflow,
)

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
NO_SURROGATES = st.characters(exclude_categories=("Cs",))

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(NO_SURROGATES, max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(NO_SURROGATES, max_size=6), children, max_size=4)
    ),
    max_leaves=10,
)

operations = st.one_of(
    st.tuples(st.just("step"), json_values),
    st.tuples(st.just("fail"), st.text(NO_SURROGATES, max_size=10)),
    st.tuples(st.just("pair"), json_values, json_values),
    st.tuples(st.just("now")),
    st.tuples(st.just("uuid")),
    st.tuples(st.just("sleep"), st.integers(min_value=0, max_value=10_000)),
    st.tuples(st.just("wait"), st.sampled_from(["alpha", "beta"])),
)
programs = st.lists(operations, max_size=8)

CLOCK = 1_700_000_000_000


def interpret(
    program: list[tuple[Any, ...]], calls: Counter[str]
) -> WorkflowDefinition[Any, Any, Any]:
    """A workflow running ``program``; ``calls`` counts fresh step executions per id."""

    def step_fn(step_id: str, result: Any) -> Any:
        def run() -> Any:
            calls[step_id] += 1
            return result

        return run

    def failing_fn(step_id: str, message: str) -> Any:
        def run() -> Any:
            calls[step_id] += 1
            raise RuntimeError(message)

        return run

    @create_workflow("program").handler
    async def wf(ctx: WorkflowContext[Any, Any]) -> list[Any]:
        out: list[Any] = []
        for index, op in enumerate(program):
            kind = op[0]
            if kind == "step":
                out.append(["step", await ctx.step(f"s{index}", step_fn(f"s{index}", op[1]))])
            elif kind == "fail":
                try:
                    await ctx.step(f"s{index}", failing_fn(f"s{index}", op[1]))
                except StepFailedError as err:
                    out.append(["failed", err.error_name, err.error_message])
            elif kind == "pair":
                left, right = await asyncio.gather(
                    ctx.step(f"s{index}a", step_fn(f"s{index}a", op[1])),
                    ctx.step(f"s{index}b", step_fn(f"s{index}b", op[2])),
                )
                out.append(["pair", left, right])
            elif kind == "now":
                out.append(["now", await ctx.now()])
            elif kind == "uuid":
                out.append(["uuid", await ctx.uuid()])
            elif kind == "sleep":
                await ctx.sleep(op[1])
                out.append(["slept"])
            else:
                out.append(["got", await ctx.wait_for_event(op[1])])
        return out

    return wf


async def drive_to_completion(
    wf: WorkflowDefinition[Any, Any, Any], store: InMemoryRunStore, outcome: WorkflowOutcome
) -> WorkflowOutcome:
    """Deliver whatever the run waits for (timers, signals) until it ends."""
    for _ in range(50):
        if outcome.kind != "paused":
            return outcome
        state = await store.get_run_state("r")
        assert state is not None
        assert state.waiting_for is not None
        waiting = state.waiting_for
        payload = None if waiting.signal_name == TIMER_SIGNAL else f"payload:{waiting.step_id}"
        outcome = await run_workflow(
            workflow=wf,
            run_store=store,
            run_id="r",
            clock=lambda: CLOCK,
            signal_delivery=SignalDelivery(
                f"delivery:{waiting.step_id}", waiting.signal_name, payload, step_id=waiting.step_id
            ),
        ).result()
    raise AssertionError("run did not finish")


def recorded_step_ids(events: list[Any]) -> set[str]:
    return {e.step_id for e in events if e.type in ("STEP_FINISHED", "STEP_FAILED")}


def shape(events: list[Any]) -> list[tuple[str, str | None]]:
    return [(e.type, getattr(e, "step_id", None)) for e in events]


async def check_program(program: list[tuple[Any, ...]]) -> None:
    calls: Counter[str] = Counter()
    wf = interpret(program, calls)
    store = in_memory_run_store()
    first_outcome = await run_workflow(
        workflow=wf, run_store=store, run_id="r", clock=lambda: CLOCK
    ).result()
    final = await drive_to_completion(wf, store, first_outcome)
    assert final.kind == "finished", final.error
    expected = final.output
    full_log = list(await store.get_events("r"))
    all_steps = recorded_step_ids(full_log)
    assert set(calls) == all_steps
    assert all(count == 1 for count in calls.values())

    for keep in range(len(full_log) + 1):
        calls.clear()
        crashed = await crashed_copy(store, "r", keep)
        outcome = await run_workflow(
            workflow=wf, run_store=crashed, run_id="r", recover=True, clock=lambda: CLOCK
        ).result()
        outcome = await drive_to_completion(wf, crashed, outcome)
        assert outcome.kind in ("finished", "attached"), outcome.error

        # completed steps never re-run; the others ran exactly once
        done_before_crash = recorded_step_ids(full_log[:keep])
        assert not set(calls) & done_before_crash
        assert set(calls) == all_steps - done_before_crash
        assert all(count == 1 for count in calls.values())

        assert compare_outputs(outcome.output, expected, full_log[:keep])
        log = list(await crashed.get_events("r"))
        assert shape(log) == shape(full_log)
        assert log[:keep] == full_log[:keep]


def compare_outputs(actual: list[Any], expected: list[Any], surviving: list[Any]) -> bool:
    """Equal, except that a UUID not recorded before the crash may be a fresh one."""
    kept_uuids = {e.value for e in surviving if e.type == "UUID_RECORDED"}
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected, strict=True):
        if want[0] == "uuid" and want[1] not in kept_uuids:
            assert got[0] == "uuid"
            assert UUID_RE.fullmatch(got[1])
        else:
            assert got == want
    return True


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs)
def test_recovery_from_any_crash_point_reaches_the_same_result(
    program: list[tuple[Any, ...]],
) -> None:
    asyncio.run(check_program(program))


@settings(max_examples=200, deadline=None)
@given(json_values, json_values)
def test_diff_then_apply_reproduces_the_target(before: Any, after: Any) -> None:
    patch = diff_state(before, after)
    assert apply_patch(before, patch) == after
    assert diff_state(after, after) == []


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(NO_SURROGATES, max_size=6), json_values, max_size=5), json_values)
def test_state_delta_events_rebuild_the_state(initial: dict[str, Any], update: Any) -> None:
    async def main() -> None:
        @create_workflow("deltas", initial_state=lambda _input: dict(initial)).handler
        async def wf(ctx: WorkflowContext[Any, dict[str, Any]]) -> dict[str, Any]:
            ctx.state["update"] = update
            await ctx.step("a", lambda: None)
            ctx.state.pop(next(iter(ctx.state)), None)
            await ctx.step("b", lambda: None)
            return ctx.state

        document: Any = dict(initial)
        run = run_workflow(workflow=wf, run_store=in_memory_run_store())
        async for event in run:
            if event.type == "STATE_DELTA":
                document = apply_patch(document, event.delta)
        assert run.outcome is not None
        assert document == run.outcome.output

    asyncio.run(main())
