"""``drive_workflow``: one invocation of a run, from start, resume, recovery or attach."""

from __future__ import annotations

import uuid as uuid_lib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from ._context import (
    DEFAULT_MIN_YIELD_REMAINING_MS,
    ApprovalResult,
    CancellationSignal,
    RuntimeBudget,
    WorkflowContext,
    WorkflowRuntime,
)
from ._definition import WorkflowDefinition
from ._errors import (
    WorkflowCancelled,
    WorkflowError,
    WorkflowPaused,
    WorkflowValidationError,
)
from ._events import RunErrored, RunFinished, RunStarted, SignalResolved, WorkflowEvent
from ._history import HistoryIndex
from ._middleware import run_with_middleware
from ._replay import DeliveryRejected, Emit, Replayer, RunSuperseded, SignalDelivery
from ._run_state import RunState, SerializedError
from ._run_store import RunStore
from ._serialize import from_json_value, serialize_error, to_json_value, validate_value
from ._telemetry import Telemetry, TelemetryOption, run_attributes
from ._time import Clock, system_clock

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


def new_run_id() -> str:
    """A fresh random run id."""
    return f"run_{uuid_lib.uuid4().hex}"


def validate_input(workflow: WorkflowDefinition[Any, Any, Any], value: Any) -> Any:
    """The JSON form of ``value`` validated against the workflow's input type."""
    _, data = validate_value(value, workflow.input_adapter, f"workflow {workflow.id!r} input")
    return data


def _initial_state(workflow: WorkflowDefinition[Any, Any, Any], input_value: Any) -> Any:
    seed = workflow.initial_state(input_value) if workflow.initial_state else None
    adapter = workflow.state_adapter
    if adapter is None:
        return {} if seed is None else seed
    parsed, _ = validate_value(
        {} if seed is None else seed, adapter, f"workflow {workflow.id!r} state"
    )
    return parsed


async def drive_workflow(
    *,
    workflow: WorkflowDefinition[Any, Any, Any],
    run_store: RunStore,
    emit: Emit | None = None,
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
    clock: Clock | None = None,
    telemetry: TelemetryOption | Telemetry = None,
    thread_id: str | None = None,
    run_state: RunState | None = None,
    history: Sequence[WorkflowEvent] | None = None,
) -> WorkflowOutcome:
    """Drive one invocation and return its outcome; every event goes to ``emit``.

    Start: ``input`` (and optionally ``run_id``). Resume: ``run_id`` plus one of
    ``signal_delivery``, ``approval``, ``expired_wait_id`` (a wait whose deadline
    passed) or ``recover=True``. Attach: ``run_id`` plus ``attach=True``: replays the
    log read-only. ``run_state``/``history`` may be passed when the caller already
    loaded them. Raises ``LogConflictError`` when another writer took over the run.
    """
    sink: Emit = emit or (lambda _event: None)
    clock = clock or system_clock
    tel = telemetry if isinstance(telemetry, Telemetry) else Telemetry(telemetry)
    resuming = (
        recover
        or signal_delivery is not None
        or approval is not None
        or expired_wait_id is not None
    )
    if attach or resuming:
        if run_id is None:
            raise ValueError("attach and resume need run_id")
        if run_state is None:
            run_state = await run_store.get_run_state(run_id)
        if run_state is None:
            return _report(
                sink, clock, run_id, "not_found", "run_lost", f"Run {run_id!r} not found."
            )
        if history is None:
            history = await run_store.get_events(run_id)
        if not run_state.is_terminal:
            run_state = await _settle_terminal(run_store, run_state, history, clock)
        if attach or run_state.is_terminal:
            return _attach(sink, clock, run_state, history, thread_id)
        selected = workflow.for_version(run_state.workflow_version)
        if selected is None and run_state.workflow_version is None:
            selected = workflow
        if selected is None:
            return _report(
                sink,
                clock,
                run_id,
                "errored",
                "workflow_version_mismatch",
                f"No registered version of workflow {workflow.id!r} matches the run's version "
                f"{run_state.workflow_version!r}. Register it with .previous_versions([...]).",
                run=run_state,
            )
        refusal = _check_delivery(
            run_state, HistoryIndex(history), signal_delivery, approval, expired_wait_id
        )
        if refusal is not None:
            kind, code, message = refusal
            if kind == "duplicate":
                return WorkflowOutcome(
                    "duplicate",
                    run_id,
                    run=run_state,
                    code=code,
                    persisted=False,
                    next_index=len(history),
                )
            return _report(sink, clock, run_id, kind, code, message, run=run_state)
        workflow = selected
    else:
        input_json = validate_input(workflow, input)
        run_id = run_id or new_run_id()
        existing = await run_store.get_run_state(run_id)
        if existing is not None:
            return _attach(sink, clock, existing, await run_store.get_events(run_id), thread_id)
        _initial_state(workflow, from_json_value(input_json, workflow.input_adapter, "input"))
        now = clock()
        run_state = RunState(
            run_id=run_id,
            status="running",
            workflow_id=workflow.id,
            workflow_version=workflow.version,
            input=input_json,
            created_at=now,
            updated_at=now,
        )
        await run_store.set_run_state(run_id, run_state)
        history = []
    return await _drive(
        workflow=workflow,
        run_store=run_store,
        sink=sink,
        clock=clock,
        telemetry=tel,
        run_state=run_state,
        history=history,
        signal_delivery=signal_delivery,
        approval=approval,
        expired_wait_id=expired_wait_id,
        budget=RuntimeBudget(deadline, clock, min_yield_remaining_ms),
        yield_resume_at=yield_resume_at,
        cancellation=cancellation or CancellationSignal(),
        thread_id=thread_id,
    )


async def _settle_terminal(
    run_store: RunStore, run: RunState, history: Sequence[WorkflowEvent], clock: Clock
) -> RunState:
    """``run`` made terminal when its log already ends the run.

    A writer without ``commit_transition`` that crashed between appending RUN_FINISHED
    (or RUN_ERRORED) and storing the state leaves a stale snapshot; driving the run
    again would append a second terminal event.
    """
    terminal = next((e for e in reversed(history) if isinstance(e, RunFinished | RunErrored)), None)
    if terminal is None:
        return run
    if isinstance(terminal, RunFinished):
        settled = run_state_update(run, clock, status="finished", output=terminal.output)
    else:
        status = "aborted" if terminal.code == "cancelled" else "errored"
        settled = run_state_update(
            run, clock, status=status, error=terminal.error, error_code=terminal.code
        )
    await run_store.set_run_state(run.run_id, settled)
    return settled


def _check_delivery(
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


def _report(
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


def _error_name(code: str) -> str:
    return "".join(part.capitalize() for part in code.split("_"))


def _attach(
    sink: Emit, clock: Clock, run: RunState, history: Sequence[WorkflowEvent], thread_id: str | None
) -> WorkflowOutcome:
    sink(RunStarted(ts=clock(), run_id=run.run_id, thread_id=thread_id))
    for event in history:
        sink(event)
    has_terminal = any(e.type in ("RUN_FINISHED", "RUN_ERRORED") for e in history)
    if not has_terminal and run.status == "finished":
        sink(RunFinished(ts=clock(), run_id=run.run_id, output=run.output))
    elif not has_terminal and run.status in ("errored", "aborted"):
        error = run.error or SerializedError(
            name="Unknown", message="run ended without a recorded error"
        )
        sink(RunErrored(ts=clock(), run_id=run.run_id, error=error, code=run.error_code or "error"))
    return WorkflowOutcome(
        "attached",
        run.run_id,
        run=run,
        output=run.output,
        error=run.error,
        code=run.error_code,
        next_index=len(history),
        persisted=False,
    )


async def _drive(
    *,
    workflow: WorkflowDefinition[Any, Any, Any],
    run_store: RunStore,
    sink: Emit,
    clock: Clock,
    telemetry: Telemetry,
    run_state: RunState,
    history: Sequence[WorkflowEvent],
    signal_delivery: SignalDelivery | None,
    approval: ApprovalResult | None,
    expired_wait_id: str | None,
    budget: RuntimeBudget,
    yield_resume_at: int | None,
    cancellation: CancellationSignal,
    thread_id: str | None,
) -> WorkflowOutcome:
    run_id = run_state.run_id
    input_value = from_json_value(
        run_state.input, workflow.input_adapter, f"workflow {workflow.id!r} input"
    )
    state = _initial_state(workflow, input_value)
    state_adapter = workflow.state_adapter

    def snapshot() -> Any:
        return to_json_value(ctx.state, state_adapter, f"workflow {workflow.id!r} state")

    replayer = Replayer(
        run_state=run_state,
        store=run_store,
        history=history,
        emit=sink,
        clock=clock,
        budget=budget,
        cancellation=cancellation,
        telemetry=telemetry,
        default_retry=workflow.default_retry,
        state_snapshot=lambda: to_json_value(state, state_adapter, "state"),
        signal_delivery=signal_delivery,
        approval=approval,
        expired_wait_id=expired_wait_id,
        yield_resume_at=yield_resume_at,
    )
    ctx: WorkflowContext[Any, Any] = WorkflowContext(
        run_id=run_id,
        input=input_value,
        state=state,
        runtime=WorkflowRuntime(budget, replayer),
        cancellation=cancellation,
        replayer=replayer,
    )
    replayer._snapshot = snapshot
    sink(RunStarted(ts=clock(), run_id=run_id, thread_id=thread_id))
    attributes = run_attributes(workflow.id, workflow.version, run_id)
    with telemetry.span("workflow.run", attributes) as span:
        outcome = await _run_handler(workflow, ctx, replayer, run_state, clock)
        telemetry.set_outcome(
            span, outcome.kind, error_name=outcome.error.name if outcome.error else None
        )
    return outcome


async def _run_handler(
    workflow: WorkflowDefinition[Any, Any, Any],
    ctx: WorkflowContext[Any, Any],
    replayer: Replayer,
    run_state: RunState,
    clock: Clock,
) -> WorkflowOutcome:
    run_id = run_state.run_id
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
        result = rejected.outcome
        if result.kind == "duplicate":  # the same delivery already won: nothing to report
            return WorkflowOutcome(
                "duplicate",
                run_id,
                run=replayer.run_state,
                code=result.code,
                persisted=False,
                next_index=replayer.next_index,
            )
        return _report(
            replayer.emit,
            clock,
            run_id,
            cast(OutcomeKind, result.kind),
            result.code,
            str(result),
            run=replayer.run_state,
        )
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
    if replayer.conflict is not None:
        raise replayer.conflict
    if replayer.store_failure is not None:
        raise replayer.store_failure
    if replayer.paused and replayer.fatal is None and not isinstance(error, WorkflowCancelled):
        return WorkflowOutcome(
            "paused",
            run_id,
            run=replayer.run_state,
            appended=replayer.appended,
            next_index=replayer.next_index,
        )
    if replayer.fatal is not None:
        error = replayer.fatal
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
