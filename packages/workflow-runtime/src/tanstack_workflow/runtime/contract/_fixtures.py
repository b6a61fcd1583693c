"""``StoreFixtures``: the one base class a store author subclasses, plus shared helpers."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable
from typing import Any, ClassVar

import pytest
import pytest_asyncio

from tanstack_workflow.core import (
    ApprovalAwaitable,
    SignalAwaitable,
    SignalAwaited,
    StepFinished,
    WorkflowEvent,
)

from .._models import RunTransition, WakeKind, WorkflowExecution, split_awaiting
from .._store import WorkflowExecutionStore

T0 = 1_700_000_000_000
"""The suite's epoch: every test starts its clock here (2023-11-14, epoch ms)."""

LEASE_MS = 30_000
"""The lease length most tests use."""

WORKFLOW_ID = "contract-workflow"


class StoreFixtures:
    """Fixtures and capability switches; subclass it once per store.

    Provide a store either by overriding the ``store`` fixture (any pytest fixture,
    sync or async, may ``yield`` for teardown) or by implementing ``make_store``.
    The hypothesis state machine needs ``make_store``: it builds a fresh store per
    example, outside pytest's fixture machinery.
    """

    supports_subscribe: ClassVar[bool] = False
    """The store implements ``subscribe_events`` (``SubscribableExecutionStore``)."""

    state_machine_max_examples: ClassVar[int] = 60
    """Hypothesis examples (random operation sequences) per state machine run."""

    state_machine_step_count: ClassVar[int] = 50
    """Store operations per example."""

    @classmethod
    def make_store(cls) -> WorkflowExecutionStore | Awaitable[WorkflowExecutionStore]:
        """A fresh, empty store (sync or async). Its ``close()`` is awaited afterwards."""
        raise NotImplementedError(
            f"{cls.__name__} provides no store: implement the classmethod `make_store` "
            "returning a fresh, empty store (sync or async). The `store` fixture defaults "
            "to it and the state machine needs it. See docs/runtime/writing-a-store.md."
        )

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Mark async tests explicitly so the suite runs in pytest-asyncio's strict mode
        # (its default) as well as in auto mode.
        super().__init_subclass__(**kwargs)
        for name, value in vars(cls).items():
            if name.startswith("test_") and inspect.iscoroutinefunction(value):
                pytest.mark.asyncio(value)

    @pytest_asyncio.fixture
    async def store(self) -> AsyncIterator[WorkflowExecutionStore]:
        """A fresh, empty store per test; defaults to ``make_store``."""
        store = await open_store(type(self))
        try:
            yield store
        finally:
            await close_store(store)


async def open_store(fixtures: type[StoreFixtures]) -> WorkflowExecutionStore:
    """Call ``fixtures.make_store`` and await it when it is async."""
    made: Any = fixtures.make_store()
    if inspect.isawaitable(made):
        made = await made
    return made  # type: ignore[no-any-return]


async def close_store(store: object) -> None:
    """Await ``store.close()`` when the store has one."""
    close = getattr(store, "close", None)
    if callable(close):
        result = close()
        if inspect.isawaitable(result):
            await result


# -- helpers the mixins share ---------------------------------------------------------


def step_event(n: int, *, ts: int = T0, result: Any = None) -> StepFinished:
    """A persisted checkpoint event, distinguishable by ``n``."""
    return StepFinished(ts=ts, step_id=f"step-{n}", result={"n": n} if result is None else result)


def signal_wait(
    name: str = "approved", step_id: str = "wait-1", deadline: int | None = None
) -> SignalAwaitable:
    """The awaitable of a ``wait_for_event`` at ``step_id``."""
    return SignalAwaitable(step_id=step_id, signal_name=name, deadline=deadline)


def approval_wait(approval_id: str = "approval-1", step_id: str = "approve-1") -> ApprovalAwaitable:
    """The awaitable of an ``approve`` at ``step_id``."""
    return ApprovalAwaitable(step_id=step_id, approval_id=approval_id, title="Ship it?")


def pause_transition(
    *awaiting: SignalAwaitable | ApprovalAwaitable,
    wake_at: int | None = None,
    wake_kind: WakeKind = "timer",
    wake_step_id: str | None = None,
) -> RunTransition:
    """The ``paused`` transition the runtime commits with a wait's events."""
    items: list[Any] = list(awaiting)
    waiting_for, pending = split_awaiting(items)
    return RunTransition(
        status="paused",
        awaiting=items or None,
        waiting_for=waiting_for,
        pending_approval=pending,
        wake_at=wake_at,
        wake_kind=wake_kind if wake_at is not None else None,
        wake_step_id=wake_step_id,
    )


async def create(
    store: WorkflowExecutionStore,
    run_id: str,
    *,
    now: int = T0,
    workflow_id: str = WORKFLOW_ID,
    input: Any = None,
    lease_owner: str | None = None,
    lease_ms: int | None = None,
) -> WorkflowExecution:
    """Create a run and return it, checking it was new."""
    result = await store.create_run(
        run_id=run_id,
        workflow_id=workflow_id,
        workflow_version=None,
        input={"run": run_id} if input is None else input,
        now=now,
        lease_owner=lease_owner,
        lease_ms=lease_ms,
    )
    assert result.kind == "created", f"{run_id!r} already existed"
    return result.run


async def append(
    store: WorkflowExecutionStore,
    run_id: str,
    *events: WorkflowEvent,
    now: int = T0,
    transition: RunTransition | None = None,
) -> int:
    """Append at the log's current end (read from the store)."""
    run = await must_load(store, run_id)
    return await store.append_events(
        run_id=run_id,
        expected_next_index=run.next_index,
        events=list(events),
        now=now,
        transition=transition,
    )


async def pause_on_signal(
    store: WorkflowExecutionStore,
    run_id: str,
    *,
    name: str = "approved",
    step_id: str = "wait-1",
    now: int = T0,
    wake_at: int | None = None,
) -> WorkflowExecution:
    """Append SIGNAL_AWAITED and pause the run on it, as the runtime does."""
    event = SignalAwaited(ts=now, step_id=step_id, name=name, deadline=wake_at)
    wait = signal_wait(name, step_id, wake_at)
    transition = pause_transition(
        wait, wake_at=wake_at, wake_kind="deadline", wake_step_id=step_id if wake_at else None
    )
    await append(store, run_id, event, now=now, transition=transition)
    return await must_load(store, run_id)


async def must_load(store: WorkflowExecutionStore, run_id: str) -> WorkflowExecution:
    """The run, which must exist."""
    run = await store.load_run(run_id)
    assert run is not None, f"run {run_id!r} is missing"
    return run


async def snapshot(store: WorkflowExecutionStore, *run_ids: str) -> dict[str, Any]:
    """Everything observable about ``run_ids`` and the schedules, for "unchanged" checks."""
    runs: dict[str, Any] = {}
    for run_id in run_ids:
        timeline = await store.get_run_timeline(run_id)
        runs[run_id] = None if timeline is None else timeline.model_dump()
    page = await store.list_runs(limit=1000)
    return {
        "runs": runs,
        "listed": sorted(r.run_id for r in page.runs),
        "schedules": [s.model_dump() for s in await store.list_schedules()],
    }
