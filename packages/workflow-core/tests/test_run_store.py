"""The in-memory RunStore: state, log, subscriptions and expiry."""

from __future__ import annotations

import pytest

from tanstack_workflow.core import (
    CustomEvent,
    InMemoryRunStore,
    RunState,
    SubscribableRunStore,
    WorkflowEvent,
    in_memory_run_store,
)


def run_state(status: str = "running") -> RunState:
    return RunState.model_validate(
        {
            "runId": "run-1",
            "status": status,
            "workflowId": "test",
            "input": {"msg": "hi"},
            "createdAt": 1,
            "updatedAt": 1,
        }
    )


def custom(name: str) -> CustomEvent:
    return CustomEvent(ts=1, name=name, value={})


def names(events: object) -> list[str]:
    return [e.name for e in events]  # type: ignore[attr-defined]


async def test_state_round_trips(store: InMemoryRunStore) -> None:
    assert await store.get_run_state("run-1") is None
    await store.set_run_state("run-1", run_state())
    assert await store.get_run_state("run-1") == run_state()


async def test_delete_run_clears_state_and_log(store: InMemoryRunStore) -> None:
    await store.set_run_state("run-1", run_state())
    await store.append_event("run-1", 0, custom("a"))
    await store.delete_run("run-1", "finished")
    assert await store.get_run_state("run-1") is None
    assert await store.get_events("run-1") == []


async def test_unknown_run_has_an_empty_log(store: InMemoryRunStore) -> None:
    assert await store.get_events("never-ran") == []


async def test_events_come_back_in_append_order(store: InMemoryRunStore) -> None:
    for index, name in enumerate("abc"):
        await store.append_event("run-1", index, custom(name))
    assert names(await store.get_events("run-1")) == ["a", "b", "c"]
    assert names(await store.get_events("run-1", 1)) == ["b", "c"]


async def test_get_events_returns_a_snapshot(store: InMemoryRunStore) -> None:
    await store.append_event("run-1", 0, custom("a"))
    snapshot = await store.get_events("run-1")
    snapshot.append(custom("forged"))  # type: ignore[attr-defined]
    assert len(await store.get_events("run-1")) == 1


async def test_logs_are_isolated_per_run(store: InMemoryRunStore) -> None:
    await store.append_event("run-a", 0, custom("a0"))
    await store.append_event("run-b", 0, custom("b0"))
    await store.append_event("run-a", 1, custom("a1"))
    assert len(await store.get_events("run-a")) == 2
    assert len(await store.get_events("run-b")) == 1


async def test_subscribe_replays_persisted_events_then_follows(store: InMemoryRunStore) -> None:
    assert isinstance(store, SubscribableRunStore)
    await store.append_event("run-1", 0, custom("a"))
    seen: list[tuple[str, int]] = []

    def listener(event: WorkflowEvent, index: int) -> None:
        seen.append((event.name, index))  # type: ignore[union-attr]

    unsubscribe = store.subscribe("run-1", 0, listener)
    assert seen == [("a", 0)]
    await store.append_event("run-1", 1, custom("b"))
    assert seen == [("a", 0), ("b", 1)]
    unsubscribe()
    unsubscribe()  # idempotent
    await store.append_event("run-1", 2, custom("c"))
    assert seen == [("a", 0), ("b", 1)]


async def test_subscribe_honours_from_index(store: InMemoryRunStore) -> None:
    for index, name in enumerate("abc"):
        await store.append_event("run-1", index, custom(name))
    seen: list[str] = []
    store.subscribe("run-1", 2, lambda event, _index: seen.append(event.name))  # type: ignore[union-attr]
    assert seen == ["c"]


async def test_a_failing_listener_never_breaks_an_append(store: InMemoryRunStore) -> None:
    def broken(_event: WorkflowEvent, _index: int) -> None:
        raise RuntimeError("listener bug")

    store.subscribe("run-1", 0, broken)
    await store.append_event("run-1", 0, custom("a"))
    assert len(await store.get_events("run-1")) == 1


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_runs_expire_after_the_ttl() -> None:
    clock = FakeClock()
    store = InMemoryRunStore(ttl_ms=1_000, clock=clock)
    await store.set_run_state("run-1", run_state("finished"))
    await store.append_event("run-1", 0, custom("a"))
    clock.now = 0.9
    assert await store.get_run_state("run-1") is not None
    clock.now = 1.0
    assert await store.get_run_state("run-1") is None
    assert await store.get_events("run-1") == []


async def test_paused_runs_do_not_expire() -> None:
    clock = FakeClock()
    store = InMemoryRunStore(ttl_ms=1_000, clock=clock)
    await store.set_run_state("run-1", run_state("paused"))
    clock.now = 3_600
    assert await store.get_run_state("run-1") is not None


async def test_writes_extend_the_ttl() -> None:
    clock = FakeClock()
    store = InMemoryRunStore(ttl_ms=1_000, clock=clock)
    await store.set_run_state("run-1", run_state())
    clock.now = 0.8
    await store.append_event("run-1", 0, custom("a"))
    clock.now = 1.5
    assert await store.get_run_state("run-1") is not None


def test_ttl_must_be_positive() -> None:
    with pytest.raises(ValueError, match="ttl_ms"):
        in_memory_run_store(ttl_ms=0)
