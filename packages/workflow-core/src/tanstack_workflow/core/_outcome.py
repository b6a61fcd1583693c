"""How one invocation of a handler ends: the outcome, and the terminal write it needs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, cast

from ._context import WorkflowContext
from ._definition import WorkflowDefinition
from ._errors import WorkflowCancelled, WorkflowError, WorkflowPaused, WorkflowValidationError
from ._events import RunErrored, RunFinished, WorkflowEvent
from ._middleware import run_with_middleware
from ._replay import Emit, Replayer
from ._run_state import RunState, SerializedError
from ._serialize import serialize_error, validate_value
from ._time import Clock
from ._writes import DeliveryRejected, RunSuperseded

if TYPE_CHECKING:
    from ._session import SuspendedWorkflow

OutcomeKind = Literal[
    "finished",
    "paused",
    "errored",
    "cancelled",
    "attached",
    "duplicate",
    "lost",
    "rejected",
    "not_found",
]


@dataclass
class WorkflowOutcome:
    """How one invocation ended. ``output`` is the JSON form of the workflow's result.

    ``persisted`` is False when the error was only reported to this caller (a lost or
    rejected delivery, an unknown version) and the run itself is unchanged.
    ``suspended`` is set when the invocation was driven with ``suspend=True`` and the
    handler is parked at its wait, resumable with ``resume_workflow``.
    """

    kind: OutcomeKind
    run_id: str
    run: RunState | None = None
    output: Any = None
    error: SerializedError | None = None
    code: str | None = None
    appended: int = 0
    next_index: int = 0
    persisted: bool = True
    suspended: SuspendedWorkflow | None = None


def report(
    sink: Emit,
    clock: Clock,
    run_id: str,
    kind: OutcomeKind,
    code: str,
    message: str,
    *,
    run: RunState | None = None,
) -> WorkflowOutcome:
    """Tell the caller (not the log) why nothing was driven."""
    error = SerializedError(name=_error_name(code), message=message)
    sink(RunErrored(ts=clock(), run_id=run_id, error=error, code=code))
    return WorkflowOutcome(kind, run_id, run=run, error=error, code=code, persisted=False)


def refused_outcome(
    sink: Emit,
    clock: Clock,
    run: RunState,
    refusal: tuple[OutcomeKind, str, str],
    next_index: int,
) -> WorkflowOutcome:
    """The outcome of a delivery refused before driving (``check_delivery``): a
    duplicate is silent, anything else is reported to the caller."""
    kind, code, message = refusal
    if kind == "duplicate":
        return WorkflowOutcome(
            "duplicate", run.run_id, run=run, code=code, persisted=False, next_index=next_index
        )
    return report(sink, clock, run.run_id, kind, code, message, run=run)


def _error_name(code: str) -> str:
    return "".join(part.capitalize() for part in code.split("_"))


def paused_outcome(replayer: Replayer) -> WorkflowOutcome:
    """The outcome of an invocation that stopped at a wait."""
    return WorkflowOutcome(
        "paused",
        replayer.run_id,
        run=replayer.run_state,
        appended=replayer.appended,
        next_index=replayer.next_index,
    )


def rejected_outcome(replayer: Replayer, rejected: DeliveryRejected) -> WorkflowOutcome:
    """The outcome of a delivery its wait refused (or lost to another writer)."""
    result = rejected.outcome
    refusal = (cast(OutcomeKind, result.kind), result.code, str(result))
    return refused_outcome(
        replayer.emit, replayer.clock, replayer.run_state, refusal, replayer.next_index
    )


async def run_handler(
    workflow: WorkflowDefinition[Any, Any, Any],
    ctx: WorkflowContext[Any, Any],
    replayer: Replayer,
) -> WorkflowOutcome:
    """Run the handler (through its middleware) and settle how the invocation ended."""
    error: BaseException | None = None
    output_json: Any = None
    try:
        output = await run_with_middleware(workflow.middlewares, ctx, workflow.handler)
        replayer.flush_state()
        if not replayer.paused and replayer.fatal is None:
            output_json = validate_value(
                output, workflow.output_adapter, f"workflow {workflow.id!r} output"
            )[1]
    except DeliveryRejected as rejected:
        replayer.closed = True
        return rejected_outcome(replayer, rejected)
    except RunSuperseded:
        pass
    except WorkflowPaused:
        if not replayer.paused:  # raised by user code, not by a primitive
            error = RuntimeError("WorkflowPaused raised outside a durable primitive")
    except WorkflowCancelled as interrupt:
        error = interrupt
    except Exception as exc:
        error = exc
    finally:
        replayer.closed = True
        replayer.detach()
    if replayer.conflict is not None:
        raise replayer.conflict
    if replayer.store_failure is not None:
        raise replayer.store_failure
    if replayer.paused and replayer.fatal is None and not isinstance(error, WorkflowCancelled):
        return paused_outcome(replayer)
    if replayer.fatal is not None:
        error = replayer.fatal
    try:
        return await _end(replayer, error, output_json)
    except DeliveryRejected as rejected:  # the end carried a delivery that lost its race
        replayer.closed = True
        return rejected_outcome(replayer, rejected)


async def _end(
    replayer: Replayer, error: BaseException | None, output_json: Any
) -> WorkflowOutcome:
    """Write the run's terminal event (finished, errored or cancelled)."""
    run_id = replayer.run_id
    clock = replayer.clock
    if error is None and not replayer.cancellation.is_cancelled:
        finished = run_state_update(
            replayer.run_state, clock, status="finished", output=output_json
        )
        event = RunFinished(ts=clock(), run_id=run_id, output=output_json)
        await _terminal(replayer, [event], finished)
        return WorkflowOutcome(
            "finished",
            run_id,
            run=finished,
            output=output_json,
            appended=replayer.appended,
            next_index=replayer.next_index,
        )
    cancelled = replayer.cancellation.is_cancelled or isinstance(error, WorkflowCancelled)
    if cancelled:
        serialized = SerializedError(
            name="WorkflowCancelled", message=replayer.cancellation.reason or "Workflow cancelled."
        )
        code = "cancelled"
    else:
        assert error is not None
        serialized = serialize_error(error)
        code = _error_code(error)
    status = "aborted" if cancelled else "errored"
    errored = run_state_update(
        replayer.run_state, clock, status=status, error=serialized, error_code=code
    )
    await _terminal(
        replayer, [RunErrored(ts=clock(), run_id=run_id, error=serialized, code=code)], errored
    )
    return WorkflowOutcome(
        "cancelled" if cancelled else "errored",
        run_id,
        run=errored,
        error=serialized,
        code=code,
        appended=replayer.appended,
        next_index=replayer.next_index,
    )


def _error_code(error: BaseException) -> str:
    # Only the library's own errors name a code; a user exception with a ``code``
    # attribute (an HTTP client error, say) must not relabel the run.
    declared = getattr(error, "code", None) if isinstance(error, WorkflowError) else None
    if isinstance(declared, str):
        return declared
    return "validation_error" if isinstance(error, WorkflowValidationError) else "error"


async def _terminal(replayer: Replayer, events: list[WorkflowEvent], state: RunState) -> None:
    replayer.closed = False
    try:
        await replayer.append(events, state)
    except RunSuperseded:
        if replayer.store_failure is not None:
            raise replayer.store_failure from None
        assert replayer.conflict is not None
        raise replayer.conflict from None
    finally:
        replayer.closed = True


def run_state_update(run: RunState, clock: Clock, **fields: Any) -> RunState:
    """``run`` with ``fields`` replaced, waits cleared and ``updated_at`` bumped."""
    return run.model_copy(
        update={
            "awaiting": None,
            "waiting_for": None,
            "pending_approval": None,
            "updated_at": clock(),
            **fields,
        }
    )
