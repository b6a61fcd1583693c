"""Helpers shared by the workflow-core tests (imported via conftest's sys.path entry)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from tanstack_workflow.core import (
    DeleteReason,
    InMemoryRunStore,
    RunState,
    WorkflowEvent,
    WorkflowOutcome,
    WorkflowRun,
    in_memory_run_store,
)


async def collect(run: WorkflowRun) -> tuple[list[WorkflowEvent], WorkflowOutcome]:
    """Drain an invocation: its events and its outcome."""
    events = [event async for event in run]
    assert run.outcome is not None
    return events, run.outcome


def types(events: Sequence[WorkflowEvent]) -> list[str]:
    return [event.type for event in events]


def first(events: Sequence[WorkflowEvent], type_: str) -> Any:
    """The first event of ``type_`` (fails the test when there is none)."""
    for event in events:
        if event.type == type_:
            return event
    raise AssertionError(f"no {type_} event in {types(events)}")


def all_of(events: Sequence[WorkflowEvent], type_: str) -> list[Any]:
    return [event for event in events if event.type == type_]


async def crashed_copy(store: InMemoryRunStore, run_id: str, keep: int) -> InMemoryRunStore:
    """A fresh store holding the run's state and only the first ``keep`` log events.

    Models a crash after ``keep`` appends: the snapshot says "running" with no wait,
    so the run must be resumed with ``recover=True``.
    """
    state = await store.get_run_state(run_id)
    assert state is not None
    events = list(await store.get_events(run_id))[:keep]
    copy = in_memory_run_store()
    running = state.model_copy(
        update={
            "status": "running",
            "awaiting": None,
            "waiting_for": None,
            "pending_approval": None,
            "output": None,
            "error": None,
            "error_code": None,
        }
    )
    await copy.set_run_state(run_id, running)
    for index, event in enumerate(events):
        await copy.append_event(run_id, index, event)
    return copy


class GatedStore:
    """A ``RunStore`` that can hold the next ``append_event`` until released.

    Lets a test interleave two drivers of the same run deterministically.
    """

    def __init__(self, inner: InMemoryRunStore | None = None) -> None:
        self.inner = inner or in_memory_run_store()
        self.hold_next = False
        self.arrived = asyncio.Event()
        self.release = asyncio.Event()

    async def get_run_state(self, run_id: str) -> RunState | None:
        return await self.inner.get_run_state(run_id)

    async def set_run_state(self, run_id: str, state: RunState) -> None:
        await self.inner.set_run_state(run_id, state)

    async def delete_run(self, run_id: str, reason: DeleteReason) -> None:
        await self.inner.delete_run(run_id, reason)

    async def append_event(
        self, run_id: str, expected_next_index: int, event: WorkflowEvent
    ) -> None:
        if self.hold_next:
            self.hold_next = False
            self.arrived.set()
            await self.release.wait()
        await self.inner.append_event(run_id, expected_next_index, event)

    async def get_events(self, run_id: str, from_index: int = 0) -> Sequence[WorkflowEvent]:
        return await self.inner.get_events(run_id, from_index)


class GatedTransitionStore(GatedStore):
    """``GatedStore`` that also offers (and gates) the atomic ``commit_transition``."""

    async def commit_transition(
        self,
        run_id: str,
        expected_next_index: int,
        events: Sequence[WorkflowEvent],
        state: RunState,
    ) -> None:
        if self.hold_next:
            self.hold_next = False
            self.arrived.set()
            await self.release.wait()
        await self.inner.commit_transition(run_id, expected_next_index, events, state)
