"""``PostgresWorkflowExecutionStore``: the ``WorkflowExecutionStore`` contract on Postgres.

Every method is one SQL statement in autocommit mode (see ``_statements``); only failure
paths (a lost CAS, a delivery racing another writer) spend a second one. Semantics match
the in-memory reference store exactly: same result kinds, same errors, same orderings.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

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
    WorkflowValidationError,
)
from tanstack_workflow.runtime import (
    CancelRunResult,
    ClaimRunResult,
    CreateRunResult,
    DeliveryResult,
    LoadedExecution,
    RunClaim,
    RunNotFoundError,
    RunTimeline,
    RunTransition,
    StoredWorkflowEvent,
    TimerWakeup,
    WakeKind,
    WorkflowExecution,
    check_limit,
    check_run_id,
    check_storable,
    split_awaiting,
    timer_signal_id,
)

from ._base import findable
from ._codec import (
    bigint,
    event_columns,
    event_json,
    events_from_text,
    json_text,
    run_from_row,
    text,
    transition_params,
    wire,
)
from ._connection import ConnectionSource
from ._schedules import ScheduleAndQueryMethods
from ._tables import PostgresWorkflowStoreTables


def _event_without_step_id(event: WorkflowEvent) -> str:
    """JSON text of a delivery event minus ``stepId`` (the statement splices it in)."""
    data = event.to_wire()
    data.pop("stepId", None)
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


class PostgresWorkflowExecutionStore(ScheduleAndQueryMethods):
    """A durable ``WorkflowExecutionStore`` on Postgres. Create with ``create_postgres_workflow_store``."""

    # -- runs --------------------------------------------------------------------------

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
        input_text = json_text(input, "run input")
        expires = now + (lease_ms or 0) if lease_owner else None
        # Built like the reference store builds it, so wrongly typed fields fail the same way.
        run = WorkflowExecution(
            run_id=run_id,
            status="running",
            workflow_id=workflow_id,
            workflow_version=workflow_version,
            created_at=now,
            updated_at=now,
            lease_owner=lease_owner,
            lease_expires_at=expires,
        )
        params = {
            "run_id": run_id,
            "input": input_text,
            "workflow_id": text(run.workflow_id, "workflow id"),
            "workflow_version": text(run.workflow_version, "workflow version"),
            "lease_owner": text(run.lease_owner, "lease owner"),
            "lease_expires_at": bigint(expires, "lease expiry"),
            "now": bigint(now, "now"),
        }
        # A create racing another create of the same id can see neither row (the INSERT
        # waited for the other commit, the SELECT's snapshot predates it): ask again.
        for _ in range(3):
            rows = await self._fetch(self._sql.create_run, **params)
            if rows:
                kind = "created" if rows[0]["created"] else "existing"
                return CreateRunResult(kind=kind, run=run_from_row(rows[0]))
        raise RuntimeError(f"create_run({run_id!r}) found neither a new nor an existing run")

    async def load_run(self, run_id: str) -> WorkflowExecution | None:
        if not findable(run_id):
            return None
        rows = await self._fetch(self._sql.load_run, run_id=run_id)
        return run_from_row(rows[0]) if rows else None

    async def load_execution(self, run_id: str, *, from_index: int = 0) -> LoadedExecution | None:
        if not findable(run_id):
            return None
        start = max(bigint(from_index, "from_index"), 0)
        rows = await self._fetch(self._sql.load_execution, run_id=run_id, from_index=start)
        if not rows:
            return None
        events = events_from_text(rows[0]["events"])
        if from_index < 0:  # a list slice, as in the reference store
            events = events[from_index:]
        return LoadedExecution(run=run_from_row(rows[0]), events=events)

    async def _transition(self, run_id: str, build: Callable[[], RunTransition], now: int) -> None:
        try:
            params = transition_params(build(), now)
        except (WorkflowValidationError, ValidationError):
            # The reference store reports an unknown run before judging the values.
            if not await self._exists(run_id):
                raise RunNotFoundError(run_id) from None
            raise
        if not findable(run_id) or not await self._fetch(
            self._sql.apply_transition, run_id=run_id, **params
        ):
            raise RunNotFoundError(run_id)

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

        def build() -> RunTransition:
            items = list(awaiting) if awaiting is not None else None
            waiting_for, pending = split_awaiting(items)
            return RunTransition(
                status="paused",
                awaiting=items,
                waiting_for=waiting_for,
                pending_approval=pending,
                wake_at=wake_at,
                wake_kind=wake_kind or ("timer" if wake_at is not None else None),
                wake_step_id=wake_step_id,
            )

        await self._transition(run_id, build, now)

    async def mark_run_finished(self, *, run_id: str, output: Any, now: int) -> None:
        check_storable(output, "run output")
        await self._transition(run_id, lambda: RunTransition(status="finished", output=output), now)

    async def mark_run_errored(
        self, *, run_id: str, error: SerializedError, code: str, now: int
    ) -> None:
        await self._transition(
            run_id, lambda: RunTransition(status="errored", error=error, error_code=code), now
        )

    # -- log -----------------------------------------------------------------------------

    async def append_events(
        self,
        *,
        run_id: str,
        expected_next_index: int,
        events: Sequence[WorkflowEvent],
        now: int,
        transition: RunTransition | None = None,
    ) -> int:
        if not findable(run_id):
            raise RunNotFoundError(run_id)
        one = len(events) == 1
        try:
            # Validated in the reference store's order: events, then the integers.
            if one:
                event_type, step_id, text_ = event_columns(events[0])
                params: dict[str, Any] = {"event_type": event_type, "step_id": step_id}
            else:
                texts = [event_json(event) for event in events]
                text_ = "[" + ",".join(texts) + "]"
                params = {"count": len(texts)}
            params["run_id"] = run_id
            params["expected"] = bigint(expected_next_index, "expected_next_index")
            params["events" if not one else "event"] = text_
            params["now"] = bigint(now, "now")
            if transition is not None:
                params.update(transition_params(transition, now))
        except WorkflowValidationError:
            # The reference store reports an unknown run before judging the events.
            if not await self._exists(run_id):
                raise RunNotFoundError(run_id) from None
            raise
        sql = self._sql
        if one:
            query = sql.append_event if transition is None else sql.append_event_with_transition
        else:
            query = sql.append_events if transition is None else sql.append_events_with_transition
        rows = await self._fetch(query, **params)
        if rows:
            return int(rows[0]["next_index"])
        current = await self._fetch(self._sql.next_index, run_id=run_id)
        if not current:
            raise RunNotFoundError(run_id)
        raise LogConflictError(run_id, expected_next_index, int(current[0]["next_index"]))

    async def read_events(self, run_id: str, *, from_index: int = 0) -> list[StoredWorkflowEvent]:
        if not findable(run_id):
            return []
        start = max(bigint(from_index, "from_index"), 0)
        rows = await self._fetch(self._sql.read_events, run_id=run_id, from_index=start)
        events = events_from_text(rows[0]["events"] if rows else None)
        return events[from_index:] if from_index < 0 else events

    # -- leases ------------------------------------------------------------------------------

    async def claim_run(
        self, *, run_id: str, lease_owner: str, lease_ms: int, now: int, with_events: bool = False
    ) -> ClaimRunResult:
        check_limit(lease_ms, "lease_ms", minimum=1)
        if not findable(run_id):
            return ClaimRunResult(kind="not-found")
        rows = await self._fetch(
            self._sql.claim_run,
            run_id=run_id,
            lease_owner=text(lease_owner, "lease owner"),
            lease_expires_at=bigint(now + lease_ms, "lease expiry"),
            now=bigint(now, "now"),
            with_events=with_events,
            from_index=0,
        )
        if not rows:
            return ClaimRunResult(kind="not-found")
        row = rows[0]
        run = run_from_row(row)
        if row["kind"] != "claimed":
            return ClaimRunResult(kind="not-claimable", run=run)
        events = None
        if with_events:
            events = events_from_text(row["events"])
            if len(events) < run.next_index:
                # The claim waited for a writer that committed after this statement's
                # snapshot: the run is current, the log read is not. Read the rest.
                events += await self.read_events(run_id, from_index=len(events))
                events = events[: run.next_index]
        return ClaimRunResult(kind="claimed", run=run, events=events)

    async def heartbeat_run_lease(
        self, *, run_id: str, lease_owner: str, lease_ms: int, now: int
    ) -> bool:
        if not findable(run_id) or not isinstance(lease_owner, str):
            return False
        rows = await self._fetch(
            self._sql.heartbeat,
            run_id=run_id,
            lease_owner=text(lease_owner, "lease owner"),
            lease_expires_at=bigint(now + lease_ms, "lease expiry"),
        )
        return bool(rows)

    async def release_run_lease(self, *, run_id: str, lease_owner: str, now: int) -> None:
        if findable(run_id) and isinstance(lease_owner, str):
            await self._fetch(
                self._sql.release, run_id=run_id, lease_owner=text(lease_owner, "lease owner")
            )

    async def claim_stale_runs(
        self, *, now: int, limit: int, lease_owner: str, lease_ms: int
    ) -> list[RunClaim]:
        params = self._claim_params(now, limit, lease_owner, lease_ms)
        if limit == 0:
            return []
        rows = await self._fetch(self._sql.claim_stale_runs, **params)
        runs = sorted(map(run_from_row, rows), key=lambda r: (r.updated_at, r.run_id))
        expires = params["lease_expires_at"]
        return [
            RunClaim(run=run, lease_owner=lease_owner, lease_expires_at=expires) for run in runs
        ]

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
        params = {
            "wake_at": bigint(wake_at, "wake_at"),
            "wake_kind": wake_kind,
            "wake_step_id": text(step_id, "step id"),
            "now": bigint(now, "now"),
        }
        if not findable(run_id) or not await self._fetch(
            self._sql.schedule_timer, run_id=run_id, **params
        ):
            raise RunNotFoundError(run_id)

    async def claim_due_timers(
        self, *, now: int, limit: int, lease_owner: str, lease_ms: int, with_events: bool = False
    ) -> list[TimerWakeup]:
        params = self._claim_params(now, limit, lease_owner, lease_ms)
        if limit == 0:
            return []
        if with_events:  # the leased rows and their logs, still one statement
            rows = await self._fetch(self._sql.claim_due_timers_with_events, **params, from_index=0)
        else:
            rows = await self._fetch(self._sql.claim_due_timers, **params)
        rows.sort(key=lambda row: (row["wake_at"], row["run_id"]))
        return [
            TimerWakeup(
                run_id=row["run_id"],
                workflow_id=row["workflow_id"],
                workflow_version=row["workflow_version"],
                wake_at=row["wake_at"],
                wake_kind=row["wake_kind"] or "timer",
                step_id=row["wake_step_id"],
                signal_id=timer_signal_id(row["run_id"], row["wake_step_id"], row["wake_at"]),
                lease_owner=lease_owner,
                lease_expires_at=params["lease_expires_at"],
                run=run_from_row(row) if with_events else None,
                events=events_from_text(row["events"]) if with_events else None,
            )
            for row in rows
        ]

    # -- deliveries ------------------------------------------------------------------------

    async def _deliver(self, query: str, params: dict[str, Any]) -> DeliveryResult:
        if not findable(params["run_id"]):
            return DeliveryResult(kind="not-found")
        for _ in range(10):
            rows = await self._fetch(query, **params)
            if not rows:
                return DeliveryResult(kind="not-found")
            row = rows[0]
            # "stale": another writer committed between this statement's snapshot and its
            # row lock, so its events (perhaps this very delivery) were invisible here and
            # the statement delivered nothing: ask again with a fresh snapshot.
            if row["kind"] == "delivered" or not row["stale"]:
                break
        return DeliveryResult(kind=row["kind"], run=run_from_row(row))

    async def deliver_signal(
        self, *, run_id: str, delivery: SignalDelivery, now: int
    ) -> DeliveryResult:
        check_storable(delivery.payload, "signal payload")
        check_storable(
            [delivery.signal_id, delivery.name, delivery.step_id, delivery.meta], "signal delivery"
        )
        event = SignalResolved(
            ts=now,
            step_id="",
            name=delivery.name,
            signal_id=delivery.signal_id,
            payload=delivery.payload,
            meta=delivery.meta,
        )
        params = {
            "run_id": run_id,
            "signal_id": text(delivery.signal_id, "signal id"),
            "name": text(delivery.name, "signal name"),
            "step_id": text(delivery.step_id, "step id"),
            "event_type": "SIGNAL_RESOLVED",
            "event": _event_without_step_id(event),
            "now": bigint(now, "now"),
        }
        return await self._deliver(self._sql.deliver_signal, params)

    async def deliver_approval(
        self, *, run_id: str, approval: ApprovalResult, now: int
    ) -> DeliveryResult:
        check_storable([approval.approval_id, approval.feedback, approval.meta], "approval")
        event = ApprovalResolved(
            ts=now,
            step_id="",
            approval_id=approval.approval_id,
            approved=approval.approved,
            feedback=approval.feedback,
            meta=approval.meta,
        )
        params = {
            "run_id": run_id,
            "approval_id": approval.approval_id,
            "approved": approval.approved,
            "feedback": approval.feedback,
            "event_type": "APPROVAL_RESOLVED",
            "event": _event_without_step_id(event),
            "now": bigint(now, "now"),
        }
        return await self._deliver(self._sql.deliver_approval, params)

    async def cancel_run(
        self, *, run_id: str, reason: str | None, now: int, code: str = "cancelled"
    ) -> CancelRunResult:
        check_storable([reason, code], "cancel reason")
        if not findable(run_id):
            return CancelRunResult(kind="not-found")
        error = SerializedError(name="WorkflowCancelled", message=reason or "Workflow cancelled.")
        event = RunErrored(ts=now, run_id=run_id, error=error, code=code)
        params = {
            "run_id": run_id,
            "error": json_text(wire(error), "cancel reason", limited=False),
            "code": code,
            "event": event_json(event),
            "now": bigint(now, "now"),
        }
        for _ in range(5):
            rows = await self._fetch(self._sql.cancel_run, **params)
            if not rows:
                return CancelRunResult(kind="not-found")
            run = run_from_row(rows[0])
            # A run that finished after this statement's snapshot shows its older,
            # non-terminal version: ask again for the current one.
            if rows[0]["kind"] == "cancelled" or run.is_terminal:
                break
        return CancelRunResult(kind=rows[0]["kind"], run=run)

    async def get_run_timeline(self, run_id: str) -> RunTimeline | None:
        loaded = await self.load_execution(run_id)
        return RunTimeline(run=loaded.run, events=loaded.events) if loaded is not None else None

    # -- core RunStore surface ---------------------------------------------------------------------

    async def load_run_state(self, run_id: str) -> RunState | None:
        run = await self.load_run(run_id)
        return run.to_run_state() if run is not None else None

    async def save_run_state(self, state: RunState, *, now: int) -> None:
        check_run_id(state.run_id)
        check_storable(state.input, "run input")
        check_storable(state.output, "run output")
        await self._fetch(
            self._sql.save_run_state,
            run_id=state.run_id,
            workflow_id=text(state.workflow_id, "workflow id"),
            workflow_version=text(state.workflow_version, "workflow version"),
            input=json_text(state.input, "run input"),
            output=json_text(state.output, "run output"),
            error=json_text(wire(state.error), "run error", limited=False),
            error_code=text(state.error_code, "error code"),
            created_at=bigint(state.created_at, "created_at"),
            **transition_params(RunTransition.from_run_state(state), now),
        )

    async def delete_run(self, run_id: str, reason: DeleteReason) -> None:
        if findable(run_id):
            await self._fetch(self._sql.delete_run, run_id=run_id)


def create_postgres_workflow_store(
    conninfo_or_pool: ConnectionSource,
    schema: str = "public",
    tables: PostgresWorkflowStoreTables | Mapping[str, str] | None = None,
) -> PostgresWorkflowExecutionStore:
    """A Postgres execution store.

    ``conninfo_or_pool`` is a conninfo string or URL (the store owns a connection pool,
    closed by ``await store.close()``), a ``psycopg_pool.AsyncConnectionPool`` or a
    ``psycopg.AsyncConnection`` (both owned and closed by the caller). ``schema`` and
    ``tables`` (a partial mapping such as ``{"runs": "my_runs"}``) choose where the data
    lives; names are validated and quoted, never interpolated. The schema must have been
    migrated, otherwise the first call raises ``StoreSchemaError``.
    """
    return PostgresWorkflowExecutionStore(conninfo_or_pool, schema=schema, tables=tables)
