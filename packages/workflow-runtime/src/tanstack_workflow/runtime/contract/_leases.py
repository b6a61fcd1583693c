"""Run leases: claim, heartbeat, release and stale-run recovery."""

from __future__ import annotations

from tanstack_workflow.core import RunFinished, SerializedError

from .._models import RunTransition
from .._store import WorkflowExecutionStore
from ._fixtures import (
    LEASE_MS,
    T0,
    StoreFixtures,
    append,
    create,
    must_load,
    pause_on_signal,
    step_event,
)


class LeaseContract(StoreFixtures):
    """A lease is live while ``now < lease_expires_at``; one live owner per run."""

    async def test_claim_an_unleased_run(self, store: WorkflowExecutionStore) -> None:
        await create(store, "run-1")
        claim = await store.claim_run(
            run_id="run-1", lease_owner="worker-a", lease_ms=LEASE_MS, now=T0 + 10
        )
        assert claim.kind == "claimed"
        assert claim.run is not None
        assert (claim.run.lease_owner, claim.run.lease_expires_at) == (
            "worker-a",
            T0 + 10 + LEASE_MS,
        )
        assert claim.events is None
        assert await must_load(store, "run-1") == claim.run

    async def test_a_live_lease_blocks_other_owners_until_it_expires(
        self, store: WorkflowExecutionStore
    ) -> None:
        await create(store, "run-1")
        await store.claim_run(run_id="run-1", lease_owner="worker-a", lease_ms=100, now=T0)
        blocked = await store.claim_run(
            run_id="run-1", lease_owner="worker-b", lease_ms=100, now=T0 + 99
        )
        assert blocked.kind == "not-claimable"
        assert blocked.run is not None
        assert blocked.run.lease_owner == "worker-a"
        # lease_expires_at is the first instant the lease is no longer held
        reclaimed = await store.claim_run(
            run_id="run-1", lease_owner="worker-b", lease_ms=100, now=T0 + 100
        )
        assert reclaimed.kind == "claimed"
        run = await must_load(store, "run-1")
        assert (run.lease_owner, run.lease_expires_at) == ("worker-b", T0 + 200)

    async def test_the_owner_can_reclaim_its_live_lease(
        self, store: WorkflowExecutionStore
    ) -> None:
        await create(store, "run-1")
        await store.claim_run(run_id="run-1", lease_owner="worker-a", lease_ms=100, now=T0)
        again = await store.claim_run(
            run_id="run-1", lease_owner="worker-a", lease_ms=100, now=T0 + 50
        )
        assert again.kind == "claimed"
        assert (await must_load(store, "run-1")).lease_expires_at == T0 + 150

    async def test_claim_with_events_returns_the_whole_log(
        self, store: WorkflowExecutionStore
    ) -> None:
        await create(store, "run-1")
        await append(store, "run-1", step_event(0), step_event(1))
        claim = await store.claim_run(
            run_id="run-1", lease_owner="worker-a", lease_ms=LEASE_MS, now=T0, with_events=True
        )
        assert claim.kind == "claimed"
        assert claim.events is not None
        assert [s.event for s in claim.events] == [step_event(0), step_event(1)]

    async def test_a_paused_run_can_be_claimed(self, store: WorkflowExecutionStore) -> None:
        await create(store, "run-1")
        await pause_on_signal(store, "run-1")
        claim = await store.claim_run(
            run_id="run-1", lease_owner="worker-a", lease_ms=LEASE_MS, now=T0
        )
        assert claim.kind == "claimed"
        assert claim.run is not None
        assert claim.run.status == "paused"

    async def test_terminal_runs_are_not_claimable(self, store: WorkflowExecutionStore) -> None:
        for run_id in ("finished", "errored", "cancelled"):
            await create(store, run_id)
        await append(
            store,
            "finished",
            RunFinished(ts=T0, run_id="finished", output=1),
            transition=RunTransition(status="finished", output=1),
        )
        await store.mark_run_errored(
            run_id="errored",
            error=SerializedError(name="RuntimeError", message="boom"),
            code="error",
            now=T0,
        )
        await store.cancel_run(run_id="cancelled", reason=None, now=T0)
        for run_id in ("finished", "errored", "cancelled"):
            claim = await store.claim_run(
                run_id=run_id, lease_owner="worker-a", lease_ms=LEASE_MS, now=T0 + 1
            )
            assert claim.kind == "not-claimable", run_id
            assert (await must_load(store, run_id)).lease_owner is None

    async def test_claiming_a_missing_run(self, store: WorkflowExecutionStore) -> None:
        claim = await store.claim_run(
            run_id="nope", lease_owner="worker-a", lease_ms=LEASE_MS, now=T0
        )
        assert claim.kind == "not-found"
        assert claim.run is None
        assert await store.load_run("nope") is None

    async def test_heartbeat_extends_the_owners_lease(self, store: WorkflowExecutionStore) -> None:
        await create(store, "run-1")
        await store.claim_run(run_id="run-1", lease_owner="worker-a", lease_ms=100, now=T0)
        assert await store.heartbeat_run_lease(
            run_id="run-1", lease_owner="worker-a", lease_ms=100, now=T0 + 90
        )
        assert (await must_load(store, "run-1")).lease_expires_at == T0 + 190
        blocked = await store.claim_run(
            run_id="run-1", lease_owner="worker-b", lease_ms=100, now=T0 + 150
        )
        assert blocked.kind == "not-claimable"

    async def test_heartbeat_fails_for_anyone_but_the_owner(
        self, store: WorkflowExecutionStore
    ) -> None:
        await create(store, "run-1")
        await store.claim_run(run_id="run-1", lease_owner="worker-a", lease_ms=100, now=T0)
        assert not await store.heartbeat_run_lease(
            run_id="run-1", lease_owner="worker-b", lease_ms=100, now=T0 + 10
        )
        run = await must_load(store, "run-1")
        assert (run.lease_owner, run.lease_expires_at) == ("worker-a", T0 + 100)
        assert not await store.heartbeat_run_lease(
            run_id="nope", lease_owner="worker-a", lease_ms=100, now=T0
        )

    async def test_heartbeat_fails_once_the_lease_was_taken_over(
        self, store: WorkflowExecutionStore
    ) -> None:
        await create(store, "run-1")
        await store.claim_run(run_id="run-1", lease_owner="worker-a", lease_ms=100, now=T0)
        await store.claim_run(run_id="run-1", lease_owner="worker-b", lease_ms=100, now=T0 + 100)
        assert not await store.heartbeat_run_lease(
            run_id="run-1", lease_owner="worker-a", lease_ms=100, now=T0 + 101
        )
        assert (await must_load(store, "run-1")).lease_owner == "worker-b"

    async def test_heartbeat_fails_after_the_run_paused(
        self, store: WorkflowExecutionStore
    ) -> None:
        await create(store, "run-1", lease_owner="worker-a", lease_ms=LEASE_MS)
        await pause_on_signal(store, "run-1", now=T0 + 1)
        assert not await store.heartbeat_run_lease(
            run_id="run-1", lease_owner="worker-a", lease_ms=LEASE_MS, now=T0 + 2
        )
        assert (await must_load(store, "run-1")).lease_owner is None

    async def test_release_only_by_the_owner(self, store: WorkflowExecutionStore) -> None:
        await create(store, "run-1")
        await store.claim_run(run_id="run-1", lease_owner="worker-a", lease_ms=LEASE_MS, now=T0)
        await store.release_run_lease(run_id="run-1", lease_owner="worker-b", now=T0 + 1)
        assert (await must_load(store, "run-1")).lease_owner == "worker-a"
        await store.release_run_lease(run_id="run-1", lease_owner="worker-a", now=T0 + 2)
        run = await must_load(store, "run-1")
        assert (run.lease_owner, run.lease_expires_at) == (None, None)
        claim = await store.claim_run(
            run_id="run-1", lease_owner="worker-b", lease_ms=LEASE_MS, now=T0 + 3
        )
        assert claim.kind == "claimed"
        await store.release_run_lease(run_id="nope", lease_owner="worker-a", now=T0)

    async def test_claim_stale_runs_takes_running_runs_without_a_live_lease(
        self, store: WorkflowExecutionStore
    ) -> None:
        await create(store, "unleased")
        await create(store, "expired", lease_owner="worker-a", lease_ms=100)
        await create(store, "live", lease_owner="worker-a", lease_ms=10_000)
        await create(store, "paused")
        await pause_on_signal(store, "paused")
        await create(store, "finished")
        await store.mark_run_finished(run_id="finished", output=None, now=T0)
        await create(store, "cancelled")
        await store.cancel_run(run_id="cancelled", reason=None, now=T0)
        claims = await store.claim_stale_runs(
            now=T0 + 100, limit=10, lease_owner="sweeper", lease_ms=LEASE_MS
        )
        assert sorted(c.run.run_id for c in claims) == ["expired", "unleased"]
        for claim in claims:
            assert (claim.lease_owner, claim.lease_expires_at) == ("sweeper", T0 + 100 + LEASE_MS)
            assert (claim.run.lease_owner, claim.run.lease_expires_at) == (
                "sweeper",
                T0 + 100 + LEASE_MS,
            )
            assert claim.run.status == "running"
            assert await must_load(store, claim.run.run_id) == claim.run
        again = await store.claim_stale_runs(
            now=T0 + 101, limit=10, lease_owner="other", lease_ms=LEASE_MS
        )
        assert again == []

    async def test_claim_stale_runs_honours_limit(self, store: WorkflowExecutionStore) -> None:
        for n in range(5):
            await create(store, f"run-{n}", now=T0 + n)
        assert (
            await store.claim_stale_runs(
                now=T0 + 10, limit=0, lease_owner="sweeper", lease_ms=LEASE_MS
            )
            == []
        )
        seen: list[str] = []
        for expected in (2, 2, 1, 0):
            claims = await store.claim_stale_runs(
                now=T0 + 10, limit=2, lease_owner="sweeper", lease_ms=LEASE_MS
            )
            assert len(claims) == expected
            seen += [c.run.run_id for c in claims]
        assert sorted(seen) == [f"run-{n}" for n in range(5)]

    async def test_stale_runs_come_back_after_the_sweepers_lease_expires(
        self, store: WorkflowExecutionStore
    ) -> None:
        await create(store, "run-1")
        [first] = await store.claim_stale_runs(
            now=T0, limit=10, lease_owner="sweeper-1", lease_ms=100
        )
        assert (
            await store.claim_stale_runs(
                now=T0 + 99, limit=10, lease_owner="sweeper-2", lease_ms=100
            )
            == []
        )
        [second] = await store.claim_stale_runs(
            now=T0 + 100, limit=10, lease_owner="sweeper-2", lease_ms=100
        )
        assert first.run.run_id == second.run.run_id == "run-1"
        assert second.lease_owner == "sweeper-2"
