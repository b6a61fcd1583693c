"""A bounded cache of workflows parked in this process, so a resume skips the replay.

When a run driven here stops at a wait, its handler stays parked (core's
``SuspendedWorkflow``). The next delivery or timer for that run, once its lease is
held, continues the parked handler instead of reading and replaying the whole log,
provided the store still reports the same log length (the CAS index) and creation
time. Any other writer (another process, a store-level delivery, a cancellation)
changes the index, so a stale entry is dropped and the run is replayed from the store.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from typing import Any

from tanstack_workflow.core import SuspendedWorkflow, WorkflowDefinition

from ._models import WorkflowExecution

DEFAULT_SUSPENDED_RUNS = 256
UNWIND_TIMEOUT_S = 5.0


class SuspendedRuns:
    """Parked workflows by run id, least recently parked evicted first."""

    def __init__(self, capacity: int = DEFAULT_SUSPENDED_RUNS) -> None:
        self.capacity = capacity
        self._runs: OrderedDict[
            str, tuple[SuspendedWorkflow, WorkflowDefinition[Any, Any, Any]]
        ] = OrderedDict()
        self._unwinding: set[asyncio.Task[None]] = set()

    @property
    def enabled(self) -> bool:
        """False when the capacity is 0: every resume replays from the store."""
        return self.capacity > 0

    def __contains__(self, run_id: object) -> bool:
        return run_id in self._runs

    def __len__(self) -> int:
        return len(self._runs)

    def take(
        self, run: WorkflowExecution, workflow: WorkflowDefinition[Any, Any, Any]
    ) -> SuspendedWorkflow | None:
        """Remove and return the run's parked workflow if it still matches the store's
        view of the run (read under the caller's lease); a stale one is discarded."""
        entry = self._runs.pop(run.run_id, None)
        if entry is None:
            return None
        suspended, registered = entry
        if registered is workflow and suspended.matches(
            next_index=run.next_index, created_at=run.created_at
        ):
            return suspended
        self._discard(suspended)
        return None

    def keep(
        self, suspended: SuspendedWorkflow, workflow: WorkflowDefinition[Any, Any, Any]
    ) -> None:
        """Remember a parked workflow (evicting the oldest beyond ``capacity``)."""
        previous = self._runs.pop(suspended.run_id, None)
        if previous is not None and previous[0] is not suspended:
            self._discard(previous[0])
        if not self.enabled:
            self._discard(suspended)
            return
        self._runs[suspended.run_id] = (suspended, workflow)
        while len(self._runs) > self.capacity:
            _, (oldest, _) = self._runs.popitem(last=False)
            self._discard(oldest)

    def drop(self, run_id: str) -> None:
        """Forget the run's parked workflow, if any (the run ended or moved on)."""
        entry = self._runs.pop(run_id, None)
        if entry is not None:
            self._discard(entry[0])

    def _discard(self, suspended: SuspendedWorkflow) -> None:
        suspended.discard()
        task = suspended.task
        if task is not None and not task.done():
            self._unwinding.add(task)
            task.add_done_callback(self._unwinding.discard)

    async def aclose(self) -> None:
        """Unwind every parked handler (their ``finally`` blocks run; nothing is written)."""
        for run_id in list(self._runs):
            self.drop(run_id)
        pending = [t for t in self._unwinding if t.get_loop() is asyncio.get_running_loop()]
        if pending:
            with contextlib.suppress(Exception):
                await asyncio.wait(pending, timeout=UNWIND_TIMEOUT_S)
