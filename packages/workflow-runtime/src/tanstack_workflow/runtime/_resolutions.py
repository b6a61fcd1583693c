"""The store-side delivery rules every store shares: which resolution a delivery makes.

A store finds duplicates its own way (a scan, a SQL probe); what counts as "the run is
waiting for this" and which event resolves the wait is decided here, once.
"""

from __future__ import annotations

from tanstack_workflow.core import (
    ApprovalResolved,
    ApprovalResult,
    SignalDelivery,
    SignalResolved,
)

from ._models import WorkflowExecution


def signal_resolution(
    run: WorkflowExecution, delivery: SignalDelivery, now: int
) -> SignalResolved | None:
    """The SIGNAL_RESOLVED that ``delivery`` appends, or ``None`` when the run is not waiting."""
    waiting = run.waiting_for
    if (
        run.status != "paused"
        or waiting is None
        or waiting.signal_name != delivery.name
        or (delivery.step_id is not None and waiting.step_id != delivery.step_id)
    ):
        return None
    return SignalResolved(
        ts=now,
        step_id=waiting.step_id or f"__resolve-{delivery.name}",
        name=delivery.name,
        signal_id=delivery.signal_id,
        payload=delivery.payload,
        meta=delivery.meta,
    )


def approval_resolution(
    run: WorkflowExecution, approval: ApprovalResult, now: int
) -> ApprovalResolved | None:
    """The APPROVAL_RESOLVED that ``approval`` appends, or ``None`` when nothing waits for it."""
    pending = run.pending_approval
    if run.status != "paused" or pending is None or pending.approval_id != approval.approval_id:
        return None
    return ApprovalResolved(
        ts=now,
        step_id=pending.step_id or "__resolve-approval",
        approval_id=approval.approval_id,
        approved=approval.approved,
        feedback=approval.feedback,
        meta=approval.meta,
    )


def same_decision(recorded: ApprovalResolved, approval: ApprovalResult) -> bool:
    """True when a re-delivered decision matches the recorded one (a duplicate)."""
    return recorded.approved == approval.approved and recorded.feedback == approval.feedback
