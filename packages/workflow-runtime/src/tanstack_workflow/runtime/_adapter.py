"""``create_run_store_adapter``: a core ``RunStore`` view of an execution store.

The engine writes through this adapter. Pauses and terminal events arrive as
``commit_transition`` calls, which become one ``append_events`` with a transition:
one store write per engine transition.
"""

from __future__ import annotations

from collections.abc import Sequence

from tanstack_workflow.core import Clock, DeleteReason, RunState, WorkflowEvent, system_clock

from ._models import RunTransition
from ._store import WorkflowExecutionStore


class RunStoreAdapter:
    """Implements core's ``RunStore`` and ``TransitionRunStore`` over an execution store."""

    def __init__(self, store: WorkflowExecutionStore, clock: Clock | None = None) -> None:
        self.store = store
        self._clock = clock or system_clock

    async def get_run_state(self, run_id: str) -> RunState | None:
        return await self.store.load_run_state(run_id)

    async def set_run_state(self, run_id: str, state: RunState) -> None:
        await self.store.save_run_state(state, now=self._clock())

    async def delete_run(self, run_id: str, reason: DeleteReason) -> None:
        await self.store.delete_run(run_id, reason)

    async def append_event(
        self, run_id: str, expected_next_index: int, event: WorkflowEvent
    ) -> None:
        await self.store.append_events(
            run_id=run_id,
            expected_next_index=expected_next_index,
            events=[event],
            now=self._clock(),
        )

    async def commit_transition(
        self,
        run_id: str,
        expected_next_index: int,
        events: Sequence[WorkflowEvent],
        state: RunState,
    ) -> None:
        await self.store.append_events(
            run_id=run_id,
            expected_next_index=expected_next_index,
            events=events,
            now=self._clock(),
            transition=RunTransition.from_run_state(state),
        )

    async def get_events(self, run_id: str, from_index: int = 0) -> Sequence[WorkflowEvent]:
        return [
            stored.event for stored in await self.store.read_events(run_id, from_index=from_index)
        ]


def create_run_store_adapter(
    store: WorkflowExecutionStore, *, clock: Clock | None = None
) -> RunStoreAdapter:
    """Use ``store`` wherever core expects a ``RunStore`` (e.g. ``run_workflow``)."""
    return RunStoreAdapter(store, clock)
