"""``create_cloudflare_d1_workflow_store``: the execution store on D1's rules.

D1 has no interactive transactions: every state change here is ONE conditional
statement (``UPDATE ... WHERE ... RETURNING`` as a compare-and-swap, ``INSERT ... ON
CONFLICT``) or ONE ``batch()``. An append is a batch whose INSERTs are guarded by
``EXISTS (runs.next_index = expected)`` and whose final UPDATE moves ``next_index``
under the same condition, so a lost race inserts nothing. Claims are conditional
updates of the lease columns; nothing holds a row lock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tanstack_workflow.core import (
    DeleteReason,
    LogConflictError,
    RunState,
    SerializedError,
    WorkflowEvent,
    WorkflowValidationError,
)
from tanstack_workflow.runtime import (
    ClaimRunResult,
    CreateRunResult,
    LoadedExecution,
    RunClaim,
    RunNotFoundError,
    RunPage,
    RunTimeline,
    RunTransition,
    StoredWorkflowEvent,
    TimerWakeup,
    WakeKind,
    check_limit,
    check_run_id,
    check_storable,
    split_awaiting,
    timer_signal_id,
)

from ._binding import D1Database
from ._rows import (
    SUMMARY_COLUMNS,
    TERMINAL_SQL,
    column_list,
    decode_cursor,
    dump_json,
    encode_cursor,
    event_from_row,
    placeholder,
    run_from_row,
    set_clause,
    summary_from_row,
    transition_columns,
)
from ._schema import (
    MIGRATIONS_TABLE,
    D1StoreTables,
    get_cloudflare_d1_workflow_store_migrations,
    quote_identifier,
    split_statements,
)
from ._store_base import Statement
from ._store_coordination import D1CoordinationMixin

EVENTS_PER_INSERT = 16
"""Events per INSERT: 16 rows x 6 columns + 2 guard parameters stays under D1's 100."""

_LIVE_LEASE_FREE = "(lease_owner IS NULL OR COALESCE(lease_expires_at, 0) <= CAST(? AS INTEGER))"


class CloudflareD1WorkflowStore(D1CoordinationMixin):
    """A ``WorkflowExecutionStore`` on Cloudflare D1 (or a binding with D1's semantics)."""

    def __init__(
        self, db: D1Database, tables: Mapping[str, str] | D1StoreTables | None = None
    ) -> None:
        super().__init__(db, tables)

    # -- schema --------------------------------------------------------------------

    async def ensure_schema(self) -> None:
        """Apply the package migrations in one batch and record them in ``d1_migrations``.

        Meant for tests, demos and local files; deployments apply the same files with
        ``wrangler d1 migrations apply``. Safe to call repeatedly.
        """
        migrations_table = quote_identifier(MIGRATIONS_TABLE)
        statements: list[Statement] = [
            (
                f"CREATE TABLE IF NOT EXISTS {migrations_table} ("
                "id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, "
                "applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL)",
                (),
            )
        ]
        for name, sql in get_cloudflare_d1_workflow_store_migrations(self.tables):
            statements.extend((statement, ()) for statement in split_statements(sql))
            statements.append(
                (
                    f"INSERT INTO {migrations_table} (name) VALUES (?) ON CONFLICT (name) DO NOTHING",
                    (name,),
                )
            )
        await self._batch(statements)

    async def close(self) -> None:
        """Close the binding (a local SQLite file or an owned HTTP client)."""
        close = getattr(self.db, "close", None)
        if callable(close):
            await close()

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
        """Create a ``running`` run (leased to ``lease_owner`` if given) or return the existing one."""
        check_run_id(run_id)
        input_json = check_storable(input, "run input")
        expires = now + (lease_ms or 0) if lease_owner else None
        insert = (
            f"INSERT INTO {self._runs} (run_id, workflow_id, workflow_version, status, input, "
            "lease_owner, lease_expires_at, next_index, created_at, updated_at) "
            "VALUES (?, ?, ?, 'running', ?, ?, CAST(? AS INTEGER), 0, CAST(? AS INTEGER), "
            f"CAST(? AS INTEGER)) ON CONFLICT (run_id) DO NOTHING RETURNING {self._run_cols}"
        )
        params = (run_id, workflow_id, workflow_version, input_json, lease_owner, expires, now, now)
        while True:
            rows = await self._all(insert, *params)
            if rows:
                return CreateRunResult(kind="created", run=run_from_row(rows[0]))
            existing = await self.load_run(run_id)
            if existing is not None:  # else it was deleted in between: insert again
                return CreateRunResult(kind="existing", run=existing)

    async def load_execution(self, run_id: str, *, from_index: int = 0) -> LoadedExecution | None:
        """The run and its events from ``from_index`` on, in one read."""
        run_result, events_result = await self._batch(
            [self._select_run(run_id), self._select_events(run_id, from_index)]
        )
        if not run_result.results:
            return None
        events = [event_from_row(row) for row in events_result.results]
        return LoadedExecution(run=run_from_row(run_result.results[0]), events=events)

    async def _update_run(self, run_id: str, values: dict[str, Any]) -> None:
        clause, params = set_clause(values)
        rows = await self._all(
            f"UPDATE {self._runs} SET {clause} WHERE run_id = ? RETURNING run_id", *params, run_id
        )
        if not rows:
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
        """Set the run ``paused`` on ``awaiting``, arm or disarm its timer, release its lease."""
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
        await self._update_run(run_id, transition_columns(transition, now))

    async def mark_run_finished(self, *, run_id: str, output: Any, now: int) -> None:
        """Set the run ``finished`` with ``output``; release its lease and timer."""
        check_storable(output, "run output")
        transition = RunTransition(status="finished", output=output)
        await self._update_run(run_id, transition_columns(transition, now))

    async def mark_run_errored(
        self, *, run_id: str, error: SerializedError, code: str, now: int
    ) -> None:
        """Set the run ``errored``; release its lease and timer."""
        transition = RunTransition(status="errored", error=error, error_code=code)
        await self._update_run(run_id, transition_columns(transition, now))

    # -- event log -----------------------------------------------------------------

    async def append_events(
        self,
        *,
        run_id: str,
        expected_next_index: int,
        events: Sequence[WorkflowEvent],
        now: int,
        transition: RunTransition | None = None,
    ) -> int:
        """CAS-append ``events`` (and apply ``transition``) in one atomic batch."""
        try:
            # the python-mode dump keeps the caller's values, so a set or bytes is refused
            texts = [
                check_storable(e.model_dump(by_alias=True, exclude_none=True), f"{e.type} event")
                for e in events
            ]
            if transition is not None:
                check_storable(transition.output, "run output")
        except WorkflowValidationError:
            if await self.load_run(run_id) is None:  # a missing run is reported first
                raise RunNotFoundError(run_id) from None
            raise
        guard = f"EXISTS (SELECT 1 FROM {self._runs} WHERE run_id = ? AND next_index = CAST(? AS INTEGER))"
        statements: list[Statement] = []
        for start in range(0, len(events), EVENTS_PER_INSERT):
            chunk = range(start, min(start + EVENTS_PER_INSERT, len(events)))
            rows = ", ".join("(?, CAST(? AS INTEGER), ?, ?, ?, CAST(? AS INTEGER))" for _ in chunk)
            params: list[Any] = []
            for i in chunk:
                event = events[i]
                step_id = getattr(event, "step_id", None)
                params += [run_id, expected_next_index + i, event.type, step_id, texts[i], now]
            statements.append(
                (
                    f"INSERT INTO {self._events} ({self._event_cols}) "
                    f"SELECT * FROM (VALUES {rows}) WHERE {guard}",
                    [*params, run_id, expected_next_index],
                )
            )
        next_index = expected_next_index + len(events)
        values: dict[str, Any] = {"next_index": next_index, "updated_at": now}
        if transition is not None:
            values.update(transition_columns(transition, now))
        clause, set_params = set_clause(values)
        statements.append(
            (
                f"UPDATE {self._runs} SET {clause} "
                "WHERE run_id = ? AND next_index = CAST(? AS INTEGER) RETURNING next_index",
                [*set_params, run_id, expected_next_index],
            )
        )
        results = await self._batch(statements)
        if results[-1].results:
            return next_index
        current = await self.load_run(run_id)
        if current is None:
            raise RunNotFoundError(run_id)
        raise LogConflictError(run_id, expected_next_index, current.next_index)

    async def read_events(self, run_id: str, *, from_index: int = 0) -> list[StoredWorkflowEvent]:
        """The run's events from ``from_index`` on, in order."""
        rows = await self._query(self._select_events(run_id, from_index))
        return [event_from_row(row) for row in rows]

    # -- leases --------------------------------------------------------------------

    async def claim_run(
        self, *, run_id: str, lease_owner: str, lease_ms: int, now: int, with_events: bool = False
    ) -> ClaimRunResult:
        """Lease the run to ``lease_owner`` with one conditional UPDATE."""
        check_limit(lease_ms, "lease_ms", minimum=1)
        claim: Statement = (
            f"UPDATE {self._runs} SET lease_owner = ?, lease_expires_at = CAST(? AS INTEGER) "
            f"WHERE run_id = ? AND status NOT IN {TERMINAL_SQL} "
            f"AND ({_LIVE_LEASE_FREE} OR lease_owner = ?) RETURNING {self._run_cols}",
            (lease_owner, now + lease_ms, run_id, now, lease_owner),
        )
        loaded: list[StoredWorkflowEvent] | None = None
        if with_events:
            claimed, events = await self._batch([claim, self._select_events(run_id)])
            rows = claimed.results
            loaded = [event_from_row(r) for r in events.results]
        else:
            rows = await self._query(claim)
        if rows:
            return ClaimRunResult(kind="claimed", run=run_from_row(rows[0]), events=loaded)
        run = await self.load_run(run_id)
        if run is None:
            return ClaimRunResult(kind="not-found")
        return ClaimRunResult(kind="not-claimable", run=run)

    async def heartbeat_run_lease(
        self, *, run_id: str, lease_owner: str, lease_ms: int, now: int
    ) -> bool:
        """Extend the lease if ``lease_owner`` still holds it; False when it was lost."""
        rows = await self._all(
            f"UPDATE {self._runs} SET lease_expires_at = CAST(? AS INTEGER) "
            f"WHERE run_id = ? AND lease_owner = ? AND status NOT IN {TERMINAL_SQL} RETURNING run_id",
            now + lease_ms,
            run_id,
            lease_owner,
        )
        return bool(rows)

    async def release_run_lease(self, *, run_id: str, lease_owner: str, now: int) -> None:
        """Drop the lease if ``lease_owner`` holds it."""
        await self._all(
            f"UPDATE {self._runs} SET lease_owner = NULL, lease_expires_at = NULL "
            "WHERE run_id = ? AND lease_owner = ?",
            run_id,
            lease_owner,
        )

    async def claim_stale_runs(
        self, *, now: int, limit: int, lease_owner: str, lease_ms: int
    ) -> list[RunClaim]:
        """Lease up to ``limit`` ``running`` runs whose lease is missing or expired."""
        check_limit(limit, "limit")
        if limit == 0:
            return []
        expires = now + lease_ms
        rows = await self._all(
            f"UPDATE {self._runs} SET lease_owner = ?, lease_expires_at = CAST(? AS INTEGER) "
            f"WHERE run_id IN (SELECT run_id FROM {self._runs} INDEXED BY {self._index('stale')} "
            "WHERE status = 'running' "
            f"AND {_LIVE_LEASE_FREE} ORDER BY updated_at, run_id LIMIT CAST(? AS INTEGER)) "
            f"AND status = 'running' AND {_LIVE_LEASE_FREE} RETURNING {self._run_cols}",
            lease_owner,
            expires,
            now,
            limit,
            now,
        )
        runs = sorted((run_from_row(r) for r in rows), key=lambda r: (r.updated_at, r.run_id))
        return [RunClaim(run=r, lease_owner=lease_owner, lease_expires_at=expires) for r in runs]

    # -- timers --------------------------------------------------------------------

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
        values = {
            "wake_at": wake_at,
            "wake_kind": wake_kind,
            "wake_step_id": step_id,
            "updated_at": now,
        }
        await self._update_run(run_id, values)

    async def claim_due_timers(
        self, *, now: int, limit: int, lease_owner: str, lease_ms: int, with_events: bool = False
    ) -> list[TimerWakeup]:
        """Lease up to ``limit`` paused runs whose timer is due, earliest first."""
        check_limit(limit, "limit")
        if limit == 0:
            return []
        expires = now + lease_ms
        due = f"status = 'paused' AND wake_at IS NOT NULL AND wake_at <= CAST(? AS INTEGER) AND {_LIVE_LEASE_FREE}"
        rows = await self._all(
            f"UPDATE {self._runs} SET lease_owner = ?, lease_expires_at = CAST(? AS INTEGER) "
            f"WHERE run_id IN (SELECT run_id FROM {self._runs} "
            f"INDEXED BY {self._index('due_timers')} WHERE {due} "
            f"ORDER BY wake_at, run_id LIMIT CAST(? AS INTEGER)) AND {due} "
            "RETURNING run_id, workflow_id, workflow_version, wake_at, wake_kind, wake_step_id",
            lease_owner,
            expires,
            now,
            now,
            limit,
            now,
            now,
        )
        rows.sort(key=lambda r: (r["wake_at"], r["run_id"]))
        loaded: dict[str, LoadedExecution] = {}
        if with_events and rows:  # every claimed run and its log in one more batch
            results = await self._batch(
                [
                    statement
                    for r in rows
                    for statement in (
                        self._select_run(r["run_id"]),
                        self._select_events(r["run_id"]),
                    )
                ]
            )
            for run_result, events_result in zip(results[::2], results[1::2], strict=True):
                if run_result.results:
                    run = run_from_row(run_result.results[0])
                    events = [event_from_row(row) for row in events_result.results]
                    loaded[run.run_id] = LoadedExecution(run=run, events=events)
        return [
            TimerWakeup(
                run_id=r["run_id"],
                workflow_id=r["workflow_id"],
                workflow_version=r["workflow_version"],
                wake_at=r["wake_at"],
                wake_kind=r["wake_kind"] or "timer",
                step_id=r["wake_step_id"],
                signal_id=timer_signal_id(r["run_id"], r["wake_step_id"], r["wake_at"]),
                lease_owner=lease_owner,
                lease_expires_at=expires,
                run=loaded[r["run_id"]].run if r["run_id"] in loaded else None,
                events=loaded[r["run_id"]].events if r["run_id"] in loaded else None,
            )
            for r in rows
        ]

    # -- queries -------------------------------------------------------------------

    async def list_runs(
        self,
        *,
        workflow_id: str | None = None,
        status: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> RunPage:
        """Runs, newest first, with an opaque keyset cursor."""
        check_limit(limit, "limit", minimum=1)
        after = decode_cursor(cursor) if cursor else None
        where: list[str] = []
        params: list[Any] = []
        if workflow_id is not None:
            where.append("workflow_id = ?")
            params.append(workflow_id)
        if status is not None:
            where.append("status = ?")
            params.append(status)
        if after is not None:
            where.append(
                "(created_at < CAST(? AS INTEGER) OR (created_at = CAST(? AS INTEGER) AND run_id < ?))"
            )
            params += [after[0], after[0], after[1]]
        sql = f"SELECT {column_list(SUMMARY_COLUMNS)} FROM {self._runs}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at DESC, run_id DESC LIMIT CAST(? AS INTEGER)"
        rows = await self._all(sql, *params, limit + 1)
        page = [summary_from_row(r) for r in rows[:limit]]
        next_cursor = (
            encode_cursor(page[-1].created_at, page[-1].run_id) if len(rows) > limit else None
        )
        return RunPage(runs=page, next_cursor=next_cursor)

    async def get_run_timeline(self, run_id: str) -> RunTimeline | None:
        """The run and its whole log, read in one batch."""
        loaded = await self.load_execution(run_id)
        return None if loaded is None else RunTimeline(run=loaded.run, events=loaded.events)

    # -- core RunStore surface -----------------------------------------------------

    async def load_run_state(self, run_id: str) -> RunState | None:
        """The run as core's ``RunState``."""
        run = await self.load_run(run_id)
        return run.to_run_state() if run is not None else None

    async def save_run_state(self, state: RunState, *, now: int) -> None:
        """Create or overwrite the run from core's ``RunState`` in one upsert."""
        check_run_id(state.run_id)
        input_json = check_storable(state.input, "run input")
        check_storable(state.output, "run output")
        values = transition_columns(RunTransition.from_run_state(state), now)
        inserted = {
            "run_id": state.run_id,
            "workflow_id": state.workflow_id,
            "workflow_version": state.workflow_version,
            "input": input_json,
            "output": dump_json(state.output),
            "error": dump_json(state.error),
            "error_code": state.error_code,
            "lease_owner": None,
            "lease_expires_at": None,
            "created_at": state.created_at,
            **values,
        }
        columns = list(inserted)
        placeholders = ", ".join(placeholder(c) for c in columns)
        updates = ", ".join(f'"{c}" = excluded."{c}"' for c in [*values, "input"])
        await self._all(
            f"INSERT INTO {self._runs} ({column_list(columns)}, next_index) VALUES ({placeholders}, "
            f"(SELECT COUNT(*) FROM {self._events} WHERE run_id = ?)) "
            f"ON CONFLICT (run_id) DO UPDATE SET {updates}",
            *inserted.values(),
            state.run_id,
        )

    async def delete_run(self, run_id: str, reason: DeleteReason) -> None:
        """Delete the run and its log in one batch."""
        await self._batch(
            [
                (f"DELETE FROM {self._events} WHERE run_id = ?", (run_id,)),
                (f"DELETE FROM {self._runs} WHERE run_id = ?", (run_id,)),
            ]
        )


def create_cloudflare_d1_workflow_store(
    *, db: D1Database, tables: Mapping[str, str] | D1StoreTables | None = None
) -> CloudflareD1WorkflowStore:
    """A D1-backed ``WorkflowExecutionStore`` over ``db`` (Workers, HTTP or local binding).

    ``tables`` renames the store's tables (keys ``runs``, ``events``, ``schedules``,
    ``schedule_buckets``). The schema comes from the package migrations.
    """
    return CloudflareD1WorkflowStore(db, tables)
