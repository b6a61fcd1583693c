"""An index over a run's persisted log: which durable operations happened, and how."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from ._events import (
    ApprovalRequested,
    ApprovalResolved,
    NowRecorded,
    SignalAwaited,
    SignalResolved,
    StepFailed,
    StepFinished,
    UuidRecorded,
    WorkflowEvent,
)

OpKind = Literal["step", "wait", "approve", "now", "uuid"]

Opening = StepFinished | StepFailed | NowRecorded | UuidRecorded | SignalAwaited | ApprovalRequested
Resolution = (
    StepFinished | StepFailed | NowRecorded | UuidRecorded | SignalResolved | ApprovalResolved
)


@dataclass
class RecordedOp:
    """One durable operation as the log remembers it."""

    kind: OpKind
    op_id: str
    name: str | None = None
    seq: int | None = None
    opening: Opening | None = None
    resolution: Resolution | None = None

    def describe(self) -> str:
        """Human-readable ``ctx.<primitive>(...)`` form used in error messages."""
        return describe_op(self.kind, self.op_id, self.name)


def describe_op(kind: OpKind, op_id: str, name: str | None) -> str:
    """``ctx.step('charge')``-style description of an operation."""
    if kind == "wait":
        if name == "__timer":
            return f"ctx.sleep(id={op_id!r})"
        return f"ctx.wait_for_event({name!r}, id={op_id!r})"
    if kind == "approve":
        return f"ctx.approve(id={op_id!r})"
    if kind == "step":
        return f"ctx.step({op_id!r})"
    return f"ctx.{kind}(id={op_id!r})"


class HistoryIndex:
    """Operations in a log, addressable by operation id and by call position (``seq``)."""

    def __init__(self, events: Iterable[WorkflowEvent] = ()) -> None:
        self.by_id: dict[str, RecordedOp] = {}
        self.by_seq: dict[int, RecordedOp] = {}
        self.terminal: WorkflowEvent | None = None
        self.length = 0
        self.max_seq = -1
        for event in events:
            self.add(event)

    def add(self, event: WorkflowEvent) -> None:
        """Index one more persisted event (in log order)."""
        self.length += 1
        if isinstance(event, StepFinished | StepFailed):
            self._open("step", event.step_id, None, event.seq, event, resolution=event)
        elif isinstance(event, NowRecorded):
            self._open("now", event.step_id, None, event.seq, event, resolution=event)
        elif isinstance(event, UuidRecorded):
            self._open("uuid", event.step_id, None, event.seq, event, resolution=event)
        elif isinstance(event, SignalAwaited):
            self._open("wait", event.step_id, event.name, event.seq, event)
        elif isinstance(event, ApprovalRequested):
            self._open("approve", event.step_id, None, event.seq, event)
        elif isinstance(event, SignalResolved):
            op = self.by_id.get(event.step_id)
            if op is None:  # a log written without SIGNAL_AWAITED (older writers)
                op = self._open("wait", event.step_id, event.name, None, None)
            if op.resolution is None:
                op.resolution = event
        elif isinstance(event, ApprovalResolved):
            op = self.by_id.get(event.step_id)
            if op is None:
                op = self._open("approve", event.step_id, None, None, None)
            if op.resolution is None:
                op.resolution = event
        elif event.type in ("RUN_FINISHED", "RUN_ERRORED"):
            self.terminal = event

    def _open(
        self,
        kind: OpKind,
        op_id: str,
        name: str | None,
        seq: int | None,
        opening: Opening | None,
        resolution: Resolution | None = None,
    ) -> RecordedOp:
        existing = self.by_id.get(op_id)
        if existing is not None:  # keep the first record of an id
            return existing
        op = RecordedOp(kind, op_id, name, seq, opening, resolution)
        self.by_id[op_id] = op
        if seq is not None:
            self.by_seq.setdefault(seq, op)
            self.max_seq = max(self.max_seq, seq)
        return op

    def count_prefix(self, prefix: str) -> int:
        """How many recorded operation ids start with ``prefix``."""
        return sum(1 for op_id in self.by_id if op_id.startswith(prefix))

    def find_signal(self, signal_id: str, name: str) -> SignalResolved | None:
        """The resolution that delivered ``signal_id`` for signal ``name``, if any."""
        for op in self.by_id.values():
            res = op.resolution
            if isinstance(res, SignalResolved) and res.signal_id == signal_id and res.name == name:
                return res
        return None

    def find_approval(self, approval_id: str) -> ApprovalResolved | None:
        """The resolution recorded for ``approval_id``, if any."""
        for op in self.by_id.values():
            res = op.resolution
            if isinstance(res, ApprovalResolved) and res.approval_id == approval_id:
                return res
        return None
