"""Schedules: upserts and deterministic, leased bucket claims."""

from __future__ import annotations

from typing import Any

from .._memory import bucket_run_id
from .._models import OverlapPolicy, ScheduleBucket, ScheduleSpec
from .._store import WorkflowExecutionStore
from ._fixtures import T0, WORKFLOW_ID, StoreFixtures

EVERY_15_MIN = ScheduleSpec(kind="interval", every_ms=15 * 60_000)


async def _upsert(
    store: WorkflowExecutionStore,
    schedule_id: str,
    fire_at: int | None,
    *,
    bucket_id: str | None = "auto",
    enabled: bool = True,
    now: int = T0,
    input: Any = None,
    overlap_policy: OverlapPolicy = "skip",
    spec: ScheduleSpec = EVERY_15_MIN,
) -> None:
    await store.upsert_schedule(
        schedule_id=schedule_id,
        workflow_id=WORKFLOW_ID,
        workflow_version=None,
        spec=spec,
        overlap_policy=overlap_policy,
        input={"schedule": schedule_id} if input is None else input,
        next_fire_at=fire_at,
        next_bucket_id=str(fire_at) if bucket_id == "auto" else bucket_id,
        enabled=enabled,
        now=now,
    )


async def _claim(
    store: WorkflowExecutionStore,
    now: int,
    owner: str = "sweeper-a",
    limit: int = 10,
    lease_ms: int = 30_000,
) -> list[ScheduleBucket]:
    return await store.claim_due_schedule_buckets(
        now=now, limit=limit, lease_owner=owner, lease_ms=lease_ms
    )


def _ids(buckets: list[ScheduleBucket]) -> list[tuple[str, str]]:
    return sorted((b.schedule_id, b.bucket_id) for b in buckets)


class ScheduleContract(StoreFixtures):
    """``upsert_schedule``, ``list_schedules``, ``claim_due_schedule_buckets``, ``mark_schedule_bucket_started``."""

    async def test_upsert_and_list_schedules(self, store: WorkflowExecutionStore) -> None:
        cron = ScheduleSpec(kind="cron", expression="0 9 * * MON-FRI", timezone="Europe/Paris")
        await _upsert(
            store, "b-daily", T0 + 1_000, spec=cron, overlap_policy="buffer-one", input=[1, 2]
        )
        await _upsert(store, "a-quarter", None, bucket_id=None, enabled=False, now=T0 + 5)
        records = await store.list_schedules()
        assert [r.schedule_id for r in records] == ["a-quarter", "b-daily"]
        quarter, daily = records
        assert (daily.workflow_id, daily.spec, daily.overlap_policy, daily.input) == (
            WORKFLOW_ID,
            cron,
            "buffer-one",
            [1, 2],
        )
        assert (daily.next_fire_at, daily.next_bucket_id, daily.enabled) == (
            T0 + 1_000,
            str(T0 + 1_000),
            True,
        )
        assert (daily.last_run_id, daily.updated_at) == (None, T0)
        assert (quarter.spec, quarter.next_fire_at, quarter.next_bucket_id, quarter.enabled) == (
            EVERY_15_MIN,
            None,
            None,
            False,
        )
        assert quarter.updated_at == T0 + 5

    async def test_a_due_bucket_is_claimed_with_a_deterministic_run_id(
        self, store: WorkflowExecutionStore
    ) -> None:
        fire_at = T0 + 900_000
        await _upsert(store, "every-15", fire_at, input={"triggered": True}, overlap_policy="allow")
        assert await _claim(store, fire_at - 1) == []
        [bucket] = await _claim(store, fire_at, lease_ms=30_000)
        assert (bucket.schedule_id, bucket.bucket_id, bucket.workflow_id) == (
            "every-15",
            str(fire_at),
            WORKFLOW_ID,
        )
        assert bucket.run_id == f"{WORKFLOW_ID}:every-15:{fire_at}"
        assert bucket.run_id == bucket_run_id(WORKFLOW_ID, "every-15", str(fire_at))
        assert (bucket.fire_at, bucket.input, bucket.overlap_policy) == (
            fire_at,
            {"triggered": True},
            "allow",
        )
        assert (bucket.previous_run_id, bucket.lease_owner, bucket.lease_expires_at) == (
            None,
            "sweeper-a",
            fire_at + 30_000,
        )

    async def test_a_claimed_bucket_waits_for_its_lease_to_expire(
        self, store: WorkflowExecutionStore
    ) -> None:
        await _upsert(store, "every-15", T0)
        [first] = await _claim(store, T0, owner="sweeper-a", lease_ms=100)
        assert await _claim(store, T0 + 99, owner="sweeper-b", lease_ms=100) == []
        [second] = await _claim(store, T0 + 100, owner="sweeper-b", lease_ms=100)
        assert (second.bucket_id, second.run_id) == (first.bucket_id, first.run_id)
        assert (second.lease_owner, second.lease_expires_at) == ("sweeper-b", T0 + 200)
        assert await _claim(store, T0 + 150, owner="sweeper-a", lease_ms=100) == []

    async def test_a_started_bucket_is_never_handed_out_again(
        self, store: WorkflowExecutionStore
    ) -> None:
        await _upsert(store, "every-15", T0)
        [bucket] = await _claim(store, T0, lease_ms=100)
        await store.mark_schedule_bucket_started(
            schedule_id="every-15", bucket_id=bucket.bucket_id, run_id=bucket.run_id, now=T0 + 1
        )
        for owner in ("sweeper-a", "sweeper-b"):
            assert await _claim(store, T0 + 10_000, owner=owner) == []
        [record] = await store.list_schedules()
        assert record.last_run_id == bucket.run_id

    async def test_a_bucket_started_without_a_claim_is_not_handed_out(
        self, store: WorkflowExecutionStore
    ) -> None:
        await _upsert(store, "every-15", T0)
        await store.mark_schedule_bucket_started(
            schedule_id="every-15", bucket_id=str(T0), run_id="manual-run", now=T0
        )
        assert await _claim(store, T0 + 1) == []

    async def test_upsert_keeps_the_last_run_and_moves_to_the_next_bucket(
        self, store: WorkflowExecutionStore
    ) -> None:
        await _upsert(store, "every-15", T0)
        [first] = await _claim(store, T0)
        await store.mark_schedule_bucket_started(
            schedule_id="every-15", bucket_id=first.bucket_id, run_id=first.run_id, now=T0 + 1
        )
        await _upsert(store, "every-15", T0 + 900_000, now=T0 + 2)
        [record] = await store.list_schedules()
        assert (record.last_run_id, record.next_fire_at, record.updated_at) == (
            first.run_id,
            T0 + 900_000,
            T0 + 2,
        )
        assert await _claim(store, T0 + 899_999) == []
        [second] = await _claim(store, T0 + 900_000)
        assert second.bucket_id == str(T0 + 900_000)
        assert second.run_id != first.run_id
        assert second.previous_run_id == first.run_id

    async def test_disabled_and_unarmed_schedules_are_never_claimed(
        self, store: WorkflowExecutionStore
    ) -> None:
        await _upsert(store, "disabled", T0, enabled=False)
        await _upsert(store, "no-fire-time", None, bucket_id="b-1")
        await _upsert(store, "no-bucket", T0, bucket_id=None)
        assert await _claim(store, T0 + 10**9) == []
        await _upsert(store, "disabled", T0, enabled=True, now=T0 + 1)
        assert _ids(await _claim(store, T0 + 2)) == [("disabled", str(T0))]

    async def test_one_bucket_per_schedule_and_limit(self, store: WorkflowExecutionStore) -> None:
        for n in range(5):
            await _upsert(store, f"s{n}", T0 + n)
        assert await _claim(store, T0 + 100, limit=0) == []
        first = await _claim(store, T0 + 100, limit=3)
        assert len(first) == 3
        rest = await _claim(store, T0 + 100, owner="sweeper-b", limit=3)
        assert len(rest) == 2
        assert _ids(first + rest) == [(f"s{n}", str(T0 + n)) for n in range(5)]

    async def test_started_buckets_do_not_starve_later_schedules(
        self, store: WorkflowExecutionStore
    ) -> None:
        # the oldest schedules' buckets started but were never advanced (a sweep died
        # between starting the run and upserting the schedule): limit=1 still finds work
        for n in range(6):
            await _upsert(store, f"s{n}", T0 + n)
        for n in range(5):
            await store.mark_schedule_bucket_started(
                schedule_id=f"s{n}", bucket_id=str(T0 + n), run_id=f"run-{n}", now=T0 + 10
            )
        assert _ids(await _claim(store, T0 + 100, limit=1)) == [("s5", str(T0 + 5))]

    async def test_leased_buckets_do_not_starve_other_owners(
        self, store: WorkflowExecutionStore
    ) -> None:
        for n in range(4):
            await _upsert(store, f"s{n}", T0 + n)
        claimed: list[ScheduleBucket] = []
        for owner in ("sweeper-a", "sweeper-b", "sweeper-c", "sweeper-d"):
            claimed += await _claim(store, T0 + 100, owner=owner, limit=1)
        assert _ids(claimed) == [(f"s{n}", str(T0 + n)) for n in range(4)]
        assert await _claim(store, T0 + 100, owner="sweeper-e", limit=1) == []
