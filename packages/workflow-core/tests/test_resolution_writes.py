"""A delivery's resolution is written with the run's next durable write (one write per
resume), but always before a fresh step runs, and races are classified as before."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from tanstack_workflow.core import (
    InMemoryRunStore,
    RunState,
    SignalDelivery,
    SignalResolved,
    WorkflowContext,
    WorkflowEvent,
    WorkflowValidationError,
    create_workflow,
    drive_workflow,
)

Ctx = WorkflowContext[Any, Any]


class CountingStore(InMemoryRunStore):
    """Counts writes; ``rival`` (when set) is appended by "another writer" first."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0
        self.rival: WorkflowEvent | None = None

    async def commit_transition(
        self,
        run_id: str,
        expected_next_index: int,
        events: Sequence[WorkflowEvent],
        state: RunState,
    ) -> None:
        self.writes += 1
        if self.rival is not None:
            rival, self.rival = self.rival, None
            await super().append_event(run_id, expected_next_index, rival)
        await super().commit_transition(run_id, expected_next_index, events, state)


@create_workflow("sleepy").handler
async def sleepy(ctx: Ctx) -> str:
    got = await ctx.wait_for_event("go", id="go")
    ctx.emit("after-wait", got)
    return f"got {got}"


async def deliver(store: CountingStore, workflow: Any, signal_id: str = "s1") -> Any:
    events: list[WorkflowEvent] = []
    outcome = await drive_workflow(
        workflow=workflow,
        run_store=store,
        run_id="r",
        emit=events.append,
        signal_delivery=SignalDelivery(signal_id=signal_id, name="go", payload=7),
    )
    return outcome, events


async def test_resume_to_the_end_is_one_write() -> None:
    store = CountingStore()
    await drive_workflow(workflow=sleepy, run_store=store, run_id="r")
    store.writes = 0
    outcome, events = await deliver(store, sleepy)
    assert (outcome.kind, outcome.output) == ("finished", "got 7")
    assert store.writes == 1
    logged = [e.type for e in await store.get_events("r")]
    assert logged == ["SIGNAL_AWAITED", "SIGNAL_RESOLVED", "RUN_FINISHED"]
    # The live stream keeps causal order: the resolution before what followed it.
    assert [e.type for e in events] == [
        "RUN_STARTED",
        "SIGNAL_RESOLVED",
        "CUSTOM",
        "RUN_FINISHED",
    ]


async def test_the_resolution_is_durable_before_a_step_runs() -> None:
    store = CountingStore()
    seen: list[list[str]] = []

    async def look() -> int:
        seen.append([e.type for e in await store.get_events("r")])
        return 1

    @create_workflow("stepper").handler
    async def stepper(ctx: Ctx) -> int:
        await ctx.wait_for_event("go", id="go")
        return int(await ctx.step("after", look))

    await drive_workflow(workflow=stepper, run_store=store, run_id="r")
    outcome, _ = await deliver(store, stepper)
    assert outcome.kind == "finished"
    assert seen == [["SIGNAL_AWAITED", "SIGNAL_RESOLVED"]]


async def test_a_rival_resolution_makes_the_delivery_lost() -> None:
    store = CountingStore()
    await drive_workflow(workflow=sleepy, run_store=store, run_id="r")
    store.rival = SignalResolved(ts=1, step_id="go", name="go", signal_id="other", payload=1)
    outcome, events = await deliver(store, sleepy)
    assert (outcome.kind, outcome.code, outcome.persisted) == ("lost", "signal_lost", False)
    assert "CUSTOM" not in [e.type for e in events]  # nothing from the lost continuation
    logged = [e.type for e in await store.get_events("r")]
    assert logged == ["SIGNAL_AWAITED", "SIGNAL_RESOLVED"]  # only the rival's


async def test_the_same_delivery_winning_elsewhere_is_a_duplicate() -> None:
    store = CountingStore()
    await drive_workflow(workflow=sleepy, run_store=store, run_id="r")
    store.rival = SignalResolved(ts=1, step_id="go", name="go", signal_id="s1", payload=7)
    outcome, _ = await deliver(store, sleepy, signal_id="s1")
    assert (outcome.kind, outcome.code) == ("duplicate", "duplicate")


async def test_a_refused_output_does_not_refuse_the_delivery() -> None:

    @create_workflow("big").handler
    async def big(ctx: Ctx) -> str:
        await ctx.wait_for_event("go", id="go")
        return "x\u0000"  # the store refuses NUL characters

    class Refusing(CountingStore):
        async def commit_transition(
            self,
            run_id: str,
            expected_next_index: int,
            events: Sequence[WorkflowEvent],
            state: RunState,
        ) -> None:
            if any(e.type == "RUN_FINISHED" for e in events):
                raise WorkflowValidationError("output", "contains NUL")
            await super().commit_transition(run_id, expected_next_index, events, state)

    store = Refusing()
    await drive_workflow(workflow=big, run_store=store, run_id="r")
    # The refusal is about the output, as it was before resolutions were combined: the
    # resolution is written on its own, and the refused terminal write still raises.
    with pytest.raises(WorkflowValidationError, match="NUL"):
        await deliver(store, big)
    logged = [e.type for e in await store.get_events("r")]
    assert logged == ["SIGNAL_AWAITED", "SIGNAL_RESOLVED"]
