"""The low-level ``RunStore`` protocol the engine persists through, and an in-memory one."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from ._errors import LogConflictError
from ._events import WorkflowEvent
from ._run_state import DeleteReason, RunState

EventListener = Callable[[WorkflowEvent, int], None]
Unsubscribe = Callable[[], None]


@runtime_checkable
class RunStore(Protocol):
    """Backing storage of runs: a state snapshot plus an append-only event log with CAS.

    ``append_event`` must be atomic and raise ``LogConflictError`` when the log's next
    index is not ``expected_next_index``: that is what keeps two drivers of one run from
    both committing.
    """

    async def get_run_state(self, run_id: str) -> RunState | None:
        """The run's state snapshot, or ``None`` when there is no such run."""
        ...

    async def set_run_state(self, run_id: str, state: RunState) -> None:
        """Create or replace the run's state snapshot."""
        ...

    async def delete_run(self, run_id: str, reason: DeleteReason) -> None:
        """Forget the run and its log."""
        ...

    async def append_event(
        self, run_id: str, expected_next_index: int, event: WorkflowEvent
    ) -> None:
        """Append ``event`` at ``expected_next_index`` or raise ``LogConflictError``."""
        ...

    async def get_events(self, run_id: str, from_index: int = 0) -> Sequence[WorkflowEvent]:
        """The run's persisted events from ``from_index`` on, in append order."""
        ...


@runtime_checkable
class SubscribableRunStore(RunStore, Protocol):
    """A ``RunStore`` that can push new events to listeners (optional capability)."""

    def subscribe(self, run_id: str, from_index: int, on_event: EventListener) -> Unsubscribe:
        """Call ``on_event`` for every event from ``from_index`` on; return an unsubscriber."""
        ...


@runtime_checkable
class TransitionRunStore(RunStore, Protocol):
    """A ``RunStore`` that can append events and replace the state in one atomic write.

    Optional. The engine uses it for pauses and terminal events, saving a round trip
    per transition; without it the engine appends, then sets the state.
    """

    async def commit_transition(
        self,
        run_id: str,
        expected_next_index: int,
        events: Sequence[WorkflowEvent],
        state: RunState,
    ) -> None:
        """Append ``events`` from ``expected_next_index`` and store ``state`` atomically."""
        ...


class InMemoryRunStore:
    """A process-local ``RunStore`` for tests, demos and single-process use. Not durable.

    Runs that are not paused expire ``ttl_ms`` after their last write; expiry is checked
    lazily on access, so no background task is needed.
    """

    def __init__(self, ttl_ms: int = 3_600_000, clock: Callable[[], float] | None = None):
        self._ttl_ms = ttl_ms
        self._clock = clock or time.monotonic
        self._runs: dict[str, RunState] = {}
        self._logs: dict[str, list[WorkflowEvent]] = {}
        self._expires_at: dict[str, float] = {}
        self._listeners: dict[str, list[EventListener]] = {}

    def _touch(self, run_id: str) -> None:
        state = self._runs.get(run_id)
        if state is not None and state.status == "paused":
            self._expires_at.pop(run_id, None)
        else:
            self._expires_at[run_id] = self._clock() + self._ttl_ms / 1000

    def _expire(self, run_id: str) -> None:
        deadline = self._expires_at.get(run_id)
        if deadline is not None and self._clock() >= deadline:
            self._forget(run_id)

    def _forget(self, run_id: str) -> None:
        self._runs.pop(run_id, None)
        self._logs.pop(run_id, None)
        self._expires_at.pop(run_id, None)
        self._listeners.pop(run_id, None)

    async def get_run_state(self, run_id: str) -> RunState | None:
        self._expire(run_id)
        return self._runs.get(run_id)

    async def set_run_state(self, run_id: str, state: RunState) -> None:
        self._runs[run_id] = state
        self._touch(run_id)

    async def delete_run(self, run_id: str, reason: DeleteReason) -> None:
        self._forget(run_id)

    async def append_event(
        self, run_id: str, expected_next_index: int, event: WorkflowEvent
    ) -> None:
        self._append(run_id, expected_next_index, (event,))

    async def commit_transition(
        self,
        run_id: str,
        expected_next_index: int,
        events: Sequence[WorkflowEvent],
        state: RunState,
    ) -> None:
        self._append(run_id, expected_next_index, events)
        self._runs[run_id] = state
        self._touch(run_id)

    def _append(self, run_id: str, expected: int, events: Sequence[WorkflowEvent]) -> None:
        self._expire(run_id)
        log = self._logs.setdefault(run_id, [])
        if len(log) != expected:
            raise LogConflictError(run_id, expected, len(log))
        for event in events:
            log.append(event)
            for listener in list(self._listeners.get(run_id, ())):
                # a listener must never break an append
                with contextlib.suppress(Exception):
                    listener(event, len(log) - 1)
        self._touch(run_id)

    async def get_events(self, run_id: str, from_index: int = 0) -> Sequence[WorkflowEvent]:
        self._expire(run_id)
        return list(self._logs.get(run_id, ())[from_index:])

    def subscribe(self, run_id: str, from_index: int, on_event: EventListener) -> Unsubscribe:
        for index, event in enumerate(self._logs.get(run_id, ())[from_index:], from_index):
            with contextlib.suppress(Exception):
                on_event(event, index)
        listeners = self._listeners.setdefault(run_id, [])
        listeners.append(on_event)

        def unsubscribe() -> None:
            if on_event in listeners:
                listeners.remove(on_event)

        return unsubscribe


def in_memory_run_store(ttl_ms: int = 3_600_000) -> InMemoryRunStore:
    """A fresh process-local ``RunStore`` (not durable; runs expire ``ttl_ms`` after use)."""
    if ttl_ms <= 0:
        raise ValueError("ttl_ms must be positive")
    return InMemoryRunStore(ttl_ms=ttl_ms)
