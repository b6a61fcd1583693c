"""Deliveries, cancellation and schedules of the D1 store.

A delivery reads the run (one statement), decides in Python exactly as the in-memory
store does, then commits with one batch guarded by what it read (``next_index``,
``status`` and the wait's stored JSON). A guard that no longer holds means another
writer got there first: the delivery reads again and re-decides.
"""

from __future__ import annotations

from typing import Any

from tanstack_workflow.core import (
    ApprovalResolved,
    ApprovalResult,
    LogConflictError,
    RunErrored,
    SerializedError,
    SignalDelivery,
    WorkflowEvent,
    parse_event,
)
from tanstack_workflow.runtime import (
    CancelRunResult,
    DeliveryResult,
    OverlapPolicy,
    RunTransition,
    ScheduleBucket,
    ScheduleRecord,
    ScheduleSpec,
    WorkflowExecution,
    approval_resolution,
    bucket_run_id,
    check_limit,
    check_run_id,
    check_storable,
    same_decision,
    signal_resolution,
)

from ._binding import Row
from ._rows import (
    RUN_COLUMNS,
    SCHEDULE_COLUMNS,
    TERMINAL_SQL,
    column_list,
    dump_json,
    event_json,
    load_json,
    placeholder,
    run_from_row,
    schedule_from_row,
    set_clause,
    transition_columns,
)
from ._store_base import D1StoreBase, Statement

MAX_DELIVERY_ATTEMPTS = 20
"""Re-reads a delivery makes while other writers keep changing the run."""

_BUCKET_SNAPSHOT = (
    "workflow_id",
    "workflow_version",
    "fire_at",
    "input",
    "overlap_policy",
    "previous_run_id",
    "lease_owner",
    "lease_expires_at",
)


class D1CoordinationMixin(D1StoreBase):
    """``deliver_signal``, ``deliver_approval``, ``cancel_run`` and the schedule methods."""

    # -- deliveries ----------------------------------------------------------------

    async def _read_for_delivery(self, run_id: str, probe_sql: str, *probe: Any) -> Row | None:
        rows = await self._all(
            f"SELECT {column_list(RUN_COLUMNS, 'r.')}, ({probe_sql}) AS probe "
            f"FROM {self._runs} AS r WHERE r.run_id = ?",
            *probe,
            run_id,
        )
        return rows[0] if rows else None

    async def _resume(
        self, row: Row, event: WorkflowEvent, wait_column: str, now: int
    ) -> WorkflowExecution | None:
        """Append ``event`` and set the run running, unless the run changed since ``row``."""
        run_id, index = row["run_id"], row["next_index"]
        guard = (
            "run_id = ? AND next_index = CAST(? AS INTEGER) AND status = 'paused' "
            f"AND {wait_column} IS ?"
        )
        guard_params = (run_id, index, row[wait_column])
        values = transition_columns(RunTransition(status="running"), now)
        values.update(next_index=index + 1, lease_owner=None, lease_expires_at=None)
        clause, params = set_clause(values)
        step_id = getattr(event, "step_id", None)
        _, updated = await self._batch(
            [
                (
                    f"INSERT INTO {self._events} ({self._event_cols}) SELECT ?, CAST(? AS INTEGER), "
                    f"?, ?, ?, CAST(? AS INTEGER) WHERE EXISTS (SELECT 1 FROM {self._runs} WHERE {guard})",
                    (run_id, index, event.type, step_id, event_json(event), now, *guard_params),
                ),
                (
                    f"UPDATE {self._runs} SET {clause} WHERE {guard} RETURNING {self._run_cols}",
                    (*params, *guard_params),
                ),
            ]
        )
        return run_from_row(updated.results[0]) if updated.results else None

    async def deliver_signal(
        self, *, run_id: str, delivery: SignalDelivery, now: int
    ) -> DeliveryResult:
        """Record a signal for the wait it matches and set the run ``running`` (unleased)."""
        check_storable(delivery.payload, "signal payload")
        ids = [delivery.signal_id, delivery.name, delivery.step_id, delivery.meta]
        check_storable(ids, "signal delivery")
        probe = (
            f"SELECT EXISTS (SELECT 1 FROM {self._events} AS e WHERE e.run_id = r.run_id "
            "AND e.event_type = 'SIGNAL_RESOLVED' AND json_extract(e.event, '$.signalId') = ? "
            "AND json_extract(e.event, '$.name') = ?)"
        )
        for _ in range(MAX_DELIVERY_ATTEMPTS):
            row = await self._read_for_delivery(run_id, probe, delivery.signal_id, delivery.name)
            if row is None:
                return DeliveryResult(kind="not-found")
            run = run_from_row(row)
            if row["probe"]:
                return DeliveryResult(kind="duplicate", run=run)
            event = signal_resolution(run, delivery, now)
            if event is None:
                return DeliveryResult(kind="not-waiting", run=run)
            resumed = await self._resume(row, event, "waiting_for", now)
            if resumed is not None:
                return DeliveryResult(kind="delivered", run=resumed)
        assert row is not None  # the loop ran and every attempt read a row
        raise LogConflictError(run_id, row["next_index"])  # other writers kept winning

    async def deliver_approval(
        self, *, run_id: str, approval: ApprovalResult, now: int
    ) -> DeliveryResult:
        """Record a decision for the pending approval and set the run ``running`` (unleased)."""
        check_storable([approval.approval_id, approval.feedback, approval.meta], "approval")
        probe = (
            f"SELECT e.event FROM {self._events} AS e WHERE e.run_id = r.run_id "
            "AND e.event_type = 'APPROVAL_RESOLVED' AND json_extract(e.event, '$.approvalId') = ? "
            "ORDER BY e.event_index LIMIT 1"
        )
        for _ in range(MAX_DELIVERY_ATTEMPTS):
            row = await self._read_for_delivery(run_id, probe, approval.approval_id)
            if row is None:
                return DeliveryResult(kind="not-found")
            run = run_from_row(row)
            if row["probe"] is not None:
                resolved = parse_event(row["probe"])
                assert isinstance(resolved, ApprovalResolved)
                kind = "duplicate" if same_decision(resolved, approval) else "not-waiting"
                return DeliveryResult(kind=kind, run=run)
            decided = approval_resolution(run, approval, now)
            if decided is None:
                return DeliveryResult(kind="not-waiting", run=run)
            event = decided
            resumed = await self._resume(row, event, "pending_approval", now)
            if resumed is not None:
                return DeliveryResult(kind="delivered", run=resumed)
        assert row is not None  # the loop ran and every attempt read a row
        raise LogConflictError(run_id, row["next_index"])  # other writers kept winning

    async def cancel_run(
        self, *, run_id: str, reason: str | None, now: int, code: str = "cancelled"
    ) -> CancelRunResult:
        """End a non-terminal run with RUN_ERRORED ``code`` in one batch (no prior read)."""
        check_storable([reason, code], "cancel reason")
        error = SerializedError(name="WorkflowCancelled", message=reason or "Workflow cancelled.")
        event = RunErrored(ts=now, run_id=run_id, error=error, code=code)
        values = transition_columns(
            RunTransition(status="aborted", error=error, error_code=code), now
        )
        clause, params = set_clause(values)
        live = f"run_id = ? AND status NOT IN {TERMINAL_SQL}"
        _, updated = await self._batch(
            [
                (
                    f"INSERT INTO {self._events} ({self._event_cols}) SELECT run_id, next_index, ?, "
                    f"NULL, ?, CAST(? AS INTEGER) FROM {self._runs} WHERE {live}",
                    (event.type, event_json(event), now, run_id),
                ),
                (
                    f"UPDATE {self._runs} SET {clause}, next_index = next_index + 1 WHERE {live} "
                    f"RETURNING {self._run_cols}",
                    (*params, run_id),
                ),
            ]
        )
        if updated.results:
            return CancelRunResult(kind="cancelled", run=run_from_row(updated.results[0]))
        run = await self.load_run(run_id)
        if run is None:
            return CancelRunResult(kind="not-found")
        return CancelRunResult(kind="already-terminal", run=run)

    # -- schedules -----------------------------------------------------------------

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
        """Create or update a schedule (keeping its ``last_run_id``) in one upsert."""
        check_run_id(schedule_id)
        check_storable(input, "schedule input")
        record = ScheduleRecord(  # validates like the in-memory store does
            schedule_id=schedule_id,
            workflow_id=workflow_id,
            workflow_version=workflow_version,
            spec=spec,
            overlap_policy=overlap_policy,
            input=input,
            next_fire_at=next_fire_at,
            next_bucket_id=next_bucket_id,
            enabled=enabled,
            updated_at=now,
        )
        values = {
            "schedule_id": record.schedule_id,
            "workflow_id": record.workflow_id,
            "workflow_version": record.workflow_version,
            "spec": dump_json(record.spec),
            "overlap_policy": record.overlap_policy,
            "input": dump_json(record.input),
            "next_fire_at": record.next_fire_at,
            "next_bucket_id": record.next_bucket_id,
            "enabled": 1 if record.enabled else 0,
            "updated_at": record.updated_at,
        }
        updates = ", ".join(f'"{c}" = excluded."{c}"' for c in values if c != "schedule_id")
        await self._all(
            f"INSERT INTO {self._schedules} ({column_list(list(values))}) "
            f"VALUES ({', '.join(placeholder(c) for c in values)}) "
            f"ON CONFLICT (schedule_id) DO UPDATE SET {updates}",
            *values.values(),
        )

    async def list_schedules(self) -> list[ScheduleRecord]:
        """Every stored schedule, ordered by id."""
        rows = await self._all(
            f"SELECT {column_list(SCHEDULE_COLUMNS)} FROM {self._schedules} ORDER BY schedule_id"
        )
        return [schedule_from_row(row) for row in rows]

    async def claim_due_schedule_buckets(
        self, *, now: int, limit: int, lease_owner: str, lease_ms: int
    ) -> list[ScheduleBucket]:
        """Lease up to ``limit`` due, not yet started buckets with one INSERT ... ON CONFLICT."""
        check_limit(limit, "limit")
        if limit == 0:
            return []
        expires = now + lease_ms
        columns = ["schedule_id", "bucket_id", "status", *_BUCKET_SNAPSHOT]
        updates = ", ".join(f'"{c}" = excluded."{c}"' for c in ["status", *_BUCKET_SNAPSHOT])
        rows = await self._all(
            f"INSERT INTO {self._buckets} ({column_list(columns)}) "
            "SELECT s.schedule_id, s.next_bucket_id, 'claimed', s.workflow_id, s.workflow_version, "
            "s.next_fire_at, s.input, s.overlap_policy, s.last_run_id, ?, CAST(? AS INTEGER) "
            f"FROM {self._schedules} AS s LEFT JOIN {self._buckets} AS b "
            "ON b.schedule_id = s.schedule_id AND b.bucket_id = s.next_bucket_id "
            "WHERE s.enabled = 1 AND s.next_fire_at IS NOT NULL AND s.next_bucket_id IS NOT NULL "
            "AND s.next_fire_at <= CAST(? AS INTEGER) AND (b.schedule_id IS NULL OR "
            "(b.status <> 'started' AND (b.lease_owner = ? OR COALESCE(b.lease_expires_at, 0) "
            "<= CAST(? AS INTEGER)))) ORDER BY s.next_fire_at, s.schedule_id "
            f"LIMIT CAST(? AS INTEGER) ON CONFLICT (schedule_id, bucket_id) DO UPDATE SET {updates} "
            f"RETURNING {column_list(['schedule_id', 'bucket_id', *_BUCKET_SNAPSHOT])}",
            lease_owner,
            expires,
            now,
            lease_owner,
            now,
            limit,
        )
        rows.sort(key=lambda r: (r["fire_at"], r["schedule_id"]))
        return [
            ScheduleBucket(
                schedule_id=r["schedule_id"],
                bucket_id=r["bucket_id"],
                workflow_id=r["workflow_id"],
                workflow_version=r["workflow_version"],
                run_id=bucket_run_id(r["workflow_id"], r["schedule_id"], r["bucket_id"]),
                fire_at=r["fire_at"],
                input=load_json(r["input"]),
                overlap_policy=r["overlap_policy"],
                previous_run_id=r["previous_run_id"],
                lease_owner=lease_owner,
                lease_expires_at=expires,
            )
            for r in rows
        ]

    async def mark_schedule_bucket_started(
        self, *, schedule_id: str, bucket_id: str, run_id: str, now: int
    ) -> None:
        """Mark a bucket started (never handed out again) and remember its run, in one batch."""
        statements: list[Statement] = [
            (
                f"INSERT INTO {self._buckets} (schedule_id, bucket_id, status, run_id, lease_owner, "
                "lease_expires_at) VALUES (?, ?, 'started', ?, NULL, 0) "
                "ON CONFLICT (schedule_id, bucket_id) DO UPDATE SET status = 'started', "
                "run_id = excluded.run_id, lease_owner = NULL, lease_expires_at = 0",
                (schedule_id, bucket_id, run_id),
            ),
            (
                f"UPDATE {self._schedules} SET last_run_id = ?, updated_at = CAST(? AS INTEGER) "
                "WHERE schedule_id = ?",
                (run_id, now, schedule_id),
            ),
        ]
        await self._batch(statements)
