"""Driving one claimed run: heartbeats, event collection, publishing, lease release."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from tanstack_workflow.core import (
    ApprovalResult,
    Clock,
    LogConflictError,
    SignalDelivery,
    SuspendedWorkflow,
    WorkflowDefinition,
    WorkflowEvent,
    WorkflowOutcome,
    WorkflowValidationError,
    drive_workflow,
    resume_workflow,
)

from ._adapter import create_run_store_adapter
from ._models import RunTransition, WorkflowExecution
from ._store import WorkflowExecutionStore
from ._suspended import SuspendedRuns

_log = logging.getLogger("tanstack_workflow.runtime")

RunResultKind = Literal[
    "completed",
    "paused",
    "errored",
    "running",
    "not-found",
    "not-claimable",
    "not-waiting",
    "duplicate",
    "skipped",
]
Publisher = Callable[[str, WorkflowEvent], Awaitable[None] | None]


class SignalRejectedError(WorkflowValidationError):
    """A delivered payload (or decision) failed the wait's schema or cannot be stored;
    the run stays paused and nothing is stored."""


@dataclass
class WorkflowRunResult:
    """What a driving call did to one run."""

    kind: RunResultKind
    run_id: str
    workflow_id: str | None = None
    run: WorkflowExecution | None = None
    events: list[WorkflowEvent] = field(default_factory=list)
    event_count: int = 0
    events_truncated: bool = False
    detail: str | None = None

    def to_wire(self) -> dict[str, Any]:
        """JSON-ready dict with camelCase keys, like the reference's results."""
        data: dict[str, Any] = {
            "kind": self.kind,
            "runId": self.run_id,
            "eventCount": self.event_count,
            "events": [e.to_wire() for e in self.events],
        }
        if self.workflow_id is not None:
            data["workflowId"] = self.workflow_id
        if self.run is not None:
            data["run"] = self.run.to_wire()
        if self.events_truncated:
            data["eventsTruncated"] = True
        if self.detail is not None:
            data["detail"] = self.detail
        return data


def classify(run: WorkflowExecution | None) -> RunResultKind:
    """Result kind for a run found in the store."""
    if run is None:
        return "not-found"
    return {
        "finished": "completed",
        "paused": "paused",
        "errored": "errored",
        "aborted": "errored",
    }.get(run.status, "running")  # type: ignore[return-value]


def call_clock(now: int) -> Clock:
    """A clock that starts at the caller's ``now`` and advances with real time."""
    start = time.monotonic()
    return lambda: now + int((time.monotonic() - start) * 1000)


@dataclass
class DriveOptions:
    """Per-call options shared by every driving call."""

    now: int
    clock: Clock
    lease_owner: str
    lease_ms: int
    deadline: int | None
    min_yield_remaining_ms: int
    include_events: bool
    max_events: int | None
    publishers: Sequence[Publisher]
    telemetry: Any = None
    thread_id: str | None = None


class _Collector:
    """Counts every event, keeps up to ``max_events`` when asked, feeds publishers."""

    def __init__(self, run_id: str, options: DriveOptions) -> None:
        self.run_id = run_id
        self.events: list[WorkflowEvent] = []
        self.count = 0
        self.truncated = False
        self._keep = options.include_events
        self._max = options.max_events
        self._publishers = options.publishers
        self._queue: asyncio.Queue[WorkflowEvent | None] | None = None
        self._pump: asyncio.Task[None] | None = None
        if self._publishers:
            self._queue = asyncio.Queue()
            self._pump = asyncio.ensure_future(self._publish_all())

    def __call__(self, event: WorkflowEvent) -> None:
        self.count += 1
        if self._keep:
            if self._max is None or len(self.events) < self._max:
                self.events.append(event)
            else:
                self.truncated = True
        if self._queue is not None:
            self._queue.put_nowait(event)

    async def _publish_all(self) -> None:
        assert self._queue is not None
        while (event := await self._queue.get()) is not None:
            for publish in self._publishers:
                try:
                    result = publish(self.run_id, event)
                    if asyncio.iscoroutine(result) or isinstance(result, Awaitable):
                        await result
                except Exception:  # best effort: a publisher never changes execution
                    _log.warning("publisher failed for run %s", self.run_id, exc_info=True)

    async def close(self) -> None:
        if self._queue is not None and self._pump is not None:
            self._queue.put_nowait(None)
            await self._pump


async def _heartbeat(store: WorkflowExecutionStore, run_id: str, options: DriveOptions) -> None:
    interval = max(options.lease_ms / 3000, 0.001)
    while True:
        await asyncio.sleep(interval)
        try:
            held = await store.heartbeat_run_lease(
                run_id=run_id,
                lease_owner=options.lease_owner,
                lease_ms=options.lease_ms,
                now=options.clock(),
            )
        except Exception:
            _log.warning("lease heartbeat failed for run %s", run_id, exc_info=True)
            continue
        if not held:
            _log.warning("lease on run %s was lost; the log's CAS protects its history", run_id)
            return


def _execution_after(run: WorkflowExecution, outcome: WorkflowOutcome) -> WorkflowExecution:
    # By the time this is reported the driver has let go of the lease, through the final
    # transition or ``release_run_lease``: never report the lease as still held.
    if outcome.run is None or not outcome.persisted:
        return run.model_copy(update={"lease_owner": None, "lease_expires_at": None})
    transition = RunTransition.from_run_state(outcome.run)
    return WorkflowExecution(
        **outcome.run.model_dump(),
        wake_at=transition.wake_at,
        wake_kind=transition.wake_kind,
        wake_step_id=transition.wake_step_id,
        lease_owner=None,
        lease_expires_at=None,
        next_index=outcome.next_index,
    )


_KINDS: dict[str, RunResultKind] = {
    "finished": "completed",
    "paused": "paused",
    "errored": "errored",
    "cancelled": "errored",
    "duplicate": "duplicate",
    "lost": "not-waiting",
    "not_found": "not-found",
}


async def drive_claimed_run(
    store: WorkflowExecutionStore,
    workflow: WorkflowDefinition[Any, Any, Any],
    run: WorkflowExecution,
    history: Sequence[WorkflowEvent],
    options: DriveOptions,
    *,
    signal_delivery: SignalDelivery | None = None,
    approval: ApprovalResult | None = None,
    expired_wait_id: str | None = None,
    suspended: SuspendedRuns | None = None,
    parked: SuspendedWorkflow | None = None,
) -> WorkflowRunResult:
    """Drive a run whose lease ``options.lease_owner`` holds; always leave the lease released
    (or handed back through the final transition).

    ``parked`` (taken from ``suspended`` and matching ``run``) continues a handler parked
    in this process instead of replaying ``history``; a handler that parks again is
    kept in ``suspended``.
    """
    collector = _Collector(run.run_id, options)
    heartbeat = asyncio.ensure_future(_heartbeat(store, run.run_id, options))
    released = False
    run_store = create_run_store_adapter(store, clock=options.clock)
    try:
        if parked is not None:
            outcome = await resume_workflow(
                parked,
                run_state=run.to_run_state(),
                next_index=run.next_index,
                run_store=run_store,
                emit=collector,
                clock=options.clock,
                deadline=options.deadline,
                min_yield_remaining_ms=options.min_yield_remaining_ms,
                signal_delivery=signal_delivery,
                approval=approval,
                expired_wait_id=expired_wait_id,
                yield_resume_at=options.now + 1,
                thread_id=options.thread_id,
            )
        else:
            outcome = await drive_workflow(
                workflow=workflow,
                run_store=run_store,
                emit=collector,
                run_id=run.run_id,
                recover=signal_delivery is None and approval is None and expired_wait_id is None,
                signal_delivery=signal_delivery,
                approval=approval,
                expired_wait_id=expired_wait_id,
                deadline=options.deadline,
                min_yield_remaining_ms=options.min_yield_remaining_ms,
                yield_resume_at=options.now + 1,
                clock=options.clock,
                telemetry=options.telemetry,
                thread_id=options.thread_id,
                run_state=run.to_run_state(),
                history=history,
                suspend=suspended is not None and suspended.enabled,
            )
        if outcome.suspended is not None:
            if suspended is not None:
                suspended.keep(outcome.suspended, workflow)
            else:
                outcome.suspended.discard()
        released = outcome.persisted and outcome.kind in (
            "finished",
            "paused",
            "errored",
            "cancelled",
        )
    except LogConflictError:
        latest = await store.load_run(run.run_id)
        return WorkflowRunResult(
            classify(latest),
            run.run_id,
            run.workflow_id,
            latest,
            collector.events,
            collector.count,
            collector.truncated,
            detail="another writer advanced the run's log",
        )
    finally:
        heartbeat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await heartbeat
        await collector.close()
        if not released:
            with contextlib.suppress(Exception):
                await store.release_run_lease(
                    run_id=run.run_id, lease_owner=options.lease_owner, now=options.clock()
                )
    if outcome.kind == "rejected":
        raise SignalRejectedError(
            "approval" if approval is not None else "signal payload",
            outcome.error.message if outcome.error else "rejected",
        )
    after = _execution_after(run, outcome)
    kind = _KINDS.get(outcome.kind) or classify(after)
    return WorkflowRunResult(
        kind,
        run.run_id,
        run.workflow_id,
        after,
        collector.events,
        collector.count,
        collector.truncated,
        detail=outcome.code if not outcome.persisted else None,
    )
