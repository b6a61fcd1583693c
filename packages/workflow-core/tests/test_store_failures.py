"""A store outage during a durable write is not the workflow's error: the run is not failed."""

from __future__ import annotations

from typing import Any

import pytest

from tanstack_workflow.core import (
    InMemoryRunStore,
    WorkflowEvent,
    create_workflow,
    run_workflow,
)


class FlakyStore(InMemoryRunStore):
    """Raises ConnectionError on the first ``failures`` appends after ``arm()``."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 0

    async def append_event(
        self, run_id: str, expected_next_index: int, event: WorkflowEvent
    ) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("connection to the database was lost")
        await super().append_event(run_id, expected_next_index, event)


async def test_a_failed_step_append_propagates_and_leaves_the_run_recoverable() -> None:
    store = FlakyStore()
    calls: list[str] = []

    @create_workflow("flaky").handler
    async def wf(ctx: Any) -> str:
        await ctx.step("a", lambda: calls.append("a") or "a")
        return "done"

    store.failures = 1
    with pytest.raises(ConnectionError):
        await run_workflow(workflow=wf, run_store=store, run_id="r1").result()
    state = await store.get_run_state("r1")
    assert state is not None
    assert state.status == "running"  # not errored: nothing terminal was written
    assert await store.get_events("r1") == []

    outcome = await run_workflow(workflow=wf, run_store=store, run_id="r1", recover=True).result()
    assert outcome.kind == "finished"
    assert outcome.output == "done"
