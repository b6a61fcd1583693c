"""A process-local ``WorkflowExecutionStore``. Not durable: for tests, demos and dev."""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Callable, Sequence
from typing import Any

from tanstack_workflow.core import (
    ApprovalResolved,
    ApprovalResult,
    DeleteReason,
    LogConflictError,
    RunErrored,
    RunState,
    SerializedError,
    SignalDelivery,
    SignalResolved,
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
    split_awaiting,
    stored_event,
    summarize_run,
)
from ._resolutions import approval_resolution, same_decision, signal_resolution
from ._store import EventListener, RunNotFoundError
from ._validation import check_limit, check_run_id, check_storable

TERMINAL = frozenset({"finished", "errored", "aborted"})


def timer_signal_id(run_id: str, step_id: str | None, wake_at: int) -> str:
    """The deterministic signal id of a run's timer firing."""
    return f"timer:{run_id}:{step_id or ''}:{wake_at}"


def bucket_run_id(workflow_id: str, schedule_id: str, bucket_id: str) -> str:
    """The deterministic run id of a schedule bucket."""
    return f"{workflow_id}:{schedule_id}:{bucket_id}"


def encode_cursor(created_at: int, run_id: str) -> str:
    """Opaque keyset cursor for ``list_runs``."""
    return base64.urlsafe_b64encode(f"{created_at}|{run_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[int, str]:
    """Inverse of ``encode_cursor``; ``ValueError`` for a malformed cursor."""
    try:
        created, _, run_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return int(created), run_id
    except Exception as exc:
        raise ValueError(f"invalid list_runs cursor {cursor!r}") from exc


class InMemoryWorkflowExecutionStore:
    """Keeps everything in dicts. Every method is atomic (no awaits inside)."""

    def __init__(self) -> None:
        self._runs: dict[str, WorkflowExecution] = {}
        self._logs: dict[str, list[StoredWorkflowEvent]] = {}
        self._schedules: dict[str, ScheduleRecord] = {}
        self._buckets: dict[tuple[str, str], dict[str, Any]] = {}
        self._listeners: dict[str, list[EventListener]] = {}

    # -- helpers -----------------------------------------------------------------

    def _get(self, run_id: str) -> WorkflowExecution:
        run = self._runs.get(run_id)
        if run is None:
            raise RunNotFoundError(run_id)
        return run

    def _put(self, run: WorkflowExecution, **changes: Any) -> WorkflowExecution:
        updated = run.model_copy(update=changes)
        self._runs[run.run_id] = updated
        return updated

    def _append(self, run: WorkflowExecution, events: Sequence[WorkflowEvent], now: int) -> int:
        log = self._logs.setdefault(run.run_id, [])
        for event in events:
            log.append(stored_event(run.run_id, len(log), event, now))
            for listener in list(self._listeners.get(run.run_id, ())):
                with contextlib.suppress(Exception):  # a listener never breaks an append
                    listener(event, len(log) - 1)
        return len(log)

    @staticmethod
    def _transition_fields(t: RunTransition, now: int) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "status": t.status,
            "awaiting": t.awaiting,
            "waiting_for": t.waiting_for,
            "pending_approval": t.pending_approval,
            "wake_at": t.wake_at,
            "wake_kind": t.wake_kind if t.wake_at is not None else None,
            "wake_step_id": t.wake_step_id if t.wake_at is not None else None,
            "updated_at": now,
        }
        if t.status == "finished":
            fields["output"] = t.output
        if t.status in ("errored", "aborted"):
            fields["error"] = t.error
            fields["error_code"] = t.error_code
        if t.releases_lease:
            fields["lease_owner"] = None
            fields["lease_expires_at"] = None
        return fields

    # -- runs ----------------------------------------------------------------------

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
        check_run_id(run_id)
        check_storable(input, "run input")
        existing = self._runs.get(run_id)
        if existing is not None:
            return CreateRunResult(kind="existing", run=existing)
        run = WorkflowExecution(
            run_id=run_id,
            status="running",
            workflow_id=workflow_id,
            workflow_version=workflow_version,
            input=input,
            created_at=now,
            updated_at=now,
            lease_owner=lease_owner,
            lease_expires_at=now + (lease_ms or 0) if lease_owner else None,
        )
        self._runs[run_id] = run
        self._logs[run_id] = []
        return CreateRunResult(kind="created", run=run)

    async def load_run(self, run_id: str) -> WorkflowExecution | None:
        return self._runs.get(run_id)

    async def load_execution(self, run_id: str, *, from_index: int = 0) -> LoadedExecution | None:
        run = self._runs.get(run_id)
        if run is None:
            return None
        return LoadedExecution(run=run, events=list(self._logs.get(run_id, [])[from_index:]))

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
        run = self._get(run_id)
        items = list(awaiting) if awaiting is not None else None
        waiting_for, pending = split_awaiting(items)
        transition = RunTransition(
            status="paused",
            awaiting=items,
            waiting_for=waiting_for,
            pending_approval=pending,
            wake_at=wake_at,
            wake_kind=wake_kind or ("timer" if wake_at is not None else None),
            wake_step_id=wake_step_id,
        )
        self._put(run, **self._transition_fields(transition, now))

    async def mark_run_finished(self, *, run_id: str, output: Any, now: int) -> None:
        check_storable(output, "run output")
        run = self._get(run_id)
        self._put(
            run, **self._transition_fields(RunTransition(status="finished", output=output), now)
        )

    async def mark_run_errored(
        self, *, run_id: str, error: SerializedError, code: str, now: int
    ) -> None:
        run = self._get(run_id)
        t = RunTransition(status="errored", error=error, error_code=code)
        self._put(run, **self._transition_fields(t, now))

    # -- log ---------------------------------------------------------------------------

    async def append_events(
        self,
        *,
        run_id: str,
        expected_next_index: int,
        events: Sequence[WorkflowEvent],
        now: int,
        transition: RunTransition | None = None,
    ) -> int:
        run = self._get(run_id)
        for event in events:
            # the python-mode dump keeps the caller's values: a set or bytes is refused
            # instead of silently becoming JSON it never was
            wire = event.model_dump(by_alias=True, exclude_none=True)
            check_storable(wire, f"{event.type} event")
        if transition is not None:
            check_storable(transition.output, "run output")
        log = self._logs.setdefault(run_id, [])
        if len(log) != expected_next_index:
            raise LogConflictError(run_id, expected_next_index, len(log))
        next_index = self._append(run, events, now)
        fields: dict[str, Any] = {"next_index": next_index, "updated_at": now}
        if transition is not None:
            fields.update(self._transition_fields(transition, now))
        self._put(run, **fields)
        return next_index

    async def read_events(self, run_id: str, *, from_index: int = 0) -> list[StoredWorkflowEvent]:
        return list(self._logs.get(run_id, [])[from_index:])

    # -- leases ------------------------------------------------------------------------

    async def claim_run(
        self, *, run_id: str, lease_owner: str, lease_ms: int, now: int, with_events: bool = False
    ) -> ClaimRunResult:
        check_limit(lease_ms, "lease_ms", minimum=1)
        run = self._runs.get(run_id)
        if run is None:
            return ClaimRunResult(kind="not-found")
        if run.status in TERMINAL or (run.lease_is_live(now) and run.lease_owner != lease_owner):
            return ClaimRunResult(kind="not-claimable", run=run)
        claimed = self._put(run, lease_owner=lease_owner, lease_expires_at=now + lease_ms)
        events = list(self._logs.get(run_id, [])) if with_events else None
        return ClaimRunResult(kind="claimed", run=claimed, events=events)

    async def heartbeat_run_lease(
        self, *, run_id: str, lease_owner: str, lease_ms: int, now: int
    ) -> bool:
        run = self._runs.get(run_id)
        if run is None or run.lease_owner != lease_owner or run.status in TERMINAL:
            return False
        self._put(run, lease_expires_at=now + lease_ms)
        return True

    async def release_run_lease(self, *, run_id: str, lease_owner: str, now: int) -> None:
        run = self._runs.get(run_id)
        if run is not None and run.lease_owner == lease_owner:
            self._put(run, lease_owner=None, lease_expires_at=None)

    async def claim_stale_runs(
        self, *, now: int, limit: int, lease_owner: str, lease_ms: int
    ) -> list[RunClaim]:
        check_limit(limit, "limit")
        stale = sorted(
            (r for r in self._runs.values() if r.status == "running" and not r.lease_is_live(now)),
            key=lambda r: (r.updated_at, r.run_id),
        )[:limit]
        claims = []
        for run in stale:
            claimed = self._put(run, lease_owner=lease_owner, lease_expires_at=now + lease_ms)
            claims.append(
                RunClaim(run=claimed, lease_owner=lease_owner, lease_expires_at=now + lease_ms)
            )
        return claims

    # -- timers ----------------------------------------------------------------------------

    async def schedule_timer(
        self,
        *,
        run_id: str,
        wake_at: int,
        now: int,
        wake_kind: WakeKind = "timer",
        step_id: str | None = None,
    ) -> None:
        run = self._get(run_id)
        self._put(run, wake_at=wake_at, wake_kind=wake_kind, wake_step_id=step_id, updated_at=now)

    async def claim_due_timers(
        self, *, now: int, limit: int, lease_owner: str, lease_ms: int, with_events: bool = False
    ) -> list[TimerWakeup]:
        check_limit(limit, "limit")
        due = sorted(
            (
                r
                for r in self._runs.values()
                if r.status == "paused"
                and r.wake_at is not None
                and r.wake_at <= now
                and not r.lease_is_live(now)
            ),
            key=lambda r: (r.wake_at or 0, r.run_id),
        )[:limit]
        wakeups = []
        for run in due:
            assert run.wake_at is not None
            leased = self._put(run, lease_owner=lease_owner, lease_expires_at=now + lease_ms)
            wakeups.append(
                TimerWakeup(
                    run_id=run.run_id,
                    workflow_id=run.workflow_id,
                    workflow_version=run.workflow_version,
                    wake_at=run.wake_at,
                    wake_kind=run.wake_kind or "timer",
                    step_id=run.wake_step_id,
                    signal_id=timer_signal_id(run.run_id, run.wake_step_id, run.wake_at),
                    lease_owner=lease_owner,
                    lease_expires_at=now + lease_ms,
                    run=leased if with_events else None,
                    events=list(self._logs.get(run.run_id, [])) if with_events else None,
                )
            )
        return wakeups

    # -- deliveries ------------------------------------------------------------------------

    def _resume(self, run: WorkflowExecution, event: WorkflowEvent, now: int) -> WorkflowExecution:
        next_index = self._append(run, [event], now)
        fields = self._transition_fields(RunTransition(status="running"), now)
        return self._put(
            run, **fields, next_index=next_index, lease_owner=None, lease_expires_at=None
        )

    async def deliver_signal(
        self, *, run_id: str, delivery: SignalDelivery, now: int
    ) -> DeliveryResult:
        check_storable(delivery.payload, "signal payload")
        ids = [delivery.signal_id, delivery.name, delivery.step_id, delivery.meta]
        check_storable(ids, "signal delivery")
        run = self._runs.get(run_id)
        if run is None:
            return DeliveryResult(kind="not-found")
        for stored in self._logs.get(run_id, []):
            e = stored.event
            if (
                isinstance(e, SignalResolved)
                and e.signal_id == delivery.signal_id
                and e.name == delivery.name
            ):
                return DeliveryResult(kind="duplicate", run=run)
        event = signal_resolution(run, delivery, now)
        if event is None:
            return DeliveryResult(kind="not-waiting", run=run)
        return DeliveryResult(kind="delivered", run=self._resume(run, event, now))

    async def deliver_approval(
        self, *, run_id: str, approval: ApprovalResult, now: int
    ) -> DeliveryResult:
        check_storable([approval.approval_id, approval.feedback, approval.meta], "approval")
        run = self._runs.get(run_id)
        if run is None:
            return DeliveryResult(kind="not-found")
        for stored in self._logs.get(run_id, []):
            e = stored.event
            if isinstance(e, ApprovalResolved) and e.approval_id == approval.approval_id:
                kind = "duplicate" if same_decision(e, approval) else "not-waiting"
                return DeliveryResult(kind=kind, run=run)
        resolution = approval_resolution(run, approval, now)
        if resolution is None:
            return DeliveryResult(kind="not-waiting", run=run)
        event = resolution
        return DeliveryResult(kind="delivered", run=self._resume(run, event, now))

    async def cancel_run(
        self, *, run_id: str, reason: str | None, now: int, code: str = "cancelled"
    ) -> CancelRunResult:
        check_storable([reason, code], "cancel reason")
        run = self._runs.get(run_id)
        if run is None:
            return CancelRunResult(kind="not-found")
        if run.status in TERMINAL:
            return CancelRunResult(kind="already-terminal", run=run)
        error = SerializedError(name="WorkflowCancelled", message=reason or "Workflow cancelled.")
        next_index = self._append(
            run, [RunErrored(ts=now, run_id=run_id, error=error, code=code)], now
        )
        t = RunTransition(status="aborted", error=error, error_code=code)
        cancelled = self._put(run, **self._transition_fields(t, now), next_index=next_index)
        return CancelRunResult(kind="cancelled", run=cancelled)

    # -- schedules --------------------------------------------------------------------------

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
        check_run_id(schedule_id)
        check_storable(input, "schedule input")
        previous = self._schedules.get(schedule_id)
        self._schedules[schedule_id] = ScheduleRecord(
            schedule_id=schedule_id,
            workflow_id=workflow_id,
            workflow_version=workflow_version,
            spec=spec,
            overlap_policy=overlap_policy,
            input=input,
            next_fire_at=next_fire_at,
            next_bucket_id=next_bucket_id,
            enabled=enabled,
            last_run_id=previous.last_run_id if previous else None,
            updated_at=now,
        )

    async def list_schedules(self) -> list[ScheduleRecord]:
        return [self._schedules[k] for k in sorted(self._schedules)]

    async def claim_due_schedule_buckets(
        self, *, now: int, limit: int, lease_owner: str, lease_ms: int
    ) -> list[ScheduleBucket]:
        check_limit(limit, "limit")
        due = sorted(
            (
                s
                for s in self._schedules.values()
                if s.enabled
                and s.next_fire_at is not None
                and s.next_bucket_id is not None
                and s.next_fire_at <= now
            ),
            key=lambda s: (s.next_fire_at or 0, s.schedule_id),
        )
        claimed: list[ScheduleBucket] = []
        for schedule in due:
            if len(claimed) >= limit:
                break
            assert schedule.next_bucket_id is not None
            assert schedule.next_fire_at is not None
            key = (schedule.schedule_id, schedule.next_bucket_id)
            bucket = self._buckets.get(key)
            if bucket is not None and (
                bucket["status"] == "started"
                or (bucket["lease_owner"] != lease_owner and bucket["lease_expires_at"] > now)
            ):
                continue
            run_id = bucket_run_id(
                schedule.workflow_id, schedule.schedule_id, schedule.next_bucket_id
            )
            self._buckets[key] = {
                "status": "claimed",
                "run_id": run_id,
                "lease_owner": lease_owner,
                "lease_expires_at": now + lease_ms,
            }
            claimed.append(
                ScheduleBucket(
                    schedule_id=schedule.schedule_id,
                    bucket_id=schedule.next_bucket_id,
                    workflow_id=schedule.workflow_id,
                    workflow_version=schedule.workflow_version,
                    run_id=run_id,
                    fire_at=schedule.next_fire_at,
                    input=schedule.input,
                    overlap_policy=schedule.overlap_policy,
                    previous_run_id=schedule.last_run_id,
                    lease_owner=lease_owner,
                    lease_expires_at=now + lease_ms,
                )
            )
        return claimed

    async def mark_schedule_bucket_started(
        self, *, schedule_id: str, bucket_id: str, run_id: str, now: int
    ) -> None:
        key = (schedule_id, bucket_id)
        self._buckets[key] = {
            "status": "started",
            "run_id": run_id,
            "lease_owner": None,
            "lease_expires_at": 0,
        }
        schedule = self._schedules.get(schedule_id)
        if schedule is not None:
            self._schedules[schedule_id] = schedule.model_copy(
                update={"last_run_id": run_id, "updated_at": now}
            )

    # -- queries ------------------------------------------------------------------------------

    async def list_runs(
        self,
        *,
        workflow_id: str | None = None,
        status: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> RunPage:
        check_limit(limit, "limit", minimum=1)
        after = decode_cursor(cursor) if cursor else None
        runs = sorted(self._runs.values(), key=lambda r: (r.created_at, r.run_id), reverse=True)
        selected = [
            r
            for r in runs
            if (workflow_id is None or r.workflow_id == workflow_id)
            and (status is None or r.status == status)
            and (after is None or (r.created_at, r.run_id) < after)
        ]
        page = selected[:limit]
        next_cursor = (
            encode_cursor(page[-1].created_at, page[-1].run_id) if len(selected) > limit else None
        )
        return RunPage(runs=[summarize_run(r) for r in page], next_cursor=next_cursor)

    async def get_run_timeline(self, run_id: str) -> RunTimeline | None:
        run = self._runs.get(run_id)
        if run is None:
            return None
        return RunTimeline(run=run, events=list(self._logs.get(run_id, [])))

    # -- core RunStore surface -------------------------------------------------------------------

    async def load_run_state(self, run_id: str) -> RunState | None:
        run = self._runs.get(run_id)
        return run.to_run_state() if run is not None else None

    async def save_run_state(self, state: RunState, *, now: int) -> None:
        check_run_id(state.run_id)
        check_storable(state.input, "run input")
        check_storable(state.output, "run output")
        run = self._runs.get(state.run_id)
        fields = self._transition_fields(RunTransition.from_run_state(state), now)
        if run is None:
            run = WorkflowExecution(
                **state.model_dump(), next_index=len(self._logs.get(state.run_id, []))
            )
            self._logs.setdefault(state.run_id, [])
            if state.status == "running":
                fields.pop("lease_owner", None)
        self._put(run, **fields, input=state.input)

    async def delete_run(self, run_id: str, reason: DeleteReason) -> None:
        self._runs.pop(run_id, None)
        self._logs.pop(run_id, None)
        self._listeners.pop(run_id, None)

    def subscribe_events(
        self, run_id: str, from_index: int, on_event: EventListener
    ) -> Callable[[], None]:
        for stored in self._logs.get(run_id, [])[from_index:]:
            on_event(stored.event, stored.event_index)
        listeners = self._listeners.setdefault(run_id, [])
        listeners.append(on_event)
        return lambda: listeners.remove(on_event) if on_event in listeners else None

    async def close(self) -> None:
        """Nothing to release; present so every store can be closed the same way."""


def in_memory_workflow_execution_store() -> InMemoryWorkflowExecutionStore:
    """A fresh in-process store. NOT durable: everything is lost with the process."""
    return InMemoryWorkflowExecutionStore()
