"""Workflow events: one shape for the durable log and for observers.

Checkpoint events (replay short-circuits on them): STEP_FINISHED, STEP_FAILED,
SIGNAL_RESOLVED, APPROVAL_RESOLVED, NOW_RECORDED, UUID_RECORDED, RUN_FINISHED,
RUN_ERRORED. Coordination events (persisted so resumes can find the pending
wait): SIGNAL_AWAITED, APPROVAL_REQUESTED. Emit-only events, never persisted:
RUN_STARTED, STEP_STARTED, STATE_DELTA, CUSTOM.

Operation events carry ``seq``, the position of the call among the durable
operations of the run, so replay can tell a reordered workflow from a concurrent
one (``asyncio.gather`` finishes steps in any order but calls them in order).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter

from ._model import WireModel
from ._run_state import SerializedError, WorkflowMetadata


class _Event(WireModel):
    ts: int
    audience: str | None = None


class RunStarted(_Event):
    """Opens every invocation's stream. Emit-only."""

    type: Literal["RUN_STARTED"] = "RUN_STARTED"
    run_id: str
    thread_id: str | None = None


class RunFinished(_Event):
    """The handler returned; ``output`` is its JSON form."""

    type: Literal["RUN_FINISHED"] = "RUN_FINISHED"
    run_id: str
    output: Any = None


class RunErrored(_Event):
    """The run ended with an error. ``code`` says why (``error``, ``nondeterminism``, ...)."""

    type: Literal["RUN_ERRORED"] = "RUN_ERRORED"
    run_id: str
    error: SerializedError
    code: str


class StepAttempt(WireModel):
    """One attempt of a step, recorded when a step needed more than one."""

    started_at: int
    finished_at: int
    error: SerializedError | None = None


class StepStarted(_Event):
    """A fresh step execution began. Emit-only."""

    type: Literal["STEP_STARTED"] = "STEP_STARTED"
    step_id: str
    meta: WorkflowMetadata | None = None


class StepFinished(_Event):
    """A step succeeded; ``result`` is its JSON form."""

    type: Literal["STEP_FINISHED"] = "STEP_FINISHED"
    step_id: str
    result: Any = None
    attempts: list[StepAttempt] | None = None
    meta: WorkflowMetadata | None = None
    seq: int | None = None


class StepFailed(_Event):
    """A step exhausted its attempts; replay re-raises ``error``."""

    type: Literal["STEP_FAILED"] = "STEP_FAILED"
    step_id: str
    error: SerializedError
    attempts: list[StepAttempt] | None = None
    meta: WorkflowMetadata | None = None
    seq: int | None = None


class SignalAwaited(_Event):
    """The run paused waiting for signal ``name`` (``__timer`` for sleeps)."""

    type: Literal["SIGNAL_AWAITED"] = "SIGNAL_AWAITED"
    step_id: str
    name: str
    deadline: int | None = None
    meta: WorkflowMetadata | None = None
    seq: int | None = None


class SignalResolved(_Event):
    """A signal arrived for the wait at ``step_id`` (or its deadline passed: ``timed_out``)."""

    type: Literal["SIGNAL_RESOLVED"] = "SIGNAL_RESOLVED"
    step_id: str
    name: str
    signal_id: str | None = None
    payload: Any = None
    timed_out: bool | None = None
    meta: WorkflowMetadata | None = None


class ApprovalRequested(_Event):
    """The run paused waiting for a human decision."""

    type: Literal["APPROVAL_REQUESTED"] = "APPROVAL_REQUESTED"
    step_id: str
    approval_id: str
    title: str
    description: str | None = None
    deadline: int | None = None
    meta: WorkflowMetadata | None = None
    seq: int | None = None


class ApprovalResolved(_Event):
    """A decision arrived for the approval at ``step_id`` (or its deadline passed)."""

    type: Literal["APPROVAL_RESOLVED"] = "APPROVAL_RESOLVED"
    step_id: str
    approval_id: str
    approved: bool
    feedback: str | None = None
    timed_out: bool | None = None
    meta: WorkflowMetadata | None = None


class NowRecorded(_Event):
    """``ctx.now()`` recorded a wall-clock value (epoch ms)."""

    type: Literal["NOW_RECORDED"] = "NOW_RECORDED"
    step_id: str
    value: int
    meta: WorkflowMetadata | None = None
    seq: int | None = None


class UuidRecorded(_Event):
    """``ctx.uuid()`` recorded a random UUID."""

    type: Literal["UUID_RECORDED"] = "UUID_RECORDED"
    step_id: str
    value: str
    meta: WorkflowMetadata | None = None
    seq: int | None = None


class StateDelta(_Event):
    """JSON-patch operations turning the previous ``ctx.state`` into the current one."""

    type: Literal["STATE_DELTA"] = "STATE_DELTA"
    delta: list[dict[str, Any]]


class CustomEvent(_Event):
    """A value the workflow emitted with ``ctx.emit``. Emit-only."""

    type: Literal["CUSTOM"] = "CUSTOM"
    name: str
    value: Any = None


WorkflowEvent = Annotated[
    RunStarted
    | RunFinished
    | RunErrored
    | StepStarted
    | StepFinished
    | StepFailed
    | SignalAwaited
    | SignalResolved
    | ApprovalRequested
    | ApprovalResolved
    | NowRecorded
    | UuidRecorded
    | StateDelta
    | CustomEvent,
    Field(discriminator="type"),
]

CheckpointEvent = (
    StepFinished
    | StepFailed
    | SignalResolved
    | ApprovalResolved
    | NowRecorded
    | UuidRecorded
    | RunFinished
    | RunErrored
)

CHECKPOINT_TYPES: frozenset[str] = frozenset(
    {
        "STEP_FINISHED",
        "STEP_FAILED",
        "SIGNAL_RESOLVED",
        "APPROVAL_RESOLVED",
        "NOW_RECORDED",
        "UUID_RECORDED",
        "RUN_FINISHED",
        "RUN_ERRORED",
    }
)
COORDINATION_TYPES: frozenset[str] = frozenset({"SIGNAL_AWAITED", "APPROVAL_REQUESTED"})
EMIT_ONLY_TYPES: frozenset[str] = frozenset(
    {"RUN_STARTED", "STEP_STARTED", "STATE_DELTA", "CUSTOM"}
)
PERSISTED_TYPES: frozenset[str] = CHECKPOINT_TYPES | COORDINATION_TYPES
TERMINAL_TYPES: frozenset[str] = frozenset({"RUN_FINISHED", "RUN_ERRORED"})

_event_adapter: TypeAdapter[WorkflowEvent] = TypeAdapter(WorkflowEvent)


def parse_event(data: Mapping[str, Any] | str | bytes) -> WorkflowEvent:
    """Parse one event from its wire form (a dict or JSON text)."""
    if isinstance(data, str | bytes):
        return _event_adapter.validate_json(data)
    return _event_adapter.validate_python(data)


def event_to_wire(event: WorkflowEvent) -> dict[str, Any]:
    """Serialize an event to the reference's wire shape (camelCase, no nulls)."""
    return event.to_wire()


def event_to_json(event: WorkflowEvent) -> str:
    """Serialize an event to compact JSON text in the wire shape."""
    return event.model_dump_json(by_alias=True, exclude_none=True)
