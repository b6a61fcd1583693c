"""Event models: the reference wire shape, parsing, and which events are persisted."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from pydantic import ValidationError
from workflow_core_helpers import collect

from tanstack_workflow.core import (
    CHECKPOINT_TYPES,
    COORDINATION_TYPES,
    EMIT_ONLY_TYPES,
    PERSISTED_TYPES,
    ApprovalRequested,
    ApprovalResolved,
    CustomEvent,
    InMemoryRunStore,
    NowRecorded,
    RunErrored,
    RunFinished,
    RunStarted,
    RunState,
    SerializedError,
    SignalAwaited,
    SignalDelivery,
    SignalResolved,
    StateDelta,
    StepAttempt,
    StepFailed,
    StepFinished,
    StepStarted,
    UuidRecorded,
    WorkflowContext,
    create_workflow,
    event_to_json,
    event_to_wire,
    parse_event,
    run_workflow,
)

ERROR = SerializedError(name="ValueError", message="bad", stack="Traceback ...")

EXAMPLES: list[tuple[Any, dict[str, Any]]] = [
    (
        RunStarted(ts=1, run_id="r", thread_id="t"),
        {"type": "RUN_STARTED", "ts": 1, "runId": "r", "threadId": "t"},
    ),
    (
        RunFinished(ts=1, run_id="r", output={"a": 1}),
        {"type": "RUN_FINISHED", "ts": 1, "runId": "r", "output": {"a": 1}},
    ),
    (
        RunErrored(ts=1, run_id="r", error=ERROR, code="error"),
        {
            "type": "RUN_ERRORED",
            "ts": 1,
            "runId": "r",
            "code": "error",
            "error": {"name": "ValueError", "message": "bad", "stack": "Traceback ..."},
        },
    ),
    (
        StepStarted(ts=1, step_id="s", meta={"k": 1}),
        {"type": "STEP_STARTED", "ts": 1, "stepId": "s", "meta": {"k": 1}},
    ),
    (
        StepFinished(
            ts=1,
            step_id="s",
            result=[1],
            seq=0,
            attempts=[
                StepAttempt(started_at=1, finished_at=2, error=ERROR),
                StepAttempt(started_at=3, finished_at=4),
            ],
        ),
        {
            "type": "STEP_FINISHED",
            "ts": 1,
            "stepId": "s",
            "result": [1],
            "seq": 0,
            "attempts": [
                {
                    "startedAt": 1,
                    "finishedAt": 2,
                    "error": {"name": "ValueError", "message": "bad", "stack": "Traceback ..."},
                },
                {"startedAt": 3, "finishedAt": 4},
            ],
        },
    ),
    (
        StepFailed(ts=1, step_id="s", error=ERROR, seq=2),
        {"type": "STEP_FAILED", "ts": 1, "stepId": "s", "seq": 2, "error": ERROR.to_wire()},
    ),
    (
        SignalAwaited(ts=1, step_id="w", name="go", deadline=9, seq=1),
        {"type": "SIGNAL_AWAITED", "ts": 1, "stepId": "w", "name": "go", "deadline": 9, "seq": 1},
    ),
    (
        SignalResolved(ts=1, step_id="w", name="go", signal_id="sig", payload=None, timed_out=True),
        {
            "type": "SIGNAL_RESOLVED",
            "ts": 1,
            "stepId": "w",
            "name": "go",
            "signalId": "sig",
            "timedOut": True,
        },
    ),
    (
        ApprovalRequested(
            ts=1, step_id="a", approval_id="r:a", title="Ship?", description="d", seq=3
        ),
        {
            "type": "APPROVAL_REQUESTED",
            "ts": 1,
            "stepId": "a",
            "approvalId": "r:a",
            "title": "Ship?",
            "description": "d",
            "seq": 3,
        },
    ),
    (
        ApprovalResolved(ts=1, step_id="a", approval_id="r:a", approved=False, feedback="no"),
        {
            "type": "APPROVAL_RESOLVED",
            "ts": 1,
            "stepId": "a",
            "approvalId": "r:a",
            "approved": False,
            "feedback": "no",
        },
    ),
    (
        NowRecorded(ts=1, step_id="__now-0", value=123, seq=4),
        {"type": "NOW_RECORDED", "ts": 1, "stepId": "__now-0", "value": 123, "seq": 4},
    ),
    (
        UuidRecorded(ts=1, step_id="__uuid-0", value="u", seq=5),
        {"type": "UUID_RECORDED", "ts": 1, "stepId": "__uuid-0", "value": "u", "seq": 5},
    ),
    (
        StateDelta(ts=1, delta=[{"op": "replace", "path": "/a", "value": 1}]),
        {"type": "STATE_DELTA", "ts": 1, "delta": [{"op": "replace", "path": "/a", "value": 1}]},
    ),
    (
        CustomEvent(ts=1, name="progress", value=50, audience="ui"),
        {"type": "CUSTOM", "ts": 1, "name": "progress", "value": 50, "audience": "ui"},
    ),
]


@pytest.mark.parametrize(("event", "wire"), EXAMPLES, ids=lambda v: getattr(v, "type", ""))
def test_wire_shape_and_round_trip(event: Any, wire: dict[str, Any]) -> None:
    assert event_to_wire(event) == wire
    assert json.loads(event_to_json(event)) == wire
    assert parse_event(wire) == event
    assert parse_event(event_to_json(event)) == event
    assert parse_event(event_to_json(event).encode()) == event


def test_every_event_type_has_an_example() -> None:
    assert {event.type for event, _ in EXAMPLES} == PERSISTED_TYPES | EMIT_ONLY_TYPES


def test_event_type_sets_partition_the_events() -> None:
    assert {
        "STEP_FINISHED",
        "STEP_FAILED",
        "SIGNAL_RESOLVED",
        "APPROVAL_RESOLVED",
        "NOW_RECORDED",
        "UUID_RECORDED",
        "RUN_FINISHED",
        "RUN_ERRORED",
    } == CHECKPOINT_TYPES
    assert {"SIGNAL_AWAITED", "APPROVAL_REQUESTED"} == COORDINATION_TYPES
    assert {"RUN_STARTED", "STEP_STARTED", "STATE_DELTA", "CUSTOM"} == EMIT_ONLY_TYPES
    assert PERSISTED_TYPES == CHECKPOINT_TYPES | COORDINATION_TYPES
    assert not CHECKPOINT_TYPES & COORDINATION_TYPES
    assert not PERSISTED_TYPES & EMIT_ONLY_TYPES


def test_snake_case_names_are_accepted_when_parsing() -> None:
    event = parse_event({"type": "STEP_FINISHED", "ts": 1, "step_id": "s", "result": 1})
    assert isinstance(event, StepFinished)
    assert event.step_id == "s"


def test_unknown_fields_are_ignored_and_unknown_types_rejected() -> None:
    event = parse_event(
        {"type": "NOW_RECORDED", "ts": 1, "stepId": "n", "value": 1, "future": True}
    )
    assert isinstance(event, NowRecorded)
    with pytest.raises(ValidationError):
        parse_event({"type": "STEP_EXPLODED", "ts": 1})
    with pytest.raises(ValidationError):
        parse_event({"type": "STEP_FINISHED", "ts": 1})  # no stepId


async def test_emit_only_events_never_reach_the_store(store: InMemoryRunStore) -> None:
    @create_workflow("all-events", initial_state=lambda _i: {"n": 0}).handler
    async def wf(ctx: WorkflowContext[Any, Any]) -> str:
        ctx.emit("hello", {"x": 1})
        ctx.state["n"] = 1
        await ctx.step("s", lambda: 1)
        await ctx.now()
        await ctx.uuid()
        await ctx.wait_for_event("go")
        await ctx.approve(title="ok?", id="gate")
        with contextlib.suppress(Exception):
            await ctx.step("f", fail)
        return "done"

    emitted, _ = await collect(run_workflow(workflow=wf, run_store=store, run_id="r"))
    more, _ = await collect(
        run_workflow(
            workflow=wf, run_store=store, run_id="r", signal_delivery=SignalDelivery("s", "go")
        )
    )
    from tanstack_workflow.core import ApprovalResult

    last, outcome = await collect(
        run_workflow(
            workflow=wf, run_store=store, run_id="r", approval=ApprovalResult(True, "r:gate")
        )
    )
    assert outcome.kind == "finished"
    seen = {e.type for e in emitted + more + last}
    assert seen >= EMIT_ONLY_TYPES
    log = await store.get_events("r")
    assert {e.type for e in log} == PERSISTED_TYPES - {"RUN_ERRORED"}
    # every persisted event was also emitted to the live stream, in log order
    streamed = [e for e in emitted + more + last if e.type in PERSISTED_TYPES]
    assert streamed == list(log)


def fail() -> None:
    raise ValueError("bad")


def test_run_state_wire_shape() -> None:
    state = RunState(
        run_id="r",
        status="paused",
        workflow_id="w",
        workflow_version="v1",
        input={"a": 1},
        created_at=1,
        updated_at=2,
    )
    assert state.to_wire() == {
        "runId": "r",
        "status": "paused",
        "workflowId": "w",
        "workflowVersion": "v1",
        "input": {"a": 1},
        "createdAt": 1,
        "updatedAt": 2,
    }
    assert RunState.model_validate(state.to_wire()) == state
    assert not state.is_terminal
    assert state.model_copy(update={"status": "aborted"}).is_terminal
