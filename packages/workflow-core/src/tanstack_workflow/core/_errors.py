"""The exception tree of tanstack-workflow.

::

    Exception
    └── WorkflowError                 base of every error this library raises on purpose
        ├── WorkflowDefinitionError   a workflow, middleware or registry is defined wrongly
        ├── WorkflowValidationError   a value failed its declared type (input, output, payload, ...)
        ├── LogConflictError          a CAS append lost: another writer owns that log index
        ├── NondeterminismError       replay met different workflow code than the log recorded
        ├── StepFailedError           a step failed (fresh or replayed); carries the recorded error
        ├── StepTimeoutError          one step attempt ran longer than ``timeout_ms``
        ├── WaitTimeoutError          a wait's deadline passed before a signal arrived
        │   └── ApprovalTimeoutError  an approval's deadline passed before a decision
        └── WorkflowRequestParseError an HTTP request body is not a workflow request

    BaseException
    └── WorkflowInterrupt             engine control flow; ``except Exception`` cannot swallow it
        ├── WorkflowPaused            the run paused on a durable wait
        └── WorkflowCancelled         the run was cancelled
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._run_state import SerializedError


def _rebuild(
    cls: type[BaseException], args: tuple[Any, ...], state: dict[str, Any]
) -> BaseException:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class _Picklable(BaseException):
    # The default reduction calls ``cls(*args)``, which does not fit the keyword-rich
    # constructors below; rebuild from ``args`` and attributes instead.
    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


class WorkflowError(_Picklable, Exception):
    """Base class of every error tanstack-workflow raises on purpose."""


class WorkflowDefinitionError(WorkflowError):
    """A workflow, middleware, registry or retry policy is defined incorrectly."""


class WorkflowValidationError(WorkflowError, ValueError):
    """A value failed validation against its declared type."""

    def __init__(self, what: str, detail: str, *, errors: list[Any] | None = None) -> None:
        super().__init__(f"{what} failed validation: {detail}")
        self.what = what
        self.detail = detail
        self.errors = errors or []


class LogConflictError(WorkflowError):
    """Raised by ``append_event`` when another writer already committed at that index."""

    def __init__(self, run_id: str, attempted_index: int, actual_next_index: int | None = None):
        super().__init__(
            f"Log conflict for run {run_id!r} at index {attempted_index}: "
            "another writer has already committed there."
        )
        self.run_id = run_id
        self.attempted_index = attempted_index
        self.actual_next_index = actual_next_index


class NondeterminismError(WorkflowError):
    """Replay reached a different durable operation than the log recorded."""

    code = "nondeterminism"


class StepFailedError(WorkflowError):
    """A step failed; raised identically on first execution and on every replay.

    ``error_name`` is the class name of the original exception, ``error_message`` its
    message and ``remote_traceback`` the traceback text recorded when it happened.
    """

    def __init__(self, step_id: str, error: SerializedError) -> None:
        super().__init__(f"Step {step_id!r} failed: {error.name}: {error.message}")
        self.step_id = step_id
        self.error_name = error.name
        self.error_message = error.message
        self.remote_traceback = error.stack


class StepTimeoutError(WorkflowError, TimeoutError):
    """One attempt of a step ran longer than its ``timeout_ms``."""

    def __init__(self, step_id: str, timeout_ms: int) -> None:
        super().__init__(f"Step {step_id!r} exceeded its {timeout_ms} ms timeout.")
        self.step_id = step_id
        self.timeout_ms = timeout_ms


class WaitTimeoutError(WorkflowError, TimeoutError):
    """The deadline of ``wait_for_event`` passed before a matching signal arrived."""

    def __init__(self, step_id: str, name: str, deadline: int | None) -> None:
        super().__init__(f"Wait {step_id!r} for {name!r} passed its deadline ({deadline}).")
        self.step_id = step_id
        self.name = name
        self.deadline = deadline


class ApprovalTimeoutError(WaitTimeoutError):
    """The deadline of ``approve`` passed before anyone decided."""


class WorkflowRequestParseError(WorkflowError):
    """An incoming request body is not a valid workflow request."""


class WorkflowInterrupt(_Picklable):
    """Engine control flow unwinding the handler; user code must not swallow it."""


class WorkflowPaused(WorkflowInterrupt):
    """The run paused on a durable wait. Raised by primitives; caught by the engine."""

    def __init__(self) -> None:
        super().__init__("Workflow paused; this exception is for engine use only.")


class WorkflowCancelled(WorkflowInterrupt):
    """The run was cancelled; raised inside the handler at the next primitive."""

    def __init__(self, reason: str | None = None) -> None:
        super().__init__(reason or "Workflow cancelled.")
        self.reason = reason
