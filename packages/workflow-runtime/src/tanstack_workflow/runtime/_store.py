"""The ``WorkflowExecutionStore`` contract every store implements.

Rules every implementation follows (the contract suite checks them):

* Every method takes ``now`` (epoch ms) explicitly where time matters; stores never
  read the clock themselves, so tests control time.
* ``append_events`` is a compare-and-swap on ``expected_next_index``: it appends only
  when the log has exactly that many events, otherwise raises ``LogConflictError``.
  An optional ``transition`` updates the run in the same atomic write; pausing,
  finishing and erroring release the lease; a ``wake_at`` arms the run's timer and
  every other transition disarms it.
* A lease is held by ``lease_owner`` until ``lease_expires_at``. ``claim_run`` succeeds
  on an unleased, expired or self-owned lease of a non-terminal run.
  ``claim_stale_runs`` hands out ``running`` runs whose lease is missing or expired;
  ``claim_due_timers`` hands out ``paused`` runs whose ``wake_at <= now`` and whose
  lease is missing or expired, leasing the run to the claimer — so a due timer is
  handed out once per lease window.
* Deliveries (``deliver_signal``, ``deliver_approval``) and ``cancel_run`` are single
  atomic writes; the same ``signal_id`` twice is ``duplicate``.
* Bad input raises a clear error and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from tanstack_workflow.core import (
    ApprovalResult,
    DeleteReason,
    RunState,
    SerializedError,
    SignalDelivery,
    WorkflowError,
    WorkflowEvent,
)

from ._models import (
    CancelRunResult,
    ClaimRunResult,
    CreateRunResult,
    DeliveryResult,
    LoadedExecution,
    OverlapPolicy,
    RunClaim,
    RunPage,
    RunTimeline,
    RunTransition,
    ScheduleBucket,
    ScheduleRecord,
    ScheduleSpec,
    StoredWorkflowEvent,
    TimerWakeup,
    WakeKind,
    WorkflowExecution,
)


class RunNotFoundError(WorkflowError, LookupError):
    """The run does not exist in the store."""

    def __init__(self, run_id: str) -> None:
        super().__init__(f"run {run_id!r} not found")
        self.run_id = run_id


class StoreSchemaError(WorkflowError):
    """The store's schema is missing or outdated: apply the package's migrations."""


@runtime_checkable
class WorkflowExecutionStore(Protocol):
    """Durable home of runs, logs, leases, timers and schedules. See module docs."""

    # -- runs ------------------------------------------------------------------

    async def create_run(
        self,
        *,
        run_id: str,
        workflow_id: str,
        workflow_version: str | None,
        input: Any,
        now: int,
        lease_owner: str | None = None,
        lease_ms: int | None = None,
    ) -> CreateRunResult:
        """Create a ``running`` run (leased to ``lease_owner`` if given) or return the existing one."""
        ...

    async def load_run(self, run_id: str) -> WorkflowExecution | None:
        """The run, or ``None``."""
        ...

    async def load_execution(self, run_id: str, *, from_index: int = 0) -> LoadedExecution | None:
        """The run and its events from ``from_index`` on, in one read."""
        ...

    async def mark_run_paused(
        self,
        *,
        run_id: str,
        awaiting: Sequence[Any] | None,
        wake_at: int | None = None,
        wake_kind: WakeKind | None = None,
        wake_step_id: str | None = None,
        now: int,
    ) -> None:
        """Set the run ``paused`` on ``awaiting``, arm or disarm its timer, release its lease."""
        ...

    async def mark_run_finished(self, *, run_id: str, output: Any, now: int) -> None:
        """Set the run ``finished`` with ``output``; release its lease and timer."""
        ...

    async def mark_run_errored(
        self, *, run_id: str, error: SerializedError, code: str, now: int
    ) -> None:
        """Set the run ``errored``; release its lease and timer."""
        ...

    # -- event log ---------------------------------------------------------------

    async def append_events(
        self,
        *,
        run_id: str,
        expected_next_index: int,
        events: Sequence[WorkflowEvent],
        now: int,
        transition: RunTransition | None = None,
    ) -> int:
        """CAS-append ``events`` (and apply ``transition``); return the new next index."""
        ...

    async def read_events(self, run_id: str, *, from_index: int = 0) -> list[StoredWorkflowEvent]:
        """The run's events from ``from_index`` on, in order."""
        ...

    # -- leases ------------------------------------------------------------------

    async def claim_run(
        self, *, run_id: str, lease_owner: str, lease_ms: int, now: int, with_events: bool = False
    ) -> ClaimRunResult:
        """Lease the run to ``lease_owner`` (returning its log too when ``with_events``)."""
        ...

    async def heartbeat_run_lease(
        self, *, run_id: str, lease_owner: str, lease_ms: int, now: int
    ) -> bool:
        """Extend the lease if ``lease_owner`` still holds it; False when it was lost."""
        ...

    async def release_run_lease(self, *, run_id: str, lease_owner: str, now: int) -> None:
        """Drop the lease if ``lease_owner`` holds it."""
        ...

    async def claim_stale_runs(
        self, *, now: int, limit: int, lease_owner: str, lease_ms: int
    ) -> list[RunClaim]:
        """Lease up to ``limit`` ``running`` runs whose lease is missing or expired."""
        ...

    # -- timers ------------------------------------------------------------------

    async def schedule_timer(
        self,
        *,
        run_id: str,
        wake_at: int,
        now: int,
        wake_kind: WakeKind = "timer",
        step_id: str | None = None,
    ) -> None:
        """Arm the run's timer at ``wake_at``."""
        ...

    async def claim_due_timers(
        self, *, now: int, limit: int, lease_owner: str, lease_ms: int, with_events: bool = False
    ) -> list[TimerWakeup]:
        """Lease up to ``limit`` paused runs whose timer is due, earliest first.

        With ``with_events`` each wakeup also carries the leased ``run`` and its whole
        log (``events``), so resuming needs no further read per run.
        """
        ...

    # -- deliveries ------------------------------------------------------------------

    async def deliver_signal(
        self, *, run_id: str, delivery: SignalDelivery, now: int
    ) -> DeliveryResult:
        """Record a signal for the wait it matches and set the run ``running`` (unleased)."""
        ...

    async def deliver_approval(
        self, *, run_id: str, approval: ApprovalResult, now: int
    ) -> DeliveryResult:
        """Record a decision for the pending approval and set the run ``running`` (unleased)."""
        ...

    async def cancel_run(
        self, *, run_id: str, reason: str | None, now: int, code: str = "cancelled"
    ) -> CancelRunResult:
        """End a non-terminal run with RUN_ERRORED ``code``; clear its waits, timer and lease."""
        ...

    # -- schedules ---------------------------------------------------------------------

    async def upsert_schedule(
        self,
        *,
        schedule_id: str,
        workflow_id: str,
        workflow_version: str | None,
        spec: ScheduleSpec,
        overlap_policy: OverlapPolicy,
        input: Any,
        next_fire_at: int | None,
        next_bucket_id: str | None,
        enabled: bool,
        now: int,
    ) -> None:
        """Create or update a schedule (keeping its ``last_run_id``)."""
        ...

    async def list_schedules(self) -> list[ScheduleRecord]:
        """Every stored schedule, ordered by id."""
        ...

    async def claim_due_schedule_buckets(
        self, *, now: int, limit: int, lease_owner: str, lease_ms: int
    ) -> list[ScheduleBucket]:
        """Lease up to ``limit`` due, not yet started buckets (one per schedule)."""
        ...

    async def mark_schedule_bucket_started(
        self, *, schedule_id: str, bucket_id: str, run_id: str, now: int
    ) -> None:
        """Mark a bucket started (never handed out again) and remember its run."""
        ...

    # -- queries -------------------------------------------------------------------------

    async def list_runs(
        self,
        *,
        workflow_id: str | None = None,
        status: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> RunPage:
        """Runs, newest first, with an opaque stable cursor."""
        ...

    async def get_run_timeline(self, run_id: str) -> RunTimeline | None:
        """The run and its whole log."""
        ...

    # -- core RunStore surface -------------------------------------------------------------

    async def load_run_state(self, run_id: str) -> RunState | None:
        """The run as core's ``RunState``."""
        ...

    async def save_run_state(self, state: RunState, *, now: int) -> None:
        """Create or overwrite the run from core's ``RunState``."""
        ...

    async def delete_run(self, run_id: str, reason: DeleteReason) -> None:
        """Delete the run and its log."""
        ...


EventListener = Callable[[WorkflowEvent, int], None]


@runtime_checkable
class SubscribableExecutionStore(WorkflowExecutionStore, Protocol):
    """Optional capability: push new events to listeners."""

    def subscribe_events(
        self, run_id: str, from_index: int, on_event: EventListener
    ) -> Callable[[], None]:
        """Call ``on_event`` for each event from ``from_index`` on; return an unsubscriber."""
        ...
