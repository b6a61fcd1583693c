"""Queries: ``list_runs`` with keyset pagination, and ``get_run_timeline``."""

from __future__ import annotations

import pytest

from .._models import RunSummary
from .._store import WorkflowExecutionStore
from ._fixtures import T0, StoreFixtures, append, create, pause_on_signal, step_event


async def _all_pages(
    store: WorkflowExecutionStore,
    limit: int,
    *,
    workflow_id: str | None = None,
    status: str | None = None,
) -> list[RunSummary]:
    runs: list[RunSummary] = []
    cursor: str | None = None
    for _ in range(1_000):
        page = await store.list_runs(
            workflow_id=workflow_id, status=status, limit=limit, cursor=cursor
        )
        assert len(page.runs) <= limit
        runs += page.runs
        if page.next_cursor is None:
            return runs
        assert page.runs, "a page with a next_cursor must not be empty"
        cursor = page.next_cursor
    raise AssertionError("list_runs pagination never ended")


async def _seed(store: WorkflowExecutionStore) -> None:
    # created_at ties on purpose: the cursor must still visit each run once
    for n, (workflow_id, created) in enumerate(
        [
            ("orders", 0),
            ("orders", 1),
            ("emails", 1),
            ("orders", 1),
            ("emails", 2),
            ("orders", 5),
            ("emails", 5),
        ]
    ):
        await create(store, f"run-{n}", workflow_id=workflow_id, now=T0 + created)


def _check_newest_first(runs: list[RunSummary]) -> None:
    created = [r.created_at for r in runs]
    assert created == sorted(created, reverse=True), created


class QueryContract(StoreFixtures):
    """``list_runs`` filters, newest-first order and opaque stable cursors; timelines."""

    async def test_list_runs_newest_first(self, store: WorkflowExecutionStore) -> None:
        for n in (2, 0, 1):
            await create(store, f"run-{n}", now=T0 + n)
        page = await store.list_runs()
        assert [r.run_id for r in page.runs] == ["run-2", "run-1", "run-0"]
        assert page.next_cursor is None
        assert (await store.list_runs(workflow_id="nothing")).runs == []

    async def test_list_runs_filters_by_workflow_and_status(
        self, store: WorkflowExecutionStore
    ) -> None:
        await _seed(store)
        await pause_on_signal(store, "run-1", now=T0 + 10)
        await store.mark_run_finished(run_id="run-3", output=None, now=T0 + 10)
        await pause_on_signal(store, "run-4", now=T0 + 10)

        async def ids(workflow_id: str | None = None, status: str | None = None) -> set[str]:
            runs = (await store.list_runs(workflow_id=workflow_id, status=status)).runs
            _check_newest_first(runs)
            return {r.run_id for r in runs}

        assert await ids("orders") == {"run-0", "run-1", "run-3", "run-5"}
        assert await ids(status="paused") == {"run-1", "run-4"}
        assert await ids("orders", "paused") == {"run-1"}
        assert await ids("orders", "running") == {"run-0", "run-5"}
        assert await ids("emails", "finished") == set()

    async def test_run_summaries(self, store: WorkflowExecutionStore) -> None:
        await create(store, "run-1", now=T0)
        paused = await pause_on_signal(store, "run-1", now=T0 + 4, wake_at=T0 + 99)
        [summary] = (await store.list_runs()).runs
        assert (summary.run_id, summary.workflow_id, summary.workflow_version, summary.status) == (
            "run-1",
            paused.workflow_id,
            None,
            "paused",
        )
        assert (summary.awaiting, summary.wake_at, summary.error_code) == (
            paused.awaiting,
            T0 + 99,
            None,
        )
        assert (summary.created_at, summary.updated_at) == (T0, T0 + 4)
        await store.cancel_run(run_id="run-1", reason=None, now=T0 + 5)
        [summary] = (await store.list_runs()).runs
        assert (summary.status, summary.error_code, summary.updated_at) == (
            "aborted",
            "cancelled",
            T0 + 5,
        )

    @pytest.mark.parametrize("workflow_id", [None, "orders"])
    async def test_pagination_visits_every_run_once(
        self, store: WorkflowExecutionStore, workflow_id: str | None
    ) -> None:
        await _seed(store)
        everything = (await store.list_runs(workflow_id=workflow_id, limit=100)).runs
        _check_newest_first(everything)
        for limit in range(1, len(everything) + 2):
            paged = await _all_pages(store, limit, workflow_id=workflow_id)
            assert [r.run_id for r in paged] == [r.run_id for r in everything], limit

    async def test_next_cursor_only_when_more_runs_remain(
        self, store: WorkflowExecutionStore
    ) -> None:
        for n in range(4):
            await create(store, f"run-{n}", now=T0 + n)
        first = await store.list_runs(limit=2)
        assert first.next_cursor is not None
        last = await store.list_runs(limit=2, cursor=first.next_cursor)
        assert [r.run_id for r in last.runs] == ["run-1", "run-0"]
        assert last.next_cursor is None
        assert (await store.list_runs(limit=4)).next_cursor is None

    async def test_cursor_is_stable_while_new_runs_arrive(
        self, store: WorkflowExecutionStore
    ) -> None:
        for n in range(6):
            await create(store, f"run-{n}", now=T0 + n)
        first = await store.list_runs(limit=2)
        for n in range(6, 9):
            await create(store, f"run-{n}", now=T0 + n)
        rest: list[RunSummary] = []
        cursor = first.next_cursor
        while cursor is not None:
            page = await store.list_runs(limit=2, cursor=cursor)
            rest += page.runs
            cursor = page.next_cursor
        assert [r.run_id for r in first.runs + rest] == [f"run-{n}" for n in range(5, -1, -1)]

    async def test_invalid_cursor_is_a_value_error(self, store: WorkflowExecutionStore) -> None:
        await create(store, "run-1")
        for cursor in ("%%% not a cursor %%%", "not a cursor"):
            with pytest.raises(ValueError, match="cursor"):
                await store.list_runs(cursor=cursor)

    async def test_run_timeline(self, store: WorkflowExecutionStore) -> None:
        await create(store, "run-1")
        await append(store, "run-1", step_event(0), step_event(1), now=T0 + 1)
        run = await pause_on_signal(store, "run-1", now=T0 + 2)
        timeline = await store.get_run_timeline("run-1")
        assert timeline is not None
        assert timeline.run == run
        assert [s.event_index for s in timeline.events] == [0, 1, 2]
        assert [s.event_type for s in timeline.events] == [
            "STEP_FINISHED",
            "STEP_FINISHED",
            "SIGNAL_AWAITED",
        ]
        assert timeline.events == await store.read_events("run-1")
        assert await store.get_run_timeline("nope") is None
