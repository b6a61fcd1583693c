"""What workflow code sees: ``ctx``, ``StepContext`` and the runtime budget."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from ._retry import RetryLike
from ._run_state import WorkflowMetadata
from ._time import Clock

if TYPE_CHECKING:
    from ._replay import Replayer

InputT = TypeVar("InputT")
StateT = TypeVar("StateT")
T = TypeVar("T")

DEFAULT_MIN_YIELD_REMAINING_MS = 1_000

RESERVED_CTX_FIELDS: frozenset[str] = frozenset(
    {
        "run_id",
        "input",
        "state",
        "runtime",
        "cancellation",
        "step",
        "sleep",
        "sleep_until",
        "wait_for_event",
        "approve",
        "now",
        "uuid",
        "emit",
    }
)


class CancellationSignal:
    """A one-shot cancellation flag that code can poll or await."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self.reason: str | None = None
        self._callbacks: list[Callable[[], object]] = []

    @property
    def is_cancelled(self) -> bool:
        """True once ``cancel`` was called."""
        return self._event.is_set()

    def cancel(self, reason: str | None = None) -> None:
        """Request cancellation (idempotent; the first reason wins)."""
        if self._event.is_set():
            return
        self.reason = reason
        self._event.set()
        for callback in self._callbacks:
            callback()
        self._callbacks.clear()

    def on_cancel(self, callback: Callable[[], object]) -> Callable[[], None]:
        """Run ``callback`` on cancellation (now, if already cancelled); return a remover."""
        if self.is_cancelled:
            callback()
            return lambda: None
        self._callbacks.append(callback)
        return lambda: self._callbacks.remove(callback) if callback in self._callbacks else None

    async def wait(self) -> None:
        """Block until cancelled."""
        await self._event.wait()


@dataclass(frozen=True)
class RuntimeBudget:
    """The time budget of the current invocation."""

    deadline: int | None
    clock: Clock
    min_yield_remaining_ms: int = DEFAULT_MIN_YIELD_REMAINING_MS

    def time_remaining(self) -> float:
        """Milliseconds left before ``deadline`` (``inf`` when unbounded)."""
        if self.deadline is None:
            return float("inf")
        return float(max(0, self.deadline - self.clock()))

    def should_yield(self, *, min_remaining_ms: int | None = None) -> bool:
        """True when too little budget remains to start fresh durable work."""
        if self.deadline is None:
            return False
        floor = self.min_yield_remaining_ms if min_remaining_ms is None else min_remaining_ms
        return self.time_remaining() <= max(0, floor)


class WorkflowRuntime:
    """``ctx.runtime``: budget helpers plus a cooperative durable yield."""

    def __init__(self, budget: RuntimeBudget, replayer: Replayer) -> None:
        self._budget = budget
        self._replayer = replayer

    @property
    def deadline(self) -> int | None:
        """Absolute epoch-ms deadline of this invocation, if the caller set one."""
        return self._budget.deadline

    def time_remaining(self) -> float:
        """Milliseconds left in this invocation (``inf`` when unbounded)."""
        return self._budget.time_remaining()

    def should_yield(self, *, min_remaining_ms: int | None = None) -> bool:
        """True when the invocation should stop starting fresh durable work."""
        return self._budget.should_yield(min_remaining_ms=min_remaining_ms)

    async def yield_(
        self,
        *,
        reason: str | None = None,
        id: str | None = None,
        meta: WorkflowMetadata | None = None,
    ) -> None:
        """Pause durably and continue in a later invocation (a zero-length sleep)."""
        await self._replayer.cooperative_yield(reason=reason, op_id=id, meta=meta)


@dataclass(frozen=True)
class StepContext:
    """Passed to a step function that takes an argument.

    ``id`` is ``"<run_id>:<step_id>"``: stable across retries and replays, so it makes
    a good idempotency key for external systems.
    """

    id: str
    attempt: int
    runtime: RuntimeBudget
    cancellation: CancellationSignal

    @property
    def deadline(self) -> int | None:
        """Absolute epoch-ms deadline of the invocation, if any."""
        return self.runtime.deadline

    def time_remaining(self) -> float:
        """Milliseconds left in the invocation (``inf`` when unbounded)."""
        return self.runtime.time_remaining()

    def should_yield(self, *, min_remaining_ms: int | None = None) -> bool:
        """True when too little budget is left for more work."""
        return self.runtime.should_yield(min_remaining_ms=min_remaining_ms)


@dataclass(frozen=True)
class ApprovalResult:
    """The decision an ``approve`` call resolves with."""

    approved: bool
    approval_id: str
    feedback: str | None = None
    meta: WorkflowMetadata | None = None


StepFn = Callable[[], T | Awaitable[T]] | Callable[[StepContext], T | Awaitable[T]]


class WorkflowContext(Generic[InputT, StateT]):
    """``ctx``: the single argument of every workflow handler.

    Fields added by middleware are readable as attributes (``ctx.user``).
    """

    def __init__(
        self,
        *,
        run_id: str,
        input: InputT,
        state: StateT,
        runtime: WorkflowRuntime,
        cancellation: CancellationSignal,
        replayer: Replayer,
    ) -> None:
        self.run_id = run_id
        self.input = input
        self.state = state
        self.runtime = runtime
        self.cancellation = cancellation
        self._replayer = replayer
        self._extensions: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        extensions = self.__dict__.get("_extensions", {})
        if name in extensions:
            return extensions[name]
        raise AttributeError(
            f"ctx has no field {name!r}; middleware adds fields with next(**fields)"
        )

    def _extend(self, fields: Mapping[str, Any]) -> None:
        self._extensions.update(fields)

    # Two overloads so a type checker solves T from both ``async def`` and plain
    # functions; a single ``Callable[..., T | Awaitable[T]]`` leaves T ambiguous.
    @overload
    async def step(
        self,
        id: str,
        fn: Callable[..., Awaitable[T]],
        *,
        retry: RetryLike | None = None,
        timeout_ms: int | None = None,
        meta: WorkflowMetadata | None = None,
    ) -> T: ...
    @overload
    async def step(
        self,
        id: str,
        fn: Callable[..., T],
        *,
        retry: RetryLike | None = None,
        timeout_ms: int | None = None,
        meta: WorkflowMetadata | None = None,
    ) -> T: ...
    async def step(
        self,
        id: str,
        fn: Callable[..., Any],
        *,
        retry: RetryLike | None = None,
        timeout_ms: int | None = None,
        meta: WorkflowMetadata | None = None,
    ) -> Any:
        """Run ``fn`` once, durably; replay returns its recorded result (or error)."""
        return await self._replayer.step(id, fn, retry=retry, timeout_ms=timeout_ms, meta=meta)

    async def sleep(
        self,
        duration: int | timedelta,
        *,
        id: str | None = None,
        meta: WorkflowMetadata | None = None,
    ) -> None:
        """Pause durably for ``duration`` (ms or ``timedelta``), measured from first call."""
        await self._replayer.sleep(duration, op_id=id, meta=meta)

    async def sleep_until(
        self, when: int | datetime, *, id: str | None = None, meta: WorkflowMetadata | None = None
    ) -> None:
        """Pause durably until ``when`` (epoch ms or an aware ``datetime``)."""
        await self._replayer.sleep_until(when, op_id=id, meta=meta)

    async def wait_for_event(
        self,
        name: str,
        *,
        id: str | None = None,
        deadline: int | datetime | None = None,
        schema: Any = None,
        meta: WorkflowMetadata | None = None,
    ) -> Any:
        """Pause until signal ``name`` arrives; return its payload (validated by ``schema``).

        With ``deadline``, raises ``WaitTimeoutError`` once the deadline passed first.
        """
        return await self._replayer.wait_for_event(
            name, op_id=id, deadline=deadline, schema=schema, meta=meta
        )

    async def approve(
        self,
        *,
        title: str,
        description: str | None = None,
        id: str | None = None,
        deadline: int | datetime | None = None,
        meta: WorkflowMetadata | None = None,
    ) -> ApprovalResult:
        """Pause until a person approves or rejects; return the decision."""
        return await self._replayer.approve(
            title=title, description=description, op_id=id, deadline=deadline, meta=meta
        )

    async def now(self, *, id: str | None = None, meta: WorkflowMetadata | None = None) -> int:
        """Wall-clock epoch ms, recorded once and replayed thereafter."""
        return await self._replayer.now(op_id=id, meta=meta)

    async def uuid(self, *, id: str | None = None, meta: WorkflowMetadata | None = None) -> str:
        """A random UUID string, recorded once and replayed thereafter."""
        return await self._replayer.uuid(op_id=id, meta=meta)

    def emit(self, name: str, value: Any = None) -> None:
        """Emit a CUSTOM event to observers; it is never persisted."""
        self._replayer.emit_custom(name, value)
