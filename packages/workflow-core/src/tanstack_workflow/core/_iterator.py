"""``run_workflow``: an invocation exposed as an async iterator of events."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from ._context import DEFAULT_MIN_YIELD_REMAINING_MS, ApprovalResult, CancellationSignal
from ._definition import WorkflowDefinition
from ._engine import drive_workflow, new_run_id, validate_input
from ._events import WorkflowEvent
from ._outcome import WorkflowOutcome
from ._replay import SignalDelivery
from ._run_store import RunStore
from ._telemetry import TelemetryOption
from ._time import Clock

Publish = Callable[[str, WorkflowEvent], Awaitable[None] | None]

_log = logging.getLogger("tanstack_workflow.core")
_DONE: Any = object()


async def publish_safely(publish: Publish | None, run_id: str, event: WorkflowEvent) -> None:
    """Call a best-effort publisher; its failures are logged, never raised."""
    if publish is None:
        return
    try:
        result = publish(run_id, event)
        if inspect.isawaitable(result):
            await result
    except Exception:
        _log.warning("workflow publisher failed for run %s", run_id, exc_info=True)


class WorkflowRun(AsyncIterator[WorkflowEvent]):
    """One invocation: iterate it for events; ``outcome`` is set once it is exhausted."""

    def __init__(self, run_id: str | None, publish: Publish | None, kwargs: dict[str, Any]) -> None:
        self.run_id = run_id
        self.outcome: WorkflowOutcome | None = None
        self._publish = publish
        self._kwargs = kwargs
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._task: asyncio.Task[WorkflowOutcome] | None = None

    def __aiter__(self) -> WorkflowRun:
        return self

    async def __anext__(self) -> WorkflowEvent:
        if self._task is None:
            self._task = asyncio.ensure_future(self._drive())
        elif self._task.done() and self._queue.empty():
            # Already exhausted: stop again instead of waiting on an empty queue.
            self.outcome = self._task.result()  # re-raises a driver failure
            raise StopAsyncIteration
        item = await self._queue.get()
        if item is _DONE:
            self.outcome = await self._task  # re-raises a driver failure
            raise StopAsyncIteration
        await publish_safely(self._publish, self.run_id or "", item)
        return item  # type: ignore[no-any-return]

    async def _drive(self) -> WorkflowOutcome:
        try:
            return await drive_workflow(
                emit=self._queue.put_nowait, run_id=self.run_id, **self._kwargs
            )
        finally:
            self._queue.put_nowait(_DONE)

    async def result(self) -> WorkflowOutcome:
        """Drain the remaining events and return the outcome."""
        async for _ in self:
            pass
        assert self.outcome is not None
        return self.outcome

    async def aclose(self) -> None:
        """Stop early; an unfinished invocation is cancelled like a crash (replay recovers)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task


def run_workflow(
    *,
    workflow: WorkflowDefinition[Any, Any, Any],
    run_store: RunStore,
    input: Any = None,
    run_id: str | None = None,
    signal_delivery: SignalDelivery | None = None,
    approval: ApprovalResult | None = None,
    expired_wait_id: str | None = None,
    recover: bool = False,
    attach: bool = False,
    deadline: int | None = None,
    min_yield_remaining_ms: int = DEFAULT_MIN_YIELD_REMAINING_MS,
    yield_resume_at: int | None = None,
    cancellation: CancellationSignal | None = None,
    publish: Publish | None = None,
    clock: Clock | None = None,
    telemetry: TelemetryOption = None,
    thread_id: str | None = None,
) -> WorkflowRun:
    """Drive one invocation of a run to completion or its next pause.

    Returns an async iterator of the invocation's events; nothing runs until it is
    iterated. Starting validates ``input`` right here and raises
    ``WorkflowValidationError`` (no run is created) when it does not fit the
    workflow's input type. Resume with ``run_id`` plus ``signal_delivery``,
    ``approval``, ``expired_wait_id`` or ``recover=True``; ``attach=True`` replays the
    log read-only. ``publish(run_id, event)`` is called for every event, best effort.
    """
    starting = not (attach or recover or signal_delivery or approval or expired_wait_id)
    if starting:
        validate_input(workflow, input)
        run_id = run_id or new_run_id()
    elif run_id is None:
        raise ValueError("resuming or attaching needs run_id")
    kwargs = dict(
        workflow=workflow,
        run_store=run_store,
        input=input,
        signal_delivery=signal_delivery,
        approval=approval,
        expired_wait_id=expired_wait_id,
        recover=recover,
        attach=attach,
        deadline=deadline,
        min_yield_remaining_ms=min_yield_remaining_ms,
        yield_resume_at=yield_resume_at,
        cancellation=cancellation,
        clock=clock,
        telemetry=telemetry,
        thread_id=thread_id,
    )
    return WorkflowRun(run_id, publish, kwargs)
