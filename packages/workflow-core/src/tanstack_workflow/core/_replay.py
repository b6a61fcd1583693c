"""The replayer: the durable primitives behind ``ctx``, replaying from the log.

Every primitive call gets an operation id (given, or generated per kind in call
order) and a call position ``seq``. A call whose operation is recorded returns the
recorded outcome without running user code; a call that meets a different operation
than the log recorded at its position, or reuses an id, fails the run with code
``nondeterminism``. Fresh work is appended with CAS at the next log index.
"""

from __future__ import annotations

import asyncio
import functools
import uuid as uuid_lib
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Concatenate, ParamSpec, TypeVar

from ._attempts import run_attempts
from ._context import ApprovalResult, CancellationSignal, RuntimeBudget
from ._errors import (
    ApprovalTimeoutError,
    LogConflictError,
    NondeterminismError,
    StepFailedError,
    WaitTimeoutError,
    WorkflowCancelled,
    WorkflowPaused,
    WorkflowValidationError,
)
from ._events import (
    ApprovalRequested,
    ApprovalResolved,
    CustomEvent,
    NowRecorded,
    SignalAwaited,
    SignalResolved,
    StateDelta,
    StepFailed,
    StepFinished,
    StepStarted,
    UuidRecorded,
    WorkflowEvent,
)
from ._history import HistoryIndex, OpKind, RecordedOp, describe_op
from ._parking import Parked, Parking
from ._retry import RetryLike, RetryPolicy, coerce_retry
from ._run_state import (
    ApprovalAwaitable,
    PendingApproval,
    RunState,
    SignalAwaitable,
    WaitingFor,
    WorkflowMetadata,
)
from ._run_store import RunStore
from ._serialize import (
    from_json_value,
    return_adapter,
    serialize_error,
    to_json_value,
    type_adapter,
)
from ._state_diff import diff_state
from ._telemetry import Telemetry, run_attributes
from ._time import Clock, duration_to_ms, instant_to_ms
from ._writes import (
    DeliveryOutcome,
    DeliveryRejected,
    LogWriter,
    PendingResolution,
)

TIMER_SIGNAL = "__timer"
AUTO_YIELD_PREFIX = "__runtime-yield-"

Emit = Callable[[WorkflowEvent], None]


@dataclass(frozen=True)
class SignalDelivery:
    """A signal for a waiting run. ``signal_id`` makes redelivery a no-op."""

    signal_id: str
    name: str
    payload: Any = None
    step_id: str | None = None
    meta: WorkflowMetadata | None = None


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _primitive(
    method: Callable[Concatenate[Replayer, _P], Awaitable[_R]],
) -> Callable[Concatenate[Replayer, _P], Coroutine[Any, Any, _R]]:
    """Mark a durable primitive: parking must know which tasks are inside one."""

    async def tracked(self: Replayer, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        parking = self.parking
        parking.enter()
        try:
            return await method(self, *args, **kwargs)
        finally:
            parking.leave()

    functools.update_wrapper(tracked, method)
    return tracked


class Replayer(LogWriter):
    """Engine state shared by every primitive call of one run's handler."""

    def __init__(
        self,
        *,
        run_state: RunState,
        store: RunStore,
        history: Sequence[WorkflowEvent],
        emit: Emit,
        clock: Clock,
        budget: RuntimeBudget,
        cancellation: CancellationSignal,
        telemetry: Telemetry,
        default_retry: RetryPolicy | None,
        state_snapshot: Callable[[], Any],
        signal_delivery: SignalDelivery | None = None,
        approval: ApprovalResult | None = None,
        expired_wait_id: str | None = None,
        yield_resume_at: int | None = None,
    ) -> None:
        self.run_state = run_state
        self.run_id = run_state.run_id
        self.store = store
        self.history = HistoryIndex(history)
        self.next_index = len(history)
        self._emit = emit
        self.clock = clock
        self.budget = budget
        self.cancellation = cancellation
        self.telemetry = telemetry
        self.default_retry = default_retry
        self._snapshot = state_snapshot
        self._last_state = state_snapshot()
        self.signal_delivery = signal_delivery
        self.approval = approval
        self.expired_wait_id = expired_wait_id
        self.delivery_applied = False
        self.yield_resume_at = yield_resume_at
        self._lock = asyncio.Lock()
        self._used_ids: set[str] = set()
        self._seq = 0
        self._counters: dict[str, int] = {}
        self.paused = False
        self.closed = False
        self.fatal: NondeterminismError | None = None
        self.conflict: LogConflictError | None = None
        self.store_failure: Exception | None = None
        self.appended = 0
        self.parking = Parking()
        self.pending: PendingResolution | None = None

    def detach(self) -> None:
        """Drop the handler's state hook once it ended (it closes a reference cycle
        through the context, which would otherwise wait for the cyclic collector)."""
        self._snapshot = _no_state

    def rebind(
        self,
        *,
        run_state: RunState,
        store: RunStore,
        emit: Emit,
        clock: Clock,
        budget: RuntimeBudget,
        signal_delivery: SignalDelivery | None,
        approval: ApprovalResult | None,
        expired_wait_id: str | None,
        yield_resume_at: int | None,
    ) -> None:
        """Point a parked handler at a new invocation before waking it."""
        self.run_state = run_state
        self.store = store
        self._emit = emit
        self.clock = clock
        self.budget = budget
        self.signal_delivery = signal_delivery
        self.approval = approval
        self.expired_wait_id = expired_wait_id
        self.yield_resume_at = yield_resume_at
        self.delivery_applied = False
        self.paused = False
        self.closed = False
        self.appended = 0

    # -- bookkeeping -------------------------------------------------------

    def _check_live(self) -> None:
        if self.cancellation.is_cancelled:
            raise WorkflowCancelled(self.cancellation.reason)
        if self.paused or self.closed:
            raise WorkflowPaused()
        if self.fatal is not None:
            raise self.fatal

    def _auto_id(self, kind: str) -> str:
        n = self._counters.get(kind, 0)
        self._counters[kind] = n + 1
        return f"__{kind}-{n}"

    def _claim(
        self, kind: OpKind, op_id: str, name: str | None, *, positional: bool = True
    ) -> tuple[RecordedOp | None, int | None]:
        """Register a call; return its recorded operation (if any) and its ``seq``."""
        if not isinstance(op_id, str) or not op_id:
            raise WorkflowValidationError("operation id", f"{op_id!r} is not a non-empty string")
        wanted = describe_op(kind, op_id, name)
        if op_id in self._used_ids:
            self._fail(
                f"{wanted} reuses an operation id already used in this run. Every durable "
                "operation needs its own id: derive it from the loop index or item key."
            )
        self._used_ids.add(op_id)
        seq: int | None = None
        if positional:
            seq = self._seq
            self._seq += 1
            at_position = self.history.by_seq.get(seq)
            if at_position is not None and not _same_op(at_position, kind, op_id, name):
                self._fail(
                    f"replay reached {wanted} at operation #{seq}, but the log recorded "
                    f"{at_position.describe()} there. The workflow code changed the order or "
                    "identity of its durable operations: keep running code deterministic, or "
                    "publish the change as a new workflow version (previous_versions)."
                )
        recorded = self.history.by_id.get(op_id)
        if recorded is not None and not _same_op(recorded, kind, op_id, name):
            self._fail(
                f"replay reached {wanted}, but the log recorded {recorded.describe()} under "
                "that id. Give different operations different ids, or publish the change as a "
                "new workflow version."
            )
        return recorded, seq

    def _fail(self, message: str) -> None:
        self.fatal = NondeterminismError(message)
        raise self.fatal

    def flush_state(self) -> None:
        """Emit a STATE_DELTA when ``ctx.state`` changed since the last flush."""
        current = self._snapshot()
        delta = diff_state(self._last_state, current)
        if delta:
            self._last_state = current
            self.emit(StateDelta(ts=self.clock(), delta=delta))

    async def _flush_and_check(self) -> None:
        self._check_live()
        self.flush_state()

    async def _pause(
        self, events: Sequence[WorkflowEvent], waiting: SignalAwaitable | ApprovalAwaitable
    ) -> None:
        self.paused = True
        state = self.run_state.model_copy(
            update={
                "status": "paused",
                "awaiting": [waiting],
                "waiting_for": WaitingFor(
                    step_id=waiting.step_id,
                    signal_name=waiting.signal_name,
                    deadline=waiting.deadline,
                    meta=waiting.meta,
                )
                if isinstance(waiting, SignalAwaitable)
                else None,
                "pending_approval": PendingApproval(
                    step_id=waiting.step_id,
                    approval_id=waiting.approval_id,
                    title=waiting.title,
                    description=waiting.description,
                    deadline=waiting.deadline,
                    meta=waiting.meta,
                )
                if isinstance(waiting, ApprovalAwaitable)
                else None,
                "updated_at": self.clock(),
            }
        )
        if events or self.pending is not None:
            await self.append(events, state)
        elif self.run_state.status != "paused" or self.run_state.awaiting != [waiting]:
            async with self._lock:
                await self.store.set_run_state(self.run_id, state)
                self.run_state = state
        await self._park_or_unwind()

    async def _park_or_unwind(self, rejected: DeliveryRejected | None = None) -> None:
        """Stop this invocation at a wait: park the handler when allowed (returns once a
        later invocation wakes it), else raise ``rejected`` or ``WorkflowPaused``."""
        if not self.parking.can_park():
            raise rejected or WorkflowPaused()
        self.paused = True
        self.closed = True
        context = await self.parking.park(Parked(rejected))
        self.telemetry.adopt(context)

    def running_state(self) -> RunState:
        """The run state to store once a delivery lets the run continue."""
        return self.run_state.model_copy(
            update={
                "status": "running",
                "awaiting": None,
                "waiting_for": None,
                "pending_approval": None,
                "updated_at": self.clock(),
            }
        )

    # -- primitives ----------------------------------------------------------

    @_primitive
    async def step(
        self,
        op_id: str,
        fn: Callable[..., Any],
        *,
        retry: RetryLike | None,
        timeout_ms: int | None,
        meta: WorkflowMetadata | None,
    ) -> Any:
        await self._flush_and_check()
        if not callable(fn):
            raise WorkflowValidationError(f"ctx.step({op_id!r})", "fn is not callable")
        recorded, seq = self._claim("step", op_id, None)
        adapter = return_adapter(fn)
        what = f"step {op_id!r} result"
        if recorded is not None and recorded.resolution is not None:
            event = recorded.resolution
            if isinstance(event, StepFailed):
                raise StepFailedError(op_id, event.error)
            assert isinstance(event, StepFinished)
            return from_json_value(event.result, adapter, what)
        await self._yield_if_needed()
        await self.flush_resolution()  # no step runs on a resolution the log lacks
        policy = coerce_retry(retry) if retry is not None else self.default_retry
        self.emit(StepStarted(ts=self.clock(), step_id=op_id, meta=meta))
        attributes = {
            **run_attributes(
                self.run_state.workflow_id, self.run_state.workflow_version, self.run_id
            )
        }
        attributes["tanstack.workflow.step_id"] = op_id
        with self.telemetry.span("workflow.step", attributes) as span:
            ok, value, error, attempts = await run_attempts(
                self, op_id, fn, policy, timeout_ms, adapter, span
            )
            recorded_attempts = attempts if len(attempts) > 1 else None
            if span is not None:
                span.set_attribute("tanstack.workflow.step.attempts", len(attempts))
            if not ok:
                assert error is not None
                failure = serialize_error(error)
                self.telemetry.set_outcome(span, "failed", error_name=failure.name)
                await self.append(
                    [
                        StepFailed(
                            ts=self.clock(),
                            step_id=op_id,
                            error=failure,
                            attempts=recorded_attempts,
                            meta=meta,
                            seq=seq,
                        )
                    ]
                )
                raise StepFailedError(op_id, failure) from error
            data = value
            self.telemetry.set_outcome(span, "finished")
        await self.append(
            [
                StepFinished(
                    ts=self.clock(),
                    step_id=op_id,
                    result=data,
                    attempts=recorded_attempts,
                    meta=meta,
                    seq=seq,
                )
            ]
        )
        return from_json_value(data, adapter, what)

    async def sleep(
        self, duration: int | timedelta, *, op_id: str | None, meta: WorkflowMetadata | None
    ) -> None:
        ms = duration_to_ms(duration)
        await self._wait(
            TIMER_SIGNAL, op_id or self._auto_id("sleep"), lambda: self.clock() + ms, None, meta
        )

    async def sleep_until(
        self, when: int | datetime, *, op_id: str | None, meta: WorkflowMetadata | None
    ) -> None:
        at = instant_to_ms(when)
        await self._wait(TIMER_SIGNAL, op_id or self._auto_id("sleep"), lambda: at, None, meta)

    async def cooperative_yield(
        self, *, reason: str | None, op_id: str | None, meta: WorkflowMetadata | None
    ) -> None:
        meta = {**(meta or {}), "reason": reason} if reason is not None else meta
        # Not positional: the usual guard ``if ctx.runtime.should_yield()`` depends on the
        # invocation's budget, so a replay may skip a yield the log recorded (like the
        # automatic budget yields), and that must not read as nondeterminism.
        await self._wait(
            TIMER_SIGNAL,
            op_id or self._auto_id("yield"),
            self._yield_deadline,
            None,
            meta,
            positional=False,
        )

    def _yield_deadline(self) -> int:
        return self.yield_resume_at if self.yield_resume_at is not None else self.clock() + 1

    async def _yield_if_needed(self) -> None:
        if not self.budget.should_yield():
            return
        op_id = f"{AUTO_YIELD_PREFIX}{self.history.count_prefix(AUTO_YIELD_PREFIX)}"
        await self._wait(
            TIMER_SIGNAL,
            op_id,
            self._yield_deadline,
            None,
            {"reason": "deadline"},
            positional=False,
        )

    async def wait_for_event(
        self,
        name: str,
        *,
        op_id: str | None,
        deadline: int | datetime | None,
        schema: Any,
        meta: WorkflowMetadata | None,
    ) -> Any:
        if not isinstance(name, str) or not name:
            raise WorkflowValidationError("ctx.wait_for_event name", "must be a non-empty string")
        at = None if deadline is None else instant_to_ms(deadline)
        return await self._wait(
            name, op_id or f"__wait-{name}-{self._next('wait')}", lambda: at, schema, meta
        )

    def _next(self, kind: str) -> int:
        n = self._counters.get(kind, 0)
        self._counters[kind] = n + 1
        return n

    @_primitive
    async def _wait(
        self,
        name: str,
        op_id: str,
        deadline: Callable[[], int | None],
        schema: Any,
        meta: WorkflowMetadata | None,
        *,
        positional: bool = True,
    ) -> Any:
        await self._flush_and_check()
        recorded, seq = self._claim("wait", op_id, name, positional=positional)
        adapter = None if schema is None else type_adapter(schema)
        what = f"payload of signal {name!r}"
        if recorded is not None and isinstance(recorded.resolution, SignalResolved):
            resolution = recorded.resolution
            if resolution.timed_out:
                opening = recorded.opening
                raise WaitTimeoutError(
                    op_id, name, opening.deadline if isinstance(opening, SignalAwaited) else None
                )
            return from_json_value(resolution.payload, adapter, what)
        opening = recorded.opening if recorded is not None else None
        awaited = opening if isinstance(opening, SignalAwaited) else None
        events: list[WorkflowEvent] = []
        if awaited is None:
            awaited = SignalAwaited(
                ts=self.clock(), step_id=op_id, name=name, deadline=deadline(), meta=meta, seq=seq
            )
            events.append(awaited)
        waiting = SignalAwaitable(
            step_id=op_id, signal_name=name, deadline=awaited.deadline, meta=awaited.meta
        )
        while True:  # parked handlers come back here when a later invocation wakes them
            try:
                delivered = await self._deliver_signal(op_id, name, awaited, adapter, events)
            except DeliveryRejected as rejected:
                if events or rejected.outcome.kind != "rejected":
                    raise
                await self._park_or_unwind(rejected)  # refused payload: the run is unchanged
                continue
            if delivered is not _NOTHING:
                return delivered
            await self._pause(events, waiting)
            events = []

    async def _deliver_signal(
        self,
        op_id: str,
        name: str,
        awaited: SignalAwaited,
        adapter: Any,
        events: list[WorkflowEvent],
    ) -> Any:
        """Apply the invocation's delivery if it targets this wait; else ``_NOTHING``."""
        if self.expired_wait_id == op_id and not self.delivery_applied:
            self.delivery_applied = True
            resolved = SignalResolved(
                ts=self.clock(),
                step_id=op_id,
                name=name,
                signal_id=f"__deadline:{op_id}",
                timed_out=True,
            )
            await self._apply([*events, resolved], "deadline_lost")
            raise WaitTimeoutError(op_id, name, awaited.deadline)
        delivery = self.signal_delivery
        if delivery is None or self.delivery_applied or delivery.name != name:
            return _NOTHING
        if delivery.step_id is not None and delivery.step_id != op_id:
            return _NOTHING
        self.delivery_applied = True
        try:
            payload = from_json_value(
                to_json_value(delivery.payload, None, f"payload of signal {name!r}"),
                adapter,
                f"payload of signal {name!r}",
            )
            data = to_json_value(payload, adapter, f"payload of signal {name!r}")
        except WorkflowValidationError as exc:
            raise DeliveryRejected(
                DeliveryOutcome("rejected", "signal_rejected", str(exc))
            ) from exc
        resolved = SignalResolved(
            ts=self.clock(),
            step_id=op_id,
            name=name,
            signal_id=delivery.signal_id,
            payload=data,
            meta=delivery.meta,
        )
        await self._apply([*events, resolved], "signal_lost", signal_id=delivery.signal_id)
        return from_json_value(data, adapter, f"payload of signal {name!r}")

    async def _apply(
        self, events: list[WorkflowEvent], lost_code: str, *, signal_id: str | None = None
    ) -> None:
        """Apply a delivery's resolution; it is written with the run's next write."""
        self.defer_resolution(events, lost_code, self.running_state(), signal_id)

    @_primitive
    async def approve(
        self,
        *,
        title: str,
        description: str | None,
        op_id: str | None,
        deadline: int | datetime | None,
        meta: WorkflowMetadata | None,
    ) -> ApprovalResult:
        await self._flush_and_check()
        op_id = op_id or self._auto_id("approve")
        recorded, seq = self._claim("approve", op_id, None)
        if recorded is not None and isinstance(recorded.resolution, ApprovalResolved):
            return _approval_result(recorded, op_id)
        opening = recorded.opening if recorded is not None else None
        requested = opening if isinstance(opening, ApprovalRequested) else None
        events: list[WorkflowEvent] = []
        if requested is None:
            requested = ApprovalRequested(
                ts=self.clock(),
                step_id=op_id,
                approval_id=f"{self.run_id}:{op_id}",
                title=title,
                description=description,
                deadline=None if deadline is None else instant_to_ms(deadline),
                meta=meta,
                seq=seq,
            )
            events.append(requested)
        waiting = ApprovalAwaitable(
            step_id=op_id,
            approval_id=requested.approval_id,
            title=requested.title,
            description=requested.description,
            deadline=requested.deadline,
            meta=requested.meta,
        )
        while True:  # parked handlers come back here when a later invocation wakes them
            resolved = self._approval_resolution(op_id, requested)
            if resolved is not None:
                self.delivery_applied = True
                await self._apply([*events, resolved], "approval_lost")
                return _approval_result(self.history.by_id[op_id], op_id)
            await self._pause(events, waiting)
            events = []

    def _approval_resolution(
        self, op_id: str, requested: ApprovalRequested
    ) -> ApprovalResolved | None:
        """The resolution this invocation brings for approval ``op_id``, if any."""
        if self.delivery_applied:
            return None
        if self.expired_wait_id == op_id:
            return ApprovalResolved(
                ts=self.clock(),
                step_id=op_id,
                approval_id=requested.approval_id,
                approved=False,
                timed_out=True,
            )
        if self.approval is not None and self.approval.approval_id == requested.approval_id:
            return ApprovalResolved(
                ts=self.clock(),
                step_id=op_id,
                approval_id=requested.approval_id,
                approved=self.approval.approved,
                feedback=self.approval.feedback,
                meta=self.approval.meta,
            )
        return None

    @_primitive
    async def now(self, *, op_id: str | None, meta: WorkflowMetadata | None) -> int:
        await self._flush_and_check()
        op_id = op_id or self._auto_id("now")
        recorded, seq = self._claim("now", op_id, None)
        if recorded is not None and isinstance(recorded.resolution, NowRecorded):
            return recorded.resolution.value
        await self._yield_if_needed()
        value = self.clock()
        await self.append([NowRecorded(ts=value, step_id=op_id, value=value, meta=meta, seq=seq)])
        return value

    @_primitive
    async def uuid(self, *, op_id: str | None, meta: WorkflowMetadata | None) -> str:
        await self._flush_and_check()
        op_id = op_id or self._auto_id("uuid")
        recorded, seq = self._claim("uuid", op_id, None)
        if recorded is not None and isinstance(recorded.resolution, UuidRecorded):
            return recorded.resolution.value
        await self._yield_if_needed()
        value = str(uuid_lib.uuid4())
        await self.append(
            [UuidRecorded(ts=self.clock(), step_id=op_id, value=value, meta=meta, seq=seq)]
        )
        return value

    def emit_custom(self, name: str, value: Any) -> None:
        data = to_json_value(value, None, f"ctx.emit({name!r}) value")
        self.emit(CustomEvent(ts=self.clock(), name=name, value=data))


_NOTHING: Any = object()


def _no_state() -> Any:
    return None


def _same_op(op: RecordedOp, kind: OpKind, op_id: str, name: str | None) -> bool:
    return (
        op.kind == kind
        and op.op_id == op_id
        and (kind != "wait" or op.name is None or op.name == name)
    )


def _approval_result(recorded: RecordedOp, op_id: str) -> ApprovalResult:
    resolution = recorded.resolution
    assert isinstance(resolution, ApprovalResolved)
    if resolution.timed_out:
        opening = recorded.opening
        raise ApprovalTimeoutError(
            op_id, "approval", opening.deadline if isinstance(opening, ApprovalRequested) else None
        )
    return ApprovalResult(
        approved=resolution.approved,
        approval_id=resolution.approval_id,
        feedback=resolution.feedback,
        meta=resolution.meta,
    )
