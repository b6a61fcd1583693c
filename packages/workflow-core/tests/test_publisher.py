"""The publish hook: every event fans out, and a broken publisher breaks nothing."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from workflow_core_helpers import collect, types

from tanstack_workflow.core import (
    InMemoryRunStore,
    WorkflowContext,
    WorkflowEvent,
    create_workflow,
    run_workflow,
)

Ctx = WorkflowContext[Any, Any]


async def test_publish_sees_every_event_with_the_run_id(store: InMemoryRunStore) -> None:
    @create_workflow("publish").handler
    async def wf(ctx: Ctx) -> None:
        await ctx.step("echo", lambda: "HI")

    seen: list[tuple[str, str]] = []
    events, outcome = await collect(
        run_workflow(
            workflow=wf,
            run_store=store,
            input={"msg": "hi"},
            publish=lambda run_id, event: seen.append((run_id, event.type)),
        )
    )
    assert [t for _, t in seen] == types(events)
    assert types(events) == ["RUN_STARTED", "STEP_STARTED", "STEP_FINISHED", "RUN_FINISHED"]
    assert {run_id for run_id, _ in seen} == {outcome.run_id}
    assert outcome.run_id.startswith("run_")


async def test_async_publishers_are_awaited(store: InMemoryRunStore) -> None:
    @create_workflow("publish-async").handler
    async def wf(ctx: Ctx) -> None:
        await ctx.wait_for_event("webhook")

    awaited: list[str] = []

    async def publish(run_id: str, event: WorkflowEvent) -> None:
        if event.type == "SIGNAL_AWAITED":
            awaited.append(event.name)

    await run_workflow(workflow=wf, run_store=store, publish=publish).result()
    assert awaited == ["webhook"]


@pytest.mark.parametrize("is_async", [False, True])
async def test_a_raising_publisher_does_not_break_the_run(
    store: InMemoryRunStore, caplog: pytest.LogCaptureFixture, is_async: bool
) -> None:
    @create_workflow("publish-throws").handler
    async def wf(ctx: Ctx) -> dict[str, bool]:
        await ctx.step("s", lambda: 1)
        return {"ok": True}

    def broken(run_id: str, event: WorkflowEvent) -> None:
        raise ConnectionError("publisher offline")

    async def broken_async(run_id: str, event: WorkflowEvent) -> None:
        raise ConnectionError("publisher offline")

    with caplog.at_level(logging.WARNING, logger="tanstack_workflow.core"):
        events, outcome = await collect(
            run_workflow(workflow=wf, run_store=store, publish=broken_async if is_async else broken)
        )
    assert outcome.output == {"ok": True}
    assert types(events)[-1] == "RUN_FINISHED"
    assert "publisher failed" in caplog.text
