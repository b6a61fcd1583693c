"""Turning HTTP request bodies into workflow invocations."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

from ._context import ApprovalResult
from ._definition import WorkflowDefinition
from ._errors import WorkflowRequestParseError
from ._events import WorkflowEvent
from ._iterator import Publish, run_workflow
from ._replay import SignalDelivery
from ._run_store import RunStore


class _Body(BaseModel):
    # strict: a JSON body has real booleans and strings; "yes" is not ``abort: true``
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", strict=True
    )


class SignalBody(_Body):
    """A signal in a request body."""

    signal_id: str
    name: str
    payload: Any = None
    step_id: str | None = None
    meta: dict[str, Any] | None = None

    def to_delivery(self) -> SignalDelivery:
        return SignalDelivery(self.signal_id, self.name, self.payload, self.step_id, self.meta)


class ApprovalBody(_Body):
    """An approval decision in a request body."""

    approval_id: str
    approved: bool
    feedback: str | None = None
    meta: dict[str, Any] | None = None

    def to_result(self) -> ApprovalResult:
        return ApprovalResult(self.approved, self.approval_id, self.feedback, self.meta)


class WorkflowRequest(_Body):
    """A parsed workflow request: start (``input``), signal, approval or abort."""

    run_id: str | None = None
    input: Any = None
    signal: SignalBody | None = None
    approval: ApprovalBody | None = None
    abort: bool = False

    @property
    def signal_delivery(self) -> SignalDelivery | None:
        """The signal as a ``SignalDelivery`` (``None`` when absent)."""
        return self.signal.to_delivery() if self.signal else None

    @property
    def approval_result(self) -> ApprovalResult | None:
        """The approval as an ``ApprovalResult``; ignored when a signal is present."""
        return self.approval.to_result() if self.approval and not self.signal else None


def parse_workflow_request(body: bytes | str | Mapping[str, Any]) -> WorkflowRequest:
    """Parse a JSON request body; raise ``WorkflowRequestParseError`` with the reason."""
    raw: Any = body
    if isinstance(body, bytes | str):
        try:
            raw = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise WorkflowRequestParseError(f"request body is not valid JSON: {exc}") from exc
    if not isinstance(raw, Mapping):
        raise WorkflowRequestParseError("workflow request body must be a JSON object")
    try:
        return WorkflowRequest.model_validate(dict(raw))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise WorkflowRequestParseError(
            f"invalid workflow request at {where}: {first['msg']}"
        ) from exc


async def handle_workflow_webhook(
    *,
    workflow: WorkflowDefinition[Any, Any, Any],
    run_store: RunStore,
    payload: WorkflowRequest | Mapping[str, Any],
    publish: Publish | None = None,
) -> list[WorkflowEvent]:
    """Deliver a webhook's signal or approval to its run and return the events."""
    request = payload if isinstance(payload, WorkflowRequest) else parse_workflow_request(payload)
    if request.run_id is None:
        raise WorkflowRequestParseError("webhook payload needs runId")
    if request.signal_delivery is None and request.approval_result is None:
        raise WorkflowRequestParseError("webhook payload needs a signal or an approval")
    invocation = run_workflow(
        workflow=workflow,
        run_store=run_store,
        run_id=request.run_id,
        signal_delivery=request.signal_delivery,
        approval=request.approval_result,
        publish=publish,
    )
    return [event async for event in invocation]
