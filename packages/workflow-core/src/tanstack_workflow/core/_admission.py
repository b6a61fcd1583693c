"""Whether a delivery can apply to a run: duplicates, lost races and stale targets."""

from __future__ import annotations

from ._context import ApprovalResult
from ._events import SignalResolved
from ._history import HistoryIndex
from ._outcome import OutcomeKind
from ._replay import SignalDelivery
from ._run_state import RunState


def check_delivery(
    run: RunState,
    history: HistoryIndex,
    signal: SignalDelivery | None,
    approval: ApprovalResult | None,
    expired_wait_id: str | None,
) -> tuple[OutcomeKind, str, str] | None:
    """Why a delivery cannot apply (``(kind, code, message)``), or ``None`` if it can."""
    if signal is not None:
        previous = history.find_signal(signal.signal_id, signal.name)
        if previous is not None and signal.step_id in (None, previous.step_id):
            return "duplicate", "duplicate", f"signal {signal.signal_id!r} was already delivered"
        waiting = run.waiting_for
        if (
            run.status != "paused"
            or waiting is None
            or waiting.signal_name != signal.name
            or (signal.step_id is not None and waiting.step_id not in (None, signal.step_id))
        ):
            return (
                "lost",
                "signal_lost",
                f"Signal delivery lost: run is not waiting for {signal.name!r}.",
            )
        # The snapshot may lag the log (a writer crashed between its append and its
        # state update): a wait that is already resolved has a winner.
        target = history.by_id.get(waiting.step_id) if waiting.step_id else None
        if target is not None and isinstance(target.resolution, SignalResolved):
            return "lost", "signal_lost", "Signal delivery lost: another delivery won the race."
    if approval is not None:
        previous_approval = history.find_approval(approval.approval_id)
        if previous_approval is not None:
            if (
                previous_approval.approved == approval.approved
                and previous_approval.feedback == approval.feedback
            ):
                return (
                    "duplicate",
                    "duplicate",
                    f"approval {approval.approval_id!r} was already decided",
                )
            return "lost", "approval_lost", "Approval delivery lost: another decision won the race."
        pending = run.pending_approval
        if run.status != "paused" or pending is None or pending.approval_id != approval.approval_id:
            return (
                "lost",
                "approval_lost",
                f"Approval delivery lost: run is not waiting for approval {approval.approval_id!r}.",
            )
    if expired_wait_id is not None:
        awaiting = [a.step_id for a in run.awaiting or ()]
        if run.status != "paused" or expired_wait_id not in awaiting:
            return "lost", "deadline_lost", f"run is no longer waiting at {expired_wait_id!r}"
    return None
