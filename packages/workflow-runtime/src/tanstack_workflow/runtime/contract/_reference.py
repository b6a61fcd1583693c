"""The state machine's reference model: the store contract in plain data, nothing clever.

Every method mirrors one store call and returns what the store must answer. Where the
contract lets a store choose (which stale runs to hand out, tie order), the model
returns the candidates and the machine checks the store's pick against them; the
``accept_*`` methods then apply the pick.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tanstack_workflow.core import ApprovalResolved, SignalResolved, WorkflowEvent

TERMINAL = ("finished", "errored", "aborted")

Expected = WorkflowEvent | dict[str, Any]
"""A log entry: the exact event, or the fields it must have (``type`` and ``step_id`` included)."""


@dataclass
class RunModel:
    """One run as the contract describes it."""

    workflow_id: str
    created_at: int
    input: Any
    status: str = "running"
    log: list[Expected] = field(default_factory=list)
    lease: tuple[str, int] | None = None  # (owner, expires_at)
    wake_at: int | None = None
    wake_kind: str | None = None
    wake_step_id: str | None = None
    wait: tuple[str, str, str] | None = None  # ("signal", name, step) | ("approval", id, step)
    delivered_signals: set[str] = field(default_factory=set)
    decided: dict[str, tuple[bool, str | None]] = field(default_factory=dict)
    output: Any = None
    error_code: str | None = None

    def lease_live(self, now: int) -> bool:
        return self.lease is not None and self.lease[1] > now

    def owner(self) -> str | None:
        return self.lease[0] if self.lease else None

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL


@dataclass
class ScheduleModel:
    workflow_id: str
    next_fire_at: int | None
    next_bucket_id: str | None
    enabled: bool
    input: Any
    last_run_id: str | None = None


@dataclass
class BucketModel:
    started: bool
    owner: str | None
    expires_at: int


class ReferenceModel:
    """Runs, schedules and buckets in dicts."""

    def __init__(self) -> None:
        self.runs: dict[str, RunModel] = {}
        self.schedules: dict[str, ScheduleModel] = {}
        self.buckets: dict[tuple[str, str], BucketModel] = {}

    # -- runs -------------------------------------------------------------------------

    def create(
        self, run_id: str, workflow_id: str, input: Any, now: int, lease: tuple[str, int] | None
    ) -> str:
        if run_id in self.runs:
            return "existing"
        self.runs[run_id] = RunModel(workflow_id, now, input, lease=lease)
        return "created"

    def append(self, run_id: str, offset: int, events: list[WorkflowEvent]) -> str:
        """``ok``, ``conflict`` or ``not-found``; a transition is applied by the caller."""
        if run_id not in self.runs:
            return "not-found"
        if offset != 0:
            return "conflict"
        self.runs[run_id].log.extend(events)
        return "ok"

    def transition(
        self,
        run_id: str,
        status: str,
        *,
        wait: tuple[str, str, str] | None = None,
        wake_at: int | None = None,
        output: Any = None,
        error_code: str | None = None,
    ) -> None:
        """What every ``RunTransition`` (and ``mark_run_*``) does to the run record."""
        run = self.runs[run_id]
        run.status = status
        run.wait = wait
        run.wake_at = wake_at
        run.wake_kind = "deadline" if wake_at is not None else None
        run.wake_step_id = wait[2] if wait and wake_at is not None else None
        if status == "finished":
            run.output = output
        if status in ("errored", "aborted"):
            run.error_code = error_code
        if status != "running":
            run.lease = None

    def delete(self, run_id: str) -> None:
        self.runs.pop(run_id, None)

    # -- leases ------------------------------------------------------------------------

    def claim(self, run_id: str, owner: str, now: int) -> str:
        run = self.runs.get(run_id)
        if run is None:
            return "not-found"
        if run.terminal or (run.lease_live(now) and run.owner() != owner):
            return "not-claimable"
        return "claimed"

    def heartbeat(self, run_id: str, owner: str) -> bool:
        """A lease is lost only to another claimer or a transition, not by expiring."""
        run = self.runs.get(run_id)
        return run is not None and not run.terminal and run.owner() == owner

    def release(self, run_id: str, owner: str) -> None:
        run = self.runs.get(run_id)
        if run is not None and run.owner() == owner:
            run.lease = None

    def stale_candidates(self, now: int) -> set[str]:
        return {
            run_id
            for run_id, run in self.runs.items()
            if run.status == "running" and not run.lease_live(now)
        }

    def timer_candidates(self, now: int) -> dict[str, int]:
        return {
            run_id: run.wake_at
            for run_id, run in self.runs.items()
            if run.status == "paused"
            and run.wake_at is not None
            and run.wake_at <= now
            and not run.lease_live(now)
        }

    def arm(self, run_id: str, wake_at: int, kind: str, step_id: str | None) -> None:
        run = self.runs[run_id]
        run.wake_at, run.wake_kind, run.wake_step_id = wake_at, kind, step_id

    def lease(self, run_id: str, owner: str, expires_at: int, now: int) -> None:
        """Hand the run to ``owner``; a live lease of another owner here is a contract bug."""
        run = self.runs[run_id]
        assert not (run.lease_live(now) and run.owner() != owner), (
            f"{run_id!r} leased to {owner!r} while {run.lease!r} was live at {now}"
        )
        run.lease = (owner, expires_at)

    # -- deliveries ----------------------------------------------------------------------

    def deliver_signal(
        self, run_id: str, signal_id: str, name: str, step_id: str | None, payload: Any, now: int
    ) -> str:
        run = self.runs.get(run_id)
        if run is None:
            return "not-found"
        if signal_id in run.delivered_signals:
            return "duplicate"
        wait = run.wait
        if (
            run.status != "paused"
            or wait is None
            or wait[0] != "signal"
            or wait[1] != name
            or (step_id is not None and step_id != wait[2])
        ):
            return "not-waiting"
        run.log.append(
            SignalResolved(ts=now, step_id=wait[2], name=name, signal_id=signal_id, payload=payload)
        )
        run.delivered_signals.add(signal_id)
        self.transition(run_id, "running")
        run.lease = None
        return "delivered"

    def deliver_approval(
        self, run_id: str, approval_id: str, approved: bool, feedback: str | None, now: int
    ) -> str:
        run = self.runs.get(run_id)
        if run is None:
            return "not-found"
        if approval_id in run.decided:
            return (
                "duplicate" if run.decided[approval_id] == (approved, feedback) else "not-waiting"
            )
        wait = run.wait
        if run.status != "paused" or wait is None or wait[:2] != ("approval", approval_id):
            return "not-waiting"
        run.log.append(
            ApprovalResolved(
                ts=now,
                step_id=wait[2],
                approval_id=approval_id,
                approved=approved,
                feedback=feedback,
            )
        )
        run.decided[approval_id] = (approved, feedback)
        self.transition(run_id, "running")
        run.lease = None
        return "delivered"

    def cancel(self, run_id: str, code: str) -> str:
        run = self.runs.get(run_id)
        if run is None:
            return "not-found"
        if run.terminal:
            return "already-terminal"
        run.log.append({"type": "RUN_ERRORED", "step_id": None, "code": code, "run_id": run_id})
        self.transition(run_id, "aborted", error_code=code)
        return "cancelled"

    # -- schedules --------------------------------------------------------------------------

    def upsert_schedule(
        self,
        schedule_id: str,
        workflow_id: str,
        fire_at: int | None,
        bucket_id: str | None,
        enabled: bool,
        input: Any,
    ) -> None:
        previous = self.schedules.get(schedule_id)
        self.schedules[schedule_id] = ScheduleModel(
            workflow_id=workflow_id,
            next_fire_at=fire_at,
            next_bucket_id=bucket_id,
            enabled=enabled,
            input=input,
            last_run_id=previous.last_run_id if previous else None,
        )

    def bucket_candidates(self, owner: str, now: int) -> dict[str, tuple[str, int]]:
        """schedule id -> (bucket id, fire_at) for every bucket ``owner`` may claim now."""
        due: dict[str, tuple[str, int]] = {}
        for schedule_id, s in self.schedules.items():
            if not s.enabled or s.next_fire_at is None or s.next_bucket_id is None:
                continue
            if s.next_fire_at > now:
                continue
            bucket = self.buckets.get((schedule_id, s.next_bucket_id))
            if bucket is not None and (
                bucket.started or (bucket.owner != owner and bucket.expires_at > now)
            ):
                continue
            due[schedule_id] = (s.next_bucket_id, s.next_fire_at)
        return due

    def lease_bucket(
        self, schedule_id: str, bucket_id: str, owner: str, expires_at: int, now: int
    ) -> None:
        bucket = self.buckets.get((schedule_id, bucket_id))
        assert bucket is None or not bucket.started, f"started bucket {bucket_id!r} handed out"
        assert bucket is None or bucket.owner == owner or bucket.expires_at <= now, (
            f"bucket {bucket_id!r} of {schedule_id!r} handed to {owner!r} inside {bucket.owner!r}'s lease"
        )
        self.buckets[(schedule_id, bucket_id)] = BucketModel(False, owner, expires_at)

    def mark_started(self, schedule_id: str, bucket_id: str, run_id: str) -> None:
        self.buckets[(schedule_id, bucket_id)] = BucketModel(True, None, 0)
        schedule = self.schedules.get(schedule_id)
        if schedule is not None:
            schedule.last_run_id = run_id

    # -- queries --------------------------------------------------------------------------

    def listed(self, workflow_id: str | None, status: str | None) -> set[str]:
        return {
            run_id
            for run_id, run in self.runs.items()
            if (workflow_id is None or run.workflow_id == workflow_id)
            and (status is None or run.status == status)
        }
