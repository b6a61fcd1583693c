"""Records exchanged between the runtime and a ``WorkflowExecutionStore``.

All times are epoch milliseconds. Models serialize with camelCase keys like core's.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from tanstack_workflow.core import (
    ApprovalAwaitable,
    PendingApproval,
    RunAwaitable,
    RunState,
    SerializedError,
    SignalAwaitable,
    WaitingFor,
    WireModel,
    WorkflowEvent,
)

WakeKind = Literal["timer", "deadline"]
OverlapPolicy = Literal["skip", "allow", "buffer-one", "cancel-previous", "terminate-previous"]
OVERLAP_POLICIES: tuple[str, ...] = (
    "skip",
    "allow",
    "buffer-one",
    "cancel-previous",
    "terminate-previous",
)


class WorkflowExecution(RunState):
    """A run as the execution store keeps it: core's ``RunState`` plus runtime fields.

    ``wake_at`` is the run's single pending timer (a sleep's wake-up or a wait's
    deadline); ``next_index`` is the length of its event log (the CAS index).
    """

    wake_at: int | None = None
    wake_kind: WakeKind | None = None
    wake_step_id: str | None = None
    lease_owner: str | None = None
    lease_expires_at: int | None = None
    next_index: int = 0

    def to_run_state(self) -> RunState:
        """The core ``RunState`` view of this execution."""
        return RunState.model_validate(self.model_dump(include=set(RunState.model_fields)))

    def lease_is_live(self, now: int) -> bool:
        """True while another caller's lease has not expired."""
        return self.lease_owner is not None and (self.lease_expires_at or 0) > now


class StoredWorkflowEvent(WireModel):
    """One persisted log entry."""

    run_id: str
    event_index: int
    event_type: str
    step_id: str | None = None
    event: WorkflowEvent = Field(discriminator="type")
    created_at: int


class LoadedExecution(WireModel):
    """A run with (part of) its log, from ``load_execution`` or ``claim_run``."""

    run: WorkflowExecution
    events: list[StoredWorkflowEvent] = Field(default_factory=list)


class RunTransition(WireModel):
    """A change of run status applied atomically with an append.

    Pausing, finishing and erroring also release the lease. ``wake_at`` (with
    ``wake_kind`` and ``wake_step_id``) arms the run's timer; any other transition
    clears it.
    """

    status: Literal["running", "paused", "finished", "errored", "aborted"]
    awaiting: list[RunAwaitable] | None = None
    waiting_for: WaitingFor | None = None
    pending_approval: PendingApproval | None = None
    wake_at: int | None = None
    wake_kind: WakeKind | None = None
    wake_step_id: str | None = None
    output: Any = None
    error: SerializedError | None = None
    error_code: str | None = None

    @property
    def releases_lease(self) -> bool:
        """True when the transition ends this driver's hold on the run."""
        return self.status != "running"

    @classmethod
    def from_run_state(cls, state: RunState) -> RunTransition:
        """The transition that makes a stored run match ``state``."""
        wake_at: int | None = None
        wake_kind: WakeKind | None = None
        wake_step_id: str | None = None
        if state.status == "paused":
            for waiting in state.awaiting or ():
                if waiting.deadline is None:
                    continue
                wake_at = waiting.deadline
                timer = isinstance(waiting, SignalAwaitable) and waiting.signal_name == "__timer"
                wake_kind = "timer" if timer else "deadline"
                wake_step_id = waiting.step_id
                break
        return cls(
            status=state.status,
            awaiting=state.awaiting,
            waiting_for=state.waiting_for,
            pending_approval=state.pending_approval,
            wake_at=wake_at,
            wake_kind=wake_kind,
            wake_step_id=wake_step_id,
            output=state.output,
            error=state.error,
            error_code=state.error_code,
        )


class CreateRunResult(WireModel):
    """``created`` (claimed by the caller when it passed a lease owner) or ``existing``."""

    kind: Literal["created", "existing"]
    run: WorkflowExecution


class ClaimRunResult(WireModel):
    """Outcome of ``claim_run``; ``events`` is filled when asked for."""

    kind: Literal["claimed", "not-found", "not-claimable"]
    run: WorkflowExecution | None = None
    events: list[StoredWorkflowEvent] | None = None


class RunClaim(WireModel):
    """A run whose lease the caller now holds."""

    run: WorkflowExecution
    lease_owner: str
    lease_expires_at: int


class TimerWakeup(WireModel):
    """A due timer: the run is now leased to the claimer."""

    run_id: str
    workflow_id: str
    workflow_version: str | None = None
    wake_at: int
    wake_kind: WakeKind = "timer"
    step_id: str | None = None
    signal_id: str
    lease_owner: str
    lease_expires_at: int
    run: WorkflowExecution | None = None
    """The leased run, filled by ``claim_due_timers(with_events=True)``."""
    events: list[StoredWorkflowEvent] | None = None
    """Its whole log, filled by ``claim_due_timers(with_events=True)``."""


class DeliveryResult(WireModel):
    """Outcome of a store-level signal or approval delivery."""

    kind: Literal["delivered", "duplicate", "not-waiting", "not-found"]
    run: WorkflowExecution | None = None


class CancelRunResult(WireModel):
    """Outcome of ``cancel_run``."""

    kind: Literal["cancelled", "not-found", "already-terminal"]
    run: WorkflowExecution | None = None


class ScheduleSpec(WireModel):
    """When a schedule fires: a cron expression in a timezone, or a fixed interval."""

    kind: Literal["cron", "interval"]
    expression: str | None = None
    every_ms: int | None = None
    timezone: str = "UTC"


class ScheduleRecord(WireModel):
    """A stored schedule."""

    schedule_id: str
    workflow_id: str
    workflow_version: str | None = None
    spec: ScheduleSpec
    overlap_policy: OverlapPolicy = "skip"
    input: Any = None
    next_fire_at: int | None = None
    next_bucket_id: str | None = None
    enabled: bool = True
    last_run_id: str | None = None
    updated_at: int


class ScheduleBucket(WireModel):
    """One firing of a schedule, claimed by a sweep. ``run_id`` is deterministic."""

    schedule_id: str
    bucket_id: str
    workflow_id: str
    workflow_version: str | None = None
    run_id: str
    fire_at: int
    input: Any = None
    overlap_policy: OverlapPolicy = "skip"
    previous_run_id: str | None = None
    lease_owner: str
    lease_expires_at: int


class RunSummary(WireModel):
    """A run as listed by ``list_runs`` (no input, output or log)."""

    run_id: str
    workflow_id: str
    workflow_version: str | None = None
    status: str
    awaiting: list[RunAwaitable] | None = None
    wake_at: int | None = None
    error_code: str | None = None
    created_at: int
    updated_at: int


class RunPage(WireModel):
    """One page of ``list_runs``; pass ``next_cursor`` back for the next page."""

    runs: list[RunSummary]
    next_cursor: str | None = None


class RunTimeline(WireModel):
    """A run with its whole log."""

    run: WorkflowExecution
    events: list[StoredWorkflowEvent]


def split_awaiting(
    awaiting: list[Any] | None,
) -> tuple[WaitingFor | None, PendingApproval | None]:
    """The ``waiting_for`` / ``pending_approval`` views of an ``awaiting`` list."""
    waiting_for: WaitingFor | None = None
    pending: PendingApproval | None = None
    for item in awaiting or ():
        if isinstance(item, SignalAwaitable) and waiting_for is None:
            waiting_for = WaitingFor(
                step_id=item.step_id,
                signal_name=item.signal_name,
                deadline=item.deadline,
                meta=item.meta,
            )
        elif isinstance(item, ApprovalAwaitable) and pending is None:
            pending = PendingApproval(
                step_id=item.step_id,
                approval_id=item.approval_id,
                title=item.title,
                description=item.description,
                deadline=item.deadline,
                meta=item.meta,
            )
    return waiting_for, pending


def summarize_run(run: WorkflowExecution) -> RunSummary:
    """The ``RunSummary`` of a stored run."""
    return RunSummary(
        run_id=run.run_id,
        workflow_id=run.workflow_id,
        workflow_version=run.workflow_version,
        status=run.status,
        awaiting=run.awaiting,
        wake_at=run.wake_at,
        error_code=run.error_code,
        created_at=run.created_at,
        updated_at=run.updated_at,
    )


def stored_event(run_id: str, index: int, event: WorkflowEvent, now: int) -> StoredWorkflowEvent:
    """Wrap ``event`` as the log entry at ``index``."""
    return StoredWorkflowEvent(
        run_id=run_id,
        event_index=index,
        event_type=event.type,
        step_id=getattr(event, "step_id", None),
        event=event,
        created_at=now,
    )
