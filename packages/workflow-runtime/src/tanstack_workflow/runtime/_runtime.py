"""``define_workflow_runtime``: start runs, deliver signals and approvals, cancel, query."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from tanstack_workflow.core import (
    ApprovalResolved,
    ApprovalResult,
    Clock,
    SignalDelivery,
    SignalResolved,
    WorkflowValidationError,
    new_run_id,
    system_clock,
    validate_input,
)

from ._driver import (
    DriveOptions,
    Publisher,
    RunResultKind,
    WorkflowRunResult,
    call_clock,
    classify,
    drive_claimed_run,
)
from ._models import RunPage, RunTimeline, StoredWorkflowEvent, WorkflowExecution
from ._registrations import WorkflowCatalog
from ._store import WorkflowExecutionStore
from ._suspended import DEFAULT_SUSPENDED_RUNS, SuspendedRuns
from ._sweep import sweep_runtime
from ._validation import check_limit, check_run_id

DEFAULT_LEASE_MS = 30_000
DEFAULT_MIN_YIELD_REMAINING_MS = 1_000


def new_lease_owner(prefix: str = "runtime") -> str:
    """A unique lease owner name for one driving call."""
    return f"{prefix}:{uuid.uuid4().hex[:12]}"


class WorkflowRuntime:
    """A runtime bound to one store and a set of workflow registrations.

    Every driving call accepts ``now``, ``deadline``, ``max_duration_ms``,
    ``min_yield_remaining_ms``, ``lease_owner``, ``lease_ms``, ``include_events``,
    ``max_events`` and ``publish``.

    ``suspended_runs`` bounds how many runs paused by this runtime stay parked in
    memory, so their next resume continues the handler instead of replaying the log
    (0 turns this off). A parked run is only continued while the store shows no other
    writer since it paused; otherwise it is replayed from the store as usual.
    """

    def __init__(
        self,
        *,
        store: WorkflowExecutionStore,
        workflows: Mapping[str, Any],
        default_lease_ms: int = DEFAULT_LEASE_MS,
        publish: Publisher | None = None,
        telemetry: Any = None,
        clock: Clock | None = None,
        concurrency: int = 8,
        suspended_runs: int = DEFAULT_SUSPENDED_RUNS,
    ) -> None:
        check_limit(default_lease_ms, "default_lease_ms", minimum=1)
        check_limit(concurrency, "concurrency", minimum=1)
        check_limit(suspended_runs, "suspended_runs")
        self.store = store
        self.catalog = WorkflowCatalog(workflows)
        self.default_lease_ms = default_lease_ms
        self.publish = publish
        self.telemetry = telemetry
        self.clock = clock or system_clock
        self.concurrency = concurrency
        self.suspended = SuspendedRuns(suspended_runs)

    @property
    def workflows(self) -> Mapping[str, Any]:
        """The normalized registrations by workflow id."""
        return self.catalog.registrations

    def options(
        self,
        *,
        now: int | None,
        deadline: int | None,
        max_duration_ms: int | None,
        min_yield_remaining_ms: int,
        lease_owner: str | None,
        lease_ms: int | None,
        include_events: bool,
        max_events: int | None,
        publish: Publisher | None,
        thread_id: str | None = None,
        owner_prefix: str = "runtime",
    ) -> DriveOptions:
        """Normalize the common options of a driving call."""
        start = self.clock() if now is None else now
        if max_duration_ms is not None:
            check_limit(max_duration_ms, "max_duration_ms", minimum=1)
            limit = start + max_duration_ms
            deadline = limit if deadline is None else min(deadline, limit)
        check_limit(min_yield_remaining_ms, "min_yield_remaining_ms")
        lease = (
            self.default_lease_ms
            if lease_ms is None
            else check_limit(lease_ms, "lease_ms", minimum=1)
        )
        if max_events is not None:
            check_limit(max_events, "max_events")
        publishers = [p for p in (self.publish, publish) if p is not None]
        return DriveOptions(
            now=start,
            clock=call_clock(start) if now is not None else self.clock,
            lease_owner=lease_owner or new_lease_owner(owner_prefix),
            lease_ms=lease,
            deadline=deadline,
            min_yield_remaining_ms=min_yield_remaining_ms,
            include_events=include_events,
            max_events=max_events,
            publishers=publishers,
            telemetry=self.telemetry,
            thread_id=thread_id,
        )

    async def start_run(
        self,
        *,
        workflow_id: str,
        input: Any = None,
        run_id: str | None = None,
        now: int | None = None,
        deadline: int | None = None,
        max_duration_ms: int | None = None,
        min_yield_remaining_ms: int = DEFAULT_MIN_YIELD_REMAINING_MS,
        lease_owner: str | None = None,
        lease_ms: int | None = None,
        include_events: bool = True,
        max_events: int | None = None,
        publish: Publisher | None = None,
        thread_id: str | None = None,
    ) -> WorkflowRunResult:
        """Create a run and drive it to completion or its first pause.

        Invalid input raises ``WorkflowValidationError`` and stores nothing. Starting an
        existing ``run_id`` attaches: it reports that run instead of starting it twice.
        """
        workflow = await self.catalog.get(workflow_id)
        input_json = validate_input(workflow, input)
        run_id = check_run_id(run_id) if run_id is not None else new_run_id()
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
            thread_id=thread_id,
        )
        created = await self.store.create_run(
            run_id=run_id,
            workflow_id=workflow_id,
            workflow_version=workflow.version,
            input=input_json,
            now=opts.now,
            lease_owner=opts.lease_owner,
            lease_ms=opts.lease_ms,
        )
        if created.kind == "existing":
            return await self._attach(created.run, opts)
        return await drive_claimed_run(
            self.store, workflow, created.run, [], opts, suspended=self.suspended
        )

    async def _attach(self, run: WorkflowExecution, opts: DriveOptions) -> WorkflowRunResult:
        # Report the stored log under the same include_events / max_events rules as a drive.
        stored = await self.store.read_events(run.run_id)
        kept = [s.event for s in stored] if opts.include_events else []
        truncated = opts.max_events is not None and len(kept) > opts.max_events
        if truncated:
            kept = kept[: opts.max_events]
        return WorkflowRunResult(
            classify(run),
            run.run_id,
            run.workflow_id,
            run,
            kept,
            len(stored),
            truncated,
            detail="existing run",
        )

    async def _claim_and_drive(
        self, run_id: str, opts: DriveOptions, **delivery: Any
    ) -> WorkflowRunResult:
        check_run_id(run_id)
        claim = await self.store.claim_run(
            run_id=run_id,
            lease_owner=opts.lease_owner,
            lease_ms=opts.lease_ms,
            now=opts.now,
            with_events=run_id not in self.suspended,  # a parked run needs no log read
        )
        if claim.kind == "not-found" or claim.run is None:
            self.suspended.drop(run_id)
            return WorkflowRunResult("not-found", run_id)
        run = claim.run
        if claim.kind == "not-claimable":
            kind: RunResultKind = "not-waiting" if run.is_terminal else "not-claimable"
            if run.is_terminal:
                self.suspended.drop(run_id)
                if await self._already_delivered(run_id, **delivery):
                    kind = "duplicate"  # a redelivery after the run ended is still a no-op
            return WorkflowRunResult(kind, run_id, run.workflow_id, run)
        return await self.drive_leased(run, opts, claim.events, **delivery)

    async def drive_leased(
        self,
        run: WorkflowExecution,
        opts: DriveOptions,
        events: list[StoredWorkflowEvent] | None,
        **delivery: Any,
    ) -> WorkflowRunResult:
        """Drive a run this call holds the lease of: continue its parked handler when
        this process has one matching ``run``, else replay ``events`` (read if ``None``)."""
        workflow = await self.catalog.get(run.workflow_id)
        parked = self.suspended.take(run, workflow)
        history = []
        if parked is None:
            stored = events if events is not None else await self.store.read_events(run.run_id)
            history = [s.event for s in stored]
        return await drive_claimed_run(
            self.store,
            workflow,
            run,
            history,
            opts,
            suspended=self.suspended,
            parked=parked,
            **delivery,
        )

    async def _already_delivered(
        self,
        run_id: str,
        *,
        signal_delivery: SignalDelivery | None = None,
        approval: ApprovalResult | None = None,
    ) -> bool:
        for stored in await self.store.read_events(run_id):
            event = stored.event
            if (
                signal_delivery is not None
                and isinstance(event, SignalResolved)
                and event.signal_id == signal_delivery.signal_id
                and event.name == signal_delivery.name
            ):
                return True
            if (
                approval is not None
                and isinstance(event, ApprovalResolved)
                and event.approval_id == approval.approval_id
            ):
                return event.approved == approval.approved and event.feedback == approval.feedback
        return False

    async def deliver_signal(
        self,
        *,
        run_id: str,
        signal_id: str,
        name: str,
        payload: Any = None,
        step_id: str | None = None,
        meta: dict[str, Any] | None = None,
        now: int | None = None,
        deadline: int | None = None,
        max_duration_ms: int | None = None,
        min_yield_remaining_ms: int = DEFAULT_MIN_YIELD_REMAINING_MS,
        lease_owner: str | None = None,
        lease_ms: int | None = None,
        include_events: bool = True,
        max_events: int | None = None,
        publish: Publisher | None = None,
    ) -> WorkflowRunResult:
        """Deliver signal ``name`` to a waiting run and drive it on.

        Same ``signal_id`` twice -> ``duplicate``; not waiting for it -> ``not-waiting``;
        a payload failing the wait's schema raises ``SignalRejectedError`` (run unchanged).
        """
        check_run_id(signal_id, "signal id")
        if not isinstance(name, str) or not name:
            raise WorkflowValidationError("signal name", f"{name!r} is not a non-empty string")
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
        )
        delivery = SignalDelivery(
            signal_id=signal_id, name=name, payload=payload, step_id=step_id, meta=meta
        )
        return await self._claim_and_drive(run_id, opts, signal_delivery=delivery)

    async def deliver_approval(
        self,
        *,
        run_id: str,
        approval: ApprovalResult | Mapping[str, Any],
        now: int | None = None,
        deadline: int | None = None,
        max_duration_ms: int | None = None,
        min_yield_remaining_ms: int = DEFAULT_MIN_YIELD_REMAINING_MS,
        lease_owner: str | None = None,
        lease_ms: int | None = None,
        include_events: bool = True,
        max_events: int | None = None,
        publish: Publisher | None = None,
    ) -> WorkflowRunResult:
        """Deliver a decision for the run's pending approval and drive it on."""
        decision = _coerce_approval(approval)
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
        )
        return await self._claim_and_drive(run_id, opts, approval=decision)

    async def cancel_run(
        self, *, run_id: str, reason: str | None = None, now: int | None = None
    ) -> WorkflowRunResult:
        """End a run with RUN_ERRORED code ``cancelled``; its timer and waits are cleared.

        A run being driven elsewhere stops at its next durable write (its CAS fails).
        """
        check_run_id(run_id)
        if reason is not None and not isinstance(reason, str):
            raise WorkflowValidationError("cancel reason", f"{reason!r} is not a string")
        result = await self.store.cancel_run(
            run_id=run_id, reason=reason, now=self.clock() if now is None else now
        )
        if result.kind == "not-found":
            return WorkflowRunResult("not-found", run_id)
        run = result.run
        detail = "cancelled" if result.kind == "cancelled" else "already terminal"
        return WorkflowRunResult(
            classify(run), run_id, run.workflow_id if run else None, run, detail=detail
        )

    async def list_runs(
        self,
        *,
        workflow_id: str | None = None,
        status: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> RunPage:
        """Runs, newest first; pass ``next_cursor`` back for the next page."""
        return await self.store.list_runs(
            workflow_id=workflow_id, status=status, limit=limit, cursor=cursor
        )

    async def get_run_timeline(self, run_id: str) -> RunTimeline | None:
        """A run and its whole event log."""
        return await self.store.get_run_timeline(run_id)

    async def close(self) -> None:
        """Unwind parked handlers and close the store's connections (if it holds any)."""
        await self.suspended.aclose()
        close = getattr(self.store, "close", None)
        if close is not None:
            await close()

    sweep = sweep_runtime


def _coerce_approval(value: ApprovalResult | Mapping[str, Any]) -> ApprovalResult:
    if isinstance(value, ApprovalResult):
        return value
    data = dict(value)
    try:
        approval_id = data.get("approval_id", data.get("approvalId"))
        approved = data["approved"]
    except KeyError as exc:
        raise WorkflowValidationError("approval", "needs 'approval_id' and 'approved'") from exc
    if not isinstance(approval_id, str) or not isinstance(approved, bool):
        raise WorkflowValidationError(
            "approval", "approval_id must be a string and approved a bool"
        )
    return ApprovalResult(
        approved=approved,
        approval_id=approval_id,
        feedback=data.get("feedback"),
        meta=data.get("meta"),
    )


def define_workflow_runtime(
    *,
    store: WorkflowExecutionStore,
    workflows: Mapping[str, Any],
    default_lease_ms: int = DEFAULT_LEASE_MS,
    publish: Publisher | None = None,
    telemetry: Any = None,
    concurrency: int = 8,
    suspended_runs: int = DEFAULT_SUSPENDED_RUNS,
) -> WorkflowRuntime:
    """A runtime over ``store`` for ``workflows`` (``{workflow_id: registration}``).

    A registration is a ``WorkflowRegistration``, a plain dict with the same keys
    (``load``, ``version``, ``previous_versions``, ``schedules``), or just a loader.
    ``concurrency`` bounds how many claimed runs one sweep drives at once;
    ``suspended_runs`` how many paused runs stay parked in memory for a fast resume.
    """
    return WorkflowRuntime(
        store=store,
        workflows=workflows,
        default_lease_ms=default_lease_ms,
        publish=publish,
        telemetry=telemetry,
        concurrency=concurrency,
        suspended_runs=suspended_runs,
    )
