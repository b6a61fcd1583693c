"""Schedules, run listing and retention: the store's less frequent methods."""

from __future__ import annotations

from typing import Any

from tanstack_workflow.runtime import (
    OverlapPolicy,
    RunPage,
    ScheduleBucket,
    ScheduleRecord,
    ScheduleSpec,
    bucket_run_id,
    check_limit,
    check_run_id,
    check_storable,
)

from ._base import StoreBase, findable
from ._codec import bigint, decode_cursor, encode_cursor, json_text, summary_from_row, text


class ScheduleAndQueryMethods(StoreBase):
    """``upsert_schedule`` .. ``list_runs`` and ``delete_terminal_runs``."""

    # -- schedules -------------------------------------------------------------------------

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
        # Built like the reference store builds it, so invalid fields fail the same way.
        record = ScheduleRecord(
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
        await self._fetch(
            self._sql.upsert_schedule,
            schedule_id=record.schedule_id,
            workflow_id=text(record.workflow_id, "workflow id"),
            workflow_version=text(record.workflow_version, "workflow version"),
            spec=json_text(record.spec.to_wire(), "schedule spec", limited=False),
            overlap_policy=record.overlap_policy,
            input=json_text(input, "schedule input"),
            next_fire_at=bigint(record.next_fire_at, "next_fire_at"),
            next_bucket_id=text(record.next_bucket_id, "bucket id"),
            enabled=record.enabled,
            now=bigint(now, "now"),
        )

    async def list_schedules(self) -> list[ScheduleRecord]:
        rows = await self._fetch(self._sql.list_schedules)
        return [ScheduleRecord.model_validate(row) for row in rows]

    async def claim_due_schedule_buckets(
        self, *, now: int, limit: int, lease_owner: str, lease_ms: int
    ) -> list[ScheduleBucket]:
        params = self._claim_params(now, limit, lease_owner, lease_ms)
        if limit == 0:
            return []
        rows = await self._fetch(self._sql.claim_due_schedule_buckets, **params)
        rows.sort(key=lambda row: (row["fire_at"], row["schedule_id"]))
        return [
            ScheduleBucket(
                **row,
                run_id=bucket_run_id(row["workflow_id"], row["schedule_id"], row["bucket_id"]),
                lease_owner=lease_owner,
                lease_expires_at=params["lease_expires_at"],
            )
            for row in rows
        ]

    async def mark_schedule_bucket_started(
        self, *, schedule_id: str, bucket_id: str, run_id: str, now: int
    ) -> None:
        await self._fetch(
            self._sql.mark_schedule_bucket_started,
            schedule_id=text(schedule_id, "schedule id"),
            bucket_id=text(bucket_id, "bucket id"),
            run_id=text(run_id, "run id"),
            now=bigint(now, "now"),
        )

    # -- queries -------------------------------------------------------------------------------

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
        if not all(findable(v) for v in (workflow_id, status) if v is not None):
            return RunPage(runs=[])
        key = (workflow_id is not None, status is not None, after is not None)
        rows = await self._fetch(
            self._sql.list_runs[key],
            workflow_id=workflow_id,
            status=status,
            after_created_at=after[0] if after else None,
            after_run_id=after[1] if after else None,
            limit=bigint(limit + 1, "limit"),
        )
        page = [summary_from_row(row) for row in rows[:limit]]
        next_cursor = (
            encode_cursor(page[-1].created_at, page[-1].run_id) if len(rows) > limit else None
        )
        return RunPage(runs=page, next_cursor=next_cursor)

    # -- retention -------------------------------------------------------------------------------------

    async def delete_terminal_runs(self, *, older_than_ms: int, now: int, limit: int = 1000) -> int:
        """Delete up to ``limit`` finished, errored or aborted runs (and their logs) last
        updated at least ``older_than_ms`` before ``now``; return how many were deleted.

        Call it in a loop until it returns less than ``limit`` to clean up in bounded batches.
        """
        check_limit(older_than_ms, "older_than_ms")
        check_limit(limit, "limit", minimum=1)
        rows = await self._fetch(
            self._sql.delete_terminal_runs,
            cutoff=bigint(now - older_than_ms, "now - older_than_ms"),
            limit=bigint(limit, "limit"),
        )
        return len(rows)
