"""Request parsing and webhook delivery."""

from __future__ import annotations

import json
from typing import Any

import pytest
from workflow_core_helpers import first, types

from tanstack_workflow.core import (
    ApprovalResult,
    InMemoryRunStore,
    SignalDelivery,
    WorkflowContext,
    WorkflowEvent,
    WorkflowRequest,
    WorkflowRequestParseError,
    create_workflow,
    handle_workflow_webhook,
    parse_workflow_request,
    run_workflow,
)

Ctx = WorkflowContext[Any, Any]


def test_parses_input_run_id_approval_and_abort() -> None:
    request = parse_workflow_request(
        json.dumps(
            {
                "input": {"topic": "hello"},
                "runId": "r1",
                "approval": {"approvalId": "a1", "approved": True},
                "abort": False,
            }
        )
    )
    assert request.input == {"topic": "hello"}
    assert request.run_id == "r1"
    assert request.abort is False
    assert request.signal_delivery is None
    assert request.approval_result == ApprovalResult(approved=True, approval_id="a1")


def test_signal_wins_over_approval() -> None:
    request = parse_workflow_request(
        {
            "runId": "r1",
            "approval": {"approvalId": "a1", "approved": True},
            "signal": {"signalId": "s1", "name": "approve", "payload": {"ok": True}},
        }
    )
    assert request.approval_result is None
    assert request.signal_delivery == SignalDelivery(
        signal_id="s1", name="approve", payload={"ok": True}
    )


def test_signal_with_step_id_and_meta() -> None:
    request = parse_workflow_request(
        b'{"runId":"r","signal":{"signalId":"s","name":"evt","payload":1,"stepId":"w","meta":{"k":1}}}'
    )
    assert request.signal_delivery == SignalDelivery("s", "evt", 1, step_id="w", meta={"k": 1})


def test_snake_case_keys_are_accepted_too() -> None:
    request = parse_workflow_request(
        {"run_id": "r", "approval": {"approval_id": "a", "approved": False}}
    )
    assert request.run_id == "r"
    assert request.approval_result == ApprovalResult(False, "a")


def test_empty_object_is_a_start_without_input() -> None:
    request = parse_workflow_request("{}")
    assert (request.run_id, request.input, request.abort) == (None, None, False)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{not valid json}", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (json.dumps("hello"), "must be a JSON object"),
        (json.dumps([1, 2, 3]), "must be a JSON object"),
        ({"runId": 5}, "runId"),
        ({"abort": "yes"}, "abort"),  # regression: lax parsing read "yes" as True
        ({"signal": {"name": "x"}}, "signal.signalId"),
        ({"signal": "x"}, "signal"),
        ({"approval": {"approvalId": "a", "approved": "maybe"}}, "approval.approved"),
        ({"approval": {"approvalId": "a", "approved": 1}}, "approval.approved"),
    ],
)
def test_invalid_requests(body: Any, message: str) -> None:
    with pytest.raises(WorkflowRequestParseError, match=message) as info:
        parse_workflow_request(body)
    if isinstance(body, str) and body.startswith("{not"):
        assert info.value.__cause__ is not None


def waiting_workflow() -> Any:
    @create_workflow("webhook").handler
    async def wf(ctx: Ctx) -> Any:
        payload = await ctx.wait_for_event("paid")
        decision = await ctx.approve(title="ship?", id="ship")
        return {"payload": payload, "approved": decision.approved}

    return wf


async def test_webhook_delivers_a_signal_then_an_approval(store: InMemoryRunStore) -> None:
    wf = waiting_workflow()
    await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    published: list[tuple[str, str]] = []

    def publish(run_id: str, event: WorkflowEvent) -> None:
        published.append((run_id, event.type))

    events = await handle_workflow_webhook(
        workflow=wf,
        run_store=store,
        payload={
            "runId": "r",
            "signal": {"signalId": "evt-1", "name": "paid", "payload": {"amount": 5}},
        },
        publish=publish,
    )
    assert first(events, "SIGNAL_RESOLVED").payload == {"amount": 5}
    assert "APPROVAL_REQUESTED" in types(events)
    assert published == [("r", t) for t in types(events)]

    request = parse_workflow_request(
        {"runId": "r", "approval": {"approvalId": "r:ship", "approved": True}}
    )
    events = await handle_workflow_webhook(workflow=wf, run_store=store, payload=request)
    assert first(events, "RUN_FINISHED").output == {"payload": {"amount": 5}, "approved": True}


async def test_webhook_redelivery_is_harmless(store: InMemoryRunStore) -> None:
    wf = waiting_workflow()
    await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    body = {"runId": "r", "signal": {"signalId": "evt-1", "name": "paid", "payload": 1}}
    await handle_workflow_webhook(workflow=wf, run_store=store, payload=body)
    log = list(await store.get_events("r"))
    assert await handle_workflow_webhook(workflow=wf, run_store=store, payload=body) == []
    assert list(await store.get_events("r")) == log


async def test_webhook_for_a_wrong_signal_reports_it_lost(store: InMemoryRunStore) -> None:
    wf = waiting_workflow()
    await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    events = await handle_workflow_webhook(
        workflow=wf,
        run_store=store,
        payload={"runId": "r", "signal": {"signalId": "x", "name": "refunded"}},
    )
    assert first(events, "RUN_ERRORED").code == "signal_lost"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"signal": {"signalId": "s", "name": "paid"}}, "runId"),
        ({"runId": "r"}, "signal or an approval"),
        ({"runId": "r", "input": {}}, "signal or an approval"),
        ({"runId": 1}, "runId"),
    ],
)
async def test_webhook_rejects_payloads_it_cannot_deliver(
    store: InMemoryRunStore, payload: Any, message: str
) -> None:
    with pytest.raises(WorkflowRequestParseError, match=message):
        await handle_workflow_webhook(workflow=waiting_workflow(), run_store=store, payload=payload)


def test_workflow_request_model_is_exported() -> None:
    assert WorkflowRequest.model_validate({"runId": "x"}).run_id == "x"
