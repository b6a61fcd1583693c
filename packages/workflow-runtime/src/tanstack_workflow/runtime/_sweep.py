"""The bounded sweep: recover stale runs, start due schedule buckets, fire due timers."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tanstack_workflow.core import (
    SignalDelivery,
    WorkflowDefinitionError,
    WorkflowValidationError,
    validate_input,
)

from ._driver import DriveOptions, Publisher, WorkflowRunResult, classify, drive_claimed_run
from ._models import ScheduleBucket, TimerWakeup, WorkflowExecution
from ._validation import check_limit

if TYPE_CHECKING:
    from ._runtime import WorkflowRuntime

_log = logging.getLogger("tanstack_workflow.runtime")

DEFAULT_SWEEP_LIMIT = 25
TERMINAL = ("finished", "errored", "aborted")


@dataclass
class SweepSummary:
    """Counts per result kind for each phase, and event totals."""

    recovered: dict[str, int] = field(default_factory=dict)
    scheduled: dict[str, int] = field(default_factory=dict)
    timers: dict[str, int] = field(default_factory=dict)
    event_count: int = 0
    returned_event_count: int = 0

    def to_wire(self) -> dict[str, Any]:
        """JSON-ready dict with camelCase keys."""
        return {
            "recovered": dict(self.recovered),
            "scheduled": dict(self.scheduled),
            "timers": dict(self.timers),
            "eventCount": self.event_count,
            "returnedEventCount": self.returned_event_count,
        }


@dataclass
class SweepResult:
    """What one sweep did. Per-run results are kept only with ``include_results``."""

    recovered: list[WorkflowRunResult] = field(default_factory=list)
    scheduled: list[WorkflowRunResult] = field(default_factory=list)
    timers: list[WorkflowRunResult] = field(default_factory=list)
    summary: SweepSummary = field(default_factory=SweepSummary)
    deadline_reached: bool = False
    remaining_may_exist: bool = False

    def to_wire(self) -> dict[str, Any]:
        """JSON-ready dict with camelCase keys."""
        return {
            "recovered": [r.to_wire() for r in self.recovered],
            "scheduled": [r.to_wire() for r in self.scheduled],
            "timers": [r.to_wire() for r in self.timers],
            "summary": self.summary.to_wire(),
            "deadlineReached": self.deadline_reached,
            "remainingMayExist": self.remaining_may_exist,
        }


class _Phase:
    """Streams results of one phase into counts (and, optionally, a list)."""

    def __init__(
        self,
        keep: bool,
        sink: list[WorkflowRunResult],
        summary: SweepSummary,
        counts: dict[str, int],
    ):
        self.keep, self.sink, self.summary, self.counts = keep, sink, summary, Counter[str]()
        self._target = counts
        self.done = 0

    def add(self, result: WorkflowRunResult) -> None:
        self.done += 1
        self.counts[result.kind] += 1
        self._target[result.kind] = self.counts[result.kind]
        self.summary.event_count += result.event_count
        if self.keep:
            self.summary.returned_event_count += len(result.events)
            self.sink.append(result)


def _limit(value: int | None, shared: int | None, label: str) -> int:
    chosen = value if value is not None else shared if shared is not None else DEFAULT_SWEEP_LIMIT
    return check_limit(chosen, label)


async def sweep_runtime(
    self: WorkflowRuntime,
    *,
    now: int | None = None,
    limit: int | None = None,
    max_recovered_runs: int | None = None,
    max_scheduled_runs: int | None = None,
    max_timers: int | None = None,
    deadline: int | None = None,
    max_duration_ms: int | None = None,
    min_yield_remaining_ms: int = 1_000,
    lease_owner: str | None = None,
    lease_ms: int | None = None,
    include_events: bool = True,
    include_results: bool | None = None,
    max_events: int | None = None,
    publish: Publisher | None = None,
) -> SweepResult:
    """One bounded pass: recover stale runs, start due schedule buckets, fire due timers.

    Each phase stops at its limit (``limit`` is the shared default, 25) or when the time
    budget runs low. Claimed runs are driven concurrently, at most ``concurrency`` at a
    time. With ``include_events=False`` (and ``include_results`` left unset) nothing per
    run is retained, so memory stays flat however many runs one sweep drives.
    """
    opts = self.options(
        now=now,
        deadline=deadline,
        max_duration_ms=max_duration_ms,
        min_yield_remaining_ms=min_yield_remaining_ms,
        lease_owner=lease_owner,
        lease_ms=lease_ms,
        include_events=include_events,
        max_events=max_events,
        publish=publish,
        owner_prefix="sweep",
    )
    keep = include_events if include_results is None else include_results
    result = SweepResult()
    phases = [
        (
            _limit(max_recovered_runs, limit, "max_recovered_runs"),
            result.recovered,
            result.summary.recovered,
        ),
        (
            _limit(max_scheduled_runs, limit, "max_scheduled_runs"),
            result.scheduled,
            result.summary.scheduled,
        ),
        (_limit(max_timers, limit, "max_timers"), result.timers, result.summary.timers),
    ]
    workers = (_recover_batch, _schedule_batch, _timer_batch)
    for (cap, sink, counts), work in zip(phases, workers, strict=True):
        phase = _Phase(keep, sink, result.summary, counts)
        exhausted = False
        while phase.done < cap:
            if _budget_low(opts):
                result.deadline_reached = True
                break
            batch = min(cap - phase.done, self.concurrency)
            claimed = await work(self, opts, batch, phase)
            if claimed < batch:
                exhausted = True
                break
        if not exhausted:
            result.remaining_may_exist = True
        if result.deadline_reached:
            break
    return result


def _budget_low(opts: DriveOptions) -> bool:
    return opts.deadline is not None and opts.deadline - opts.clock() <= opts.min_yield_remaining_ms


async def _isolated(
    drive: Callable[[Any], Awaitable[WorkflowRunResult]], item: Any
) -> WorkflowRunResult:
    """Drive one claimed item; a definition problem (workflow not registered here, a
    loader failing) fails that item only, so one bad run cannot fail every sweep."""
    try:
        return await drive(item)
    except WorkflowDefinitionError as exc:
        _log.warning("sweep could not drive run %s: %s", item.run_id, exc)
        return WorkflowRunResult(
            "errored",
            item.run_id,
            item.workflow_id,
            detail=f"{type(exc).__name__}: {exc} (left leased; retried once the lease expires)",
        )


async def _drive_all(
    self: WorkflowRuntime,
    items: Sequence[Any],
    drive: Callable[[Any], Awaitable[WorkflowRunResult]],
    phase: _Phase,
) -> None:
    results = await asyncio.gather(
        *(_isolated(drive, item) for item in items), return_exceptions=True
    )
    errors = [r for r in results if isinstance(r, BaseException)]
    for item in results:
        if isinstance(item, WorkflowRunResult):
            phase.add(item)
    if errors:
        raise errors[0]


async def _recover_batch(
    self: WorkflowRuntime, opts: DriveOptions, batch: int, phase: _Phase
) -> int:
    claims = await self.store.claim_stale_runs(
        now=opts.clock(), limit=batch, lease_owner=opts.lease_owner, lease_ms=opts.lease_ms
    )

    async def drive(run: WorkflowExecution) -> WorkflowRunResult:
        return await self.drive_leased(run, opts, None)

    await _drive_all(self, [c.run for c in claims], drive, phase)
    return len(claims)


async def _timer_batch(self: WorkflowRuntime, opts: DriveOptions, batch: int, phase: _Phase) -> int:
    wakeups = await self.store.claim_due_timers(
        now=opts.clock(),
        limit=batch,
        lease_owner=opts.lease_owner,
        lease_ms=opts.lease_ms,
        with_events=True,  # the claim brings each run and its log: no read per timer
    )

    async def drive(wakeup: TimerWakeup) -> WorkflowRunResult:
        # drive_leased reads the log itself if a store left ``events`` unset.
        run = wakeup.run or await self.store.load_run(wakeup.run_id)
        events = wakeup.events
        if run is None:
            return WorkflowRunResult("not-found", wakeup.run_id, wakeup.workflow_id)
        if wakeup.wake_kind == "deadline":
            return await self.drive_leased(run, opts, events, expired_wait_id=wakeup.step_id)
        delivery = SignalDelivery(
            signal_id=wakeup.signal_id, name="__timer", step_id=wakeup.step_id
        )
        return await self.drive_leased(run, opts, events, signal_delivery=delivery)

    await _drive_all(self, wakeups, drive, phase)
    return len(wakeups)


async def _schedule_batch(
    self: WorkflowRuntime, opts: DriveOptions, batch: int, phase: _Phase
) -> int:
    buckets = await self.store.claim_due_schedule_buckets(
        now=opts.clock(), limit=batch, lease_owner=opts.lease_owner, lease_ms=opts.lease_ms
    )
    for bucket in buckets:  # sequential: overlap checks look at the schedule's previous run
        phase.add(await _isolated(lambda b: _start_bucket(self, opts, b), bucket))
    return len(buckets)


async def _start_bucket(
    self: WorkflowRuntime, opts: DriveOptions, bucket: ScheduleBucket
) -> WorkflowRunResult:
    previous: WorkflowExecution | None = None
    if bucket.previous_run_id and bucket.previous_run_id != bucket.run_id:
        previous = await self.store.load_run(bucket.previous_run_id)
    active = previous is not None and previous.status not in TERMINAL
    policy = bucket.overlap_policy
    if active and previous is not None:
        if policy == "skip":
            await self.store.mark_schedule_bucket_started(
                schedule_id=bucket.schedule_id,
                bucket_id=bucket.bucket_id,
                run_id=previous.run_id,
                now=opts.clock(),
            )
            return WorkflowRunResult(
                "skipped", bucket.run_id, bucket.workflow_id, detail="previous run still active"
            )
        if policy == "buffer-one":
            # Leave the bucket claimed: once its lease lapses a later sweep retries it,
            # and a newer tick replaces it, so at most one tick waits.
            return WorkflowRunResult(
                "skipped", bucket.run_id, bucket.workflow_id, detail="buffered behind previous run"
            )
        if policy in ("cancel-previous", "terminate-previous"):
            code = "cancelled" if policy == "cancel-previous" else "terminated"
            await self.store.cancel_run(
                run_id=previous.run_id,
                reason=f"superseded by schedule bucket {bucket.bucket_id}",
                now=opts.clock(),
                code=code,
            )
    workflow = await self.catalog.get(bucket.workflow_id)
    try:
        input_json = validate_input(workflow, bucket.input)
    except WorkflowValidationError as exc:
        await self.store.mark_schedule_bucket_started(
            schedule_id=bucket.schedule_id,
            bucket_id=bucket.bucket_id,
            run_id=bucket.run_id,
            now=opts.clock(),
        )
        return WorkflowRunResult("errored", bucket.run_id, bucket.workflow_id, detail=str(exc))
    created = await self.store.create_run(
        run_id=bucket.run_id,
        workflow_id=bucket.workflow_id,
        workflow_version=workflow.version,
        input=input_json,
        now=opts.clock(),
        lease_owner=opts.lease_owner,
        lease_ms=opts.lease_ms,
    )
    await self.store.mark_schedule_bucket_started(
        schedule_id=bucket.schedule_id,
        bucket_id=bucket.bucket_id,
        run_id=bucket.run_id,
        now=opts.clock(),
    )
    if created.kind == "existing":
        return WorkflowRunResult(
            classify(created.run), bucket.run_id, bucket.workflow_id, created.run
        )
    return await drive_claimed_run(
        self.store, workflow, created.run, [], opts, suspended=self.suspended
    )
