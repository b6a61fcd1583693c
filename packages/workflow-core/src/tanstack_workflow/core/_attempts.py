"""Running a fresh step: attempts, retries with backoff, timeouts and cancellation."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ._context import CancellationSignal, StepContext
from ._errors import StepTimeoutError, WorkflowCancelled, WorkflowValidationError
from ._events import StepAttempt
from ._retry import RetryPolicy
from ._serialize import serialize_error, takes_argument, to_json_value

if TYPE_CHECKING:
    from ._replay import Replayer


async def run_attempts(
    replayer: Replayer,
    op_id: str,
    fn: Callable[..., Any],
    policy: RetryPolicy | None,
    timeout_ms: int | None,
    adapter: Any,
    span: Any,
) -> tuple[bool, Any, BaseException | None, list[StepAttempt]]:
    attempts: list[StepAttempt] = []
    attempt = 0
    while True:
        attempt += 1
        if replayer.cancellation.is_cancelled:
            raise WorkflowCancelled(replayer.cancellation.reason)
        started = replayer.clock()
        attempt_signal = CancellationSignal()
        remove = replayer.cancellation.on_cancel(_forward_cancel(replayer, attempt_signal))
        step_ctx = StepContext(
            id=f"{replayer.run_id}:{op_id}",
            attempt=attempt,
            runtime=replayer.budget,
            cancellation=attempt_signal,
        )
        try:
            value = await _run_attempt(replayer, op_id, fn, step_ctx, timeout_ms)
            data = to_json_value(value, adapter, f"step {op_id!r} result")
            attempts.append(StepAttempt(started_at=started, finished_at=replayer.clock()))
            return True, data, None, attempts
        except asyncio.CancelledError:
            if replayer.cancellation.is_cancelled:
                raise WorkflowCancelled(replayer.cancellation.reason) from None
            raise
        except Exception as err:
            attempts.append(
                StepAttempt(
                    started_at=started, finished_at=replayer.clock(), error=serialize_error(err)
                )
            )
            replayer.telemetry.add_event(span, "workflow.step.attempt.failed", {"attempt": attempt})
            retryable = not isinstance(err, WorkflowValidationError)
            if not (retryable and policy is not None and policy.allows_retry(err, attempt)):
                return False, None, err, attempts
            delay = policy.delay_ms(attempt)
            if delay > 0:
                await _interruptible_sleep(replayer, delay / 1000)
        finally:
            remove()


def _forward_cancel(replayer: Replayer, target: CancellationSignal) -> Callable[[], None]:
    """A callback cancelling ``target`` with the run's cancellation reason."""
    return lambda: target.cancel(replayer.cancellation.reason)


async def _run_attempt(
    replayer: Replayer,
    op_id: str,
    fn: Callable[..., Any],
    step_ctx: StepContext,
    timeout_ms: int | None,
) -> Any:
    def call() -> Any:
        return fn(step_ctx) if takes_argument(fn) else fn()

    if timeout_ms is None:
        if inspect.iscoroutinefunction(fn) and not replayer.cancellation.is_cancelled:
            task = asyncio.ensure_future(call())
            remove = replayer.cancellation.on_cancel(task.cancel)
            try:
                return await task
            finally:
                remove()
        result = call()
        return await result if inspect.isawaitable(result) else result
    if timeout_ms <= 0:
        raise WorkflowValidationError(f"ctx.step({op_id!r}) timeout_ms", "must be positive")
    if inspect.iscoroutinefunction(fn):
        awaitable: Awaitable[Any] = call()
    else:
        awaitable = asyncio.to_thread(call)
    task = asyncio.ensure_future(awaitable)
    remove = replayer.cancellation.on_cancel(task.cancel)
    try:
        result = await asyncio.wait_for(task, timeout_ms / 1000)
    except TimeoutError:
        if replayer.cancellation.is_cancelled:
            raise
        step_ctx.cancellation.cancel("timeout")
        raise StepTimeoutError(op_id, timeout_ms) from None
    finally:
        remove()
    return await result if inspect.isawaitable(result) else result


async def _interruptible_sleep(replayer: Replayer, seconds: float) -> None:
    if replayer.cancellation.is_cancelled:
        raise WorkflowCancelled(replayer.cancellation.reason)
    waiter = asyncio.ensure_future(replayer.cancellation.wait())
    try:
        await asyncio.wait({waiter}, timeout=seconds)
    finally:
        waiter.cancel()
    if replayer.cancellation.is_cancelled:
        raise WorkflowCancelled(replayer.cancellation.reason)
