"""Regression: the in-memory store refuses non-JSON events and bad delivery strings."""

from __future__ import annotations

import pytest

from tanstack_workflow.core import (
    ApprovalResult,
    SignalDelivery,
    StepFinished,
    WorkflowValidationError,
)
from tanstack_workflow.runtime import in_memory_workflow_execution_store


@pytest.mark.parametrize("result", [{1, 2}, b"raw", {1: "int key"}, object()])
async def test_events_with_non_json_values_are_refused(result: object) -> None:
    store = in_memory_workflow_execution_store()
    await store.create_run(run_id="r", workflow_id="w", workflow_version=None, input=None, now=1)
    with pytest.raises(WorkflowValidationError):
        await store.append_events(
            run_id="r",
            expected_next_index=0,
            events=[StepFinished(ts=1, step_id="s", result=result)],
            now=1,
        )
    assert await store.read_events("r") == []


async def test_nul_in_delivery_strings_is_refused() -> None:
    store = in_memory_workflow_execution_store()
    await store.create_run(run_id="r", workflow_id="w", workflow_version=None, input=None, now=1)
    with pytest.raises(WorkflowValidationError):
        await store.deliver_signal(
            run_id="r", delivery=SignalDelivery(signal_id="s", name="n", meta={"a": "\x00"}), now=1
        )
    approval = ApprovalResult(approved=True, approval_id="a", feedback="\x00")
    with pytest.raises(WorkflowValidationError):
        await store.deliver_approval(run_id="r", approval=approval, now=1)
    with pytest.raises(WorkflowValidationError):
        await store.cancel_run(run_id="r", reason="\x00", now=1)
    run = await store.load_run("r")
    assert run is not None
    assert run.status == "running"
    assert run.next_index == 0
