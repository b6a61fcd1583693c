"""Durable writes of one invocation: CAS appends, and delivery resolutions that ride
along with the run's next write.

A delivery (a signal, an approval, a fired timer or deadline) resolves the wait it
targets. Its resolution is not written on its own: it is kept pending and goes into
the run's *next* durable write (the next pause, ``ctx.now``/``ctx.uuid``, or the
run's end), so resuming a run costs one write instead of two. Before a fresh step
runs, a pending resolution is written first: no step ever executes on a resolution
that is not in the log. Events emitted meanwhile are held back and released in order
once the resolution is durable, so the live stream never shows a resolution the log
does not have. A lost CAS race is classified exactly as an immediate write would be
(``duplicate`` when the same delivery already won, else lost), and a value the store
refuses is attributed to the resolution only when the resolution alone is refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeGuard

from ._errors import (
    LogConflictError,
    WorkflowError,
    WorkflowInterrupt,
    WorkflowPaused,
    WorkflowValidationError,
)
from ._events import ApprovalResolved, SignalResolved, WorkflowEvent
from ._history import HistoryIndex
from ._run_state import RunState
from ._run_store import RunStore, TransitionRunStore


class DeliveryOutcome(WorkflowError):
    """Internal: a delivery met the wait it targeted and was not applied."""

    def __init__(self, kind: str, code: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.code = code


class DeliveryRejected(WorkflowPaused):
    """Internal: unwinds the handler when a delivery is rejected or lost at its wait."""

    def __init__(self, outcome: DeliveryOutcome) -> None:
        super().__init__()
        self.outcome = outcome


class RunSuperseded(WorkflowInterrupt):
    """Internal: another writer appended to this run's log (or the store failed); stop."""


@dataclass
class PendingResolution:
    """A delivery's resolution applied in memory, to be written with the next write."""

    events: list[WorkflowEvent]
    lost_code: str
    signal_id: str | None
    held: list[WorkflowEvent] = field(default_factory=list)


_TRANSITIONS: dict[type, bool] = {}


def _commits_transitions(store: RunStore) -> TypeGuard[TransitionRunStore]:
    """``isinstance(store, TransitionRunStore)``, memoized per type: a runtime protocol
    check inspects every attribute and costs more than an in-memory append."""
    kind = type(store)
    known = _TRANSITIONS.get(kind)
    if known is None:
        known = _TRANSITIONS[kind] = isinstance(store, TransitionRunStore)
    return known


class LogWriter:
    """The write side of the replayer (a mixin: ``Replayer`` provides the state)."""

    run_id: str
    run_state: RunState
    store: RunStore
    history: HistoryIndex
    next_index: int
    appended: int
    closed: bool
    conflict: LogConflictError | None
    store_failure: Exception | None
    pending: PendingResolution | None
    _lock: asyncio.Lock
    _emit: Callable[[WorkflowEvent], None]

    def emit(self, event: WorkflowEvent) -> None:
        """Emit an event now, or after the pending resolution is durable."""
        if self.pending is not None:
            self.pending.held.append(event)
        else:
            self._emit(event)

    async def append(self, events: Sequence[WorkflowEvent], state: RunState | None = None) -> None:
        """Append ``events`` at the next index (and store ``state``) with CAS; a pending
        resolution goes first, in the same write."""
        pending = self.pending
        if pending is None:
            await self._write(events, state)
            for event in events:
                self._emit(event)
            return
        self.pending = None
        index = self.next_index
        try:
            # The run continues past the delivered wait: store at least the running state.
            await self._write(
                [*pending.events, *events], state or self.run_state, len(pending.events)
            )
        except WorkflowValidationError:
            # Which part was refused? Settle the resolution alone, as if written at once;
            # a refusal of the new events then reaches the workflow as usual.
            self.pending = pending
            await self.flush_resolution()
            await self.append(events, state)
            return
        except RunSuperseded:
            if self.store_failure is not None:
                raise
            raise await self._lost(index, pending) from None
        for event in [*pending.events, *pending.held, *events]:
            self._emit(event)

    def defer_resolution(
        self, events: list[WorkflowEvent], lost_code: str, state: RunState, signal_id: str | None
    ) -> None:
        """Apply a delivery's resolution in memory; it is written with the next write."""
        assert self.pending is None, "one delivery per invocation"
        self.pending = PendingResolution(events, lost_code, signal_id)
        self.run_state = state
        for event in events:
            self.history.add(event)

    async def flush_resolution(self) -> None:
        """Write the pending resolution on its own (a fresh step is about to run)."""
        pending = self.pending
        if pending is None:
            return
        self.pending = None
        index = self.next_index
        try:
            await self._write(pending.events, self.run_state, len(pending.events))
        except WorkflowValidationError as exc:
            # The store refused the resolution (an oversized payload, a NUL character):
            # bad input from outside must leave the run as it was, not fail it.
            code = pending.lost_code.replace("_lost", "_rejected")
            raise DeliveryRejected(DeliveryOutcome("rejected", code, str(exc))) from exc
        except RunSuperseded:
            if self.store_failure is not None:
                raise
            raise await self._lost(index, pending) from None
        for event in [*pending.events, *pending.held]:
            self._emit(event)

    async def _lost(self, index: int, pending: PendingResolution) -> DeliveryRejected:
        """Why the resolution's CAS failed: the same delivery already won, or another."""
        self.conflict = None
        winner = await self.store.get_events(self.run_id, index)
        resolved = next(
            (e for e in winner if isinstance(e, SignalResolved | ApprovalResolved)), None
        )
        if (
            isinstance(resolved, SignalResolved)
            and pending.signal_id is not None
            and resolved.signal_id == pending.signal_id
        ):
            return DeliveryRejected(
                DeliveryOutcome("duplicate", "duplicate", "signal already delivered")
            )
        return DeliveryRejected(
            DeliveryOutcome(
                "lost", pending.lost_code, "delivery lost: another writer resolved this wait first"
            )
        )

    async def _write(
        self, events: Sequence[WorkflowEvent], state: RunState | None, indexed: int = 0
    ) -> None:
        """One CAS write at ``next_index``; the first ``indexed`` events are already in
        the history index."""
        async with self._lock:
            if self.closed:
                raise WorkflowPaused()
            index = self.next_index
            try:
                if state is not None and _commits_transitions(self.store):
                    await self.store.commit_transition(self.run_id, index, events, state)
                else:
                    for offset, event in enumerate(events):
                        await self.store.append_event(self.run_id, index + offset, event)
                    if state is not None:
                        await self.store.set_run_state(self.run_id, state)
            except LogConflictError as conflict:
                self.conflict = conflict
                self.closed = True
                raise RunSuperseded() from conflict
            except WorkflowValidationError:
                raise  # the store refused the value: deterministic, the workflow sees it
            except Exception as failure:
                # A store outage is not the workflow's error: stop driving without writing
                # a terminal event, so a later invocation replays from the last checkpoint.
                self.store_failure = failure
                self.closed = True
                raise RunSuperseded() from failure
            self.next_index = index + len(events)
            self.appended += len(events)
            if state is not None:
                self.run_state = state
            for event in events[indexed:]:
                self.history.add(event)
