"""Racing writers on separate connections: CAS appends, claims and deliveries stay exact."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator

import pytest

from tanstack_workflow.core import (
    LogConflictError,
    SignalAwaitable,
    SignalAwaited,
    SignalDelivery,
    StepFinished,
)
from tanstack_workflow.runtime import RunTransition, ScheduleSpec, split_awaiting
from tanstack_workflow.store_postgres import (
    PostgresWorkflowExecutionStore,
    create_postgres_workflow_store,
)

WRITERS = 8


@pytest.fixture
async def stores(
    store: PostgresWorkflowExecutionStore, database_url: str
) -> AsyncIterator[list[PostgresWorkflowExecutionStore]]:
    """Independent stores (own pools) on the test's schema, as separate workers would be."""
    others = [
        create_postgres_workflow_store(database_url, schema=store.schema) for _ in range(WRITERS)
    ]
    yield others
    for other in others:
        await other.close()


def _pause(name: str) -> RunTransition:
    wait = SignalAwaitable(step_id="wait", signal_name=name)
    waiting_for, _ = split_awaiting([wait])
    return RunTransition(status="paused", awaiting=[wait], waiting_for=waiting_for)


async def test_racing_appends_commit_exactly_one_per_index(
    store: PostgresWorkflowExecutionStore, stores: list[PostgresWorkflowExecutionStore]
) -> None:
    await store.create_run(run_id="r", workflow_id="w", workflow_version=None, input=None, now=1)

    async def writer(s: PostgresWorkflowExecutionStore, k: int) -> int:
        wins = 0
        for _ in range(25):
            run = await s.load_run("r")
            assert run is not None
            event = StepFinished(ts=1, step_id=f"w{k}", result=k)
            try:
                await s.append_events(
                    run_id="r", expected_next_index=run.next_index, events=[event], now=1
                )
                wins += 1
            except LogConflictError:
                pass
        return wins

    wins = await asyncio.gather(*(writer(s, k) for k, s in enumerate(stores)))
    events = await store.read_events("r")
    assert [e.event_index for e in events] == list(range(sum(wins)))
    run = await store.load_run("r")
    assert run is not None
    assert run.next_index == len(events)
    assert Counter(e.step_id for e in events) == {f"w{k}": w for k, w in enumerate(wins) if w}


async def test_racing_creates_and_claims(
    store: PostgresWorkflowExecutionStore, stores: list[PostgresWorkflowExecutionStore]
) -> None:
    kinds = await asyncio.gather(
        *(
            s.create_run(run_id="c", workflow_id="w", workflow_version=None, input=i, now=1)
            for i, s in enumerate(stores)
        )
    )
    assert sorted(k.kind for k in kinds) == ["created"] + ["existing"] * (WRITERS - 1)
    claims = await asyncio.gather(
        *(
            s.claim_run(run_id="c", lease_owner=f"o{i}", lease_ms=1000, now=2)
            for i, s in enumerate(stores)
        )
    )
    assert sorted(c.kind for c in claims) == ["claimed"] + ["not-claimable"] * (WRITERS - 1)


async def test_racing_timer_and_stale_claims_hand_each_run_out_once(
    store: PostgresWorkflowExecutionStore, stores: list[PostgresWorkflowExecutionStore]
) -> None:
    for i in range(60):
        await store.create_run(
            run_id=f"t{i}", workflow_id="w", workflow_version=None, input=None, now=1
        )
        if i % 2:
            await store.mark_run_paused(run_id=f"t{i}", awaiting=None, wake_at=5 + i, now=1)
    timers = await asyncio.gather(
        *(
            s.claim_due_timers(now=100, limit=7, lease_owner=f"o{i}", lease_ms=1000)
            for i, s in enumerate(stores)
        )
    )
    stale = await asyncio.gather(
        *(
            s.claim_stale_runs(now=100, limit=7, lease_owner=f"o{i}", lease_ms=1000)
            for i, s in enumerate(stores)
        )
    )
    timer_ids = [w.run_id for batch in timers for w in batch]
    stale_ids = [c.run.run_id for batch in stale for c in batch]
    assert len(timer_ids) == len(set(timer_ids)) == 30
    assert len(stale_ids) == len(set(stale_ids)) == 30


async def test_racing_deliveries_of_one_signal_deliver_once(
    store: PostgresWorkflowExecutionStore, stores: list[PostgresWorkflowExecutionStore]
) -> None:
    for round_ in range(5):
        run_id = f"d{round_}"
        await store.create_run(
            run_id=run_id, workflow_id="w", workflow_version=None, input=None, now=1
        )
        await store.append_events(
            run_id=run_id,
            expected_next_index=0,
            events=[SignalAwaited(ts=1, step_id="wait", name="go")],
            now=1,
            transition=_pause("go"),
        )
        delivery = SignalDelivery(signal_id="same", name="go", payload=round_)
        results = await asyncio.gather(
            *(s.deliver_signal(run_id=run_id, delivery=delivery, now=2) for s in stores)
        )
        assert sorted(r.kind for r in results) == ["delivered"] + ["duplicate"] * (WRITERS - 1)
        assert len(await store.read_events(run_id)) == 2


async def test_racing_cancel_and_finish(
    store: PostgresWorkflowExecutionStore, stores: list[PostgresWorkflowExecutionStore]
) -> None:
    await store.create_run(run_id="x", workflow_id="w", workflow_version=None, input=None, now=1)
    cancels = await asyncio.gather(
        *(s.cancel_run(run_id="x", reason="stop", now=2) for s in stores)
    )
    assert sorted(c.kind for c in cancels) == ["already-terminal"] * (WRITERS - 1) + ["cancelled"]
    assert all(c.run is not None and c.run.status == "aborted" for c in cancels)
    assert len(await store.read_events("x")) == 1


async def test_racing_bucket_claims(
    store: PostgresWorkflowExecutionStore, stores: list[PostgresWorkflowExecutionStore]
) -> None:
    for i in range(10):
        await store.upsert_schedule(
            schedule_id=f"s{i}",
            workflow_id="w",
            workflow_version=None,
            spec=ScheduleSpec(kind="interval", every_ms=5),
            overlap_policy="skip",
            input=None,
            next_fire_at=1,
            next_bucket_id="b1",
            enabled=True,
            now=1,
        )
    batches = await asyncio.gather(
        *(
            s.claim_due_schedule_buckets(now=5, limit=3, lease_owner=f"o{i}", lease_ms=100)
            for i, s in enumerate(stores)
        )
    )
    claimed = [b.schedule_id for batch in batches for b in batch]
    assert len(claimed) == len(set(claimed)) == 10


async def test_a_signal_id_resolves_once_even_when_the_run_waits_again(
    store: PostgresWorkflowExecutionStore, stores: list[PostgresWorkflowExecutionStore]
) -> None:
    """Deliveries of one id race a driver that keeps re-pausing the run on the same name."""
    await store.create_run(run_id="p", workflow_id="w", workflow_version=None, input=None, now=1)
    await store.append_events(
        run_id="p",
        expected_next_index=0,
        events=[SignalAwaited(ts=1, step_id="wait", name="go")],
        now=1,
        transition=_pause("go"),
    )
    stop = asyncio.Event()

    async def repauser() -> None:
        while not stop.is_set():
            run = await store.load_run("p")
            assert run is not None
            if run.status == "running":
                event = SignalAwaited(ts=1, step_id="wait", name="go")
                with contextlib.suppress(LogConflictError):
                    await store.append_events(
                        run_id="p",
                        expected_next_index=run.next_index,
                        events=[event],
                        now=1,
                        transition=_pause("go"),
                    )
            await asyncio.sleep(0)

    async def deliverer(s: PostgresWorkflowExecutionStore, k: int) -> list[str]:
        kinds = []
        for i in range(10):
            delivery = SignalDelivery(signal_id=f"id-{i}", name="go", payload=k)
            kinds.append((await s.deliver_signal(run_id="p", delivery=delivery, now=2)).kind)
        return kinds

    task = asyncio.create_task(repauser())
    await asyncio.gather(*(deliverer(s, k) for k, s in enumerate(stores)))
    stop.set()
    await task
    resolved = Counter(
        e.event.signal_id  # type: ignore[union-attr]
        for e in await store.read_events("p")
        if e.event_type == "SIGNAL_RESOLVED"
    )
    assert len(resolved) > 1
    assert max(resolved.values()) == 1, resolved
