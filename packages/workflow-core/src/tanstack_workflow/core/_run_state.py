"""Persisted run metadata: the state snapshot beside the event log."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from ._model import WireModel

RunStatus = Literal["running", "paused", "finished", "errored", "aborted"]
DeleteReason = Literal["finished", "errored", "aborted"]
TERMINAL_STATUSES: frozenset[str] = frozenset({"finished", "errored", "aborted"})

WorkflowMetadata = dict[str, Any]


class SerializedError(WireModel):
    """A wire-safe error: exception class name, message and traceback text."""

    name: str
    message: str
    stack: str | None = None


class SignalAwaitable(WireModel):
    """The run waits for a named signal (``wait_for_event``, ``sleep``)."""

    type: Literal["signal"] = "signal"
    step_id: str | None = None
    signal_name: str
    deadline: int | None = None
    meta: WorkflowMetadata | None = None


class ApprovalAwaitable(WireModel):
    """The run waits for a human decision (``approve``)."""

    type: Literal["approval"] = "approval"
    step_id: str | None = None
    approval_id: str
    title: str
    description: str | None = None
    deadline: int | None = None
    meta: WorkflowMetadata | None = None


RunAwaitable = Annotated[SignalAwaitable | ApprovalAwaitable, Field(discriminator="type")]


class WaitingFor(WireModel):
    """The pending signal wait of a paused run."""

    step_id: str | None = None
    signal_name: str
    deadline: int | None = None
    meta: WorkflowMetadata | None = None


class PendingApproval(WireModel):
    """The pending approval of a paused run."""

    step_id: str | None = None
    approval_id: str
    title: str
    description: str | None = None
    deadline: int | None = None
    meta: WorkflowMetadata | None = None


class RunState(WireModel):
    """What a store keeps about a run besides its log.

    Workflow ``state`` is deliberately absent: it is rebuilt by replay on every
    invocation. ``input`` and ``output`` are stored in their JSON form.
    """

    run_id: str
    status: RunStatus
    workflow_id: str
    workflow_version: str | None = None
    input: Any = None
    output: Any = None
    error: SerializedError | None = None
    error_code: str | None = None
    awaiting: list[RunAwaitable] | None = None
    waiting_for: WaitingFor | None = None
    pending_approval: PendingApproval | None = None
    created_at: int
    updated_at: int

    @property
    def is_terminal(self) -> bool:
        """True once the run finished, errored or was aborted."""
        return self.status in TERMINAL_STATUSES
