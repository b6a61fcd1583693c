"""``drive_workflow``: one invocation of a run, from start, resume, recovery or attach."""

from __future__ import annotations

import uuid as uuid_lib
from collections.abc import Sequence
from typing import Any

from ._admission import check_delivery
from ._context import (
    DEFAULT_MIN_YIELD_REMAINING_MS,
    ApprovalResult,
    CancellationSignal,
    RuntimeBudget,
    WorkflowContext,
    WorkflowRuntime,
)
from ._definition import WorkflowDefinition
from ._events import RunErrored, RunFinished, RunStarted, WorkflowEvent
from ._history import HistoryIndex
from ._outcome import WorkflowOutcome, refused_outcome, report, run_handler, run_state_update
from ._replay import Emit, Replayer, SignalDelivery
from ._run_state import RunState, SerializedError
from ._run_store import RunStore
from ._serialize import from_json_value, to_json_value, validate_value
from ._session import SuspendedWorkflow
from ._telemetry import Telemetry, TelemetryOption, run_attributes
from ._time import Clock, system_clock


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
    suspend: bool = False,
) -> WorkflowOutcome:
    """Drive one invocation and return its outcome; every event goes to ``emit``.

    Start: ``input`` (and optionally ``run_id``). Resume: ``run_id`` plus one of
    ``signal_delivery``, ``approval``, ``expired_wait_id`` (a wait whose deadline
    passed) or ``recover=True``. Attach: ``run_id`` plus ``attach=True``: replays the
    log read-only. ``run_state``/``history`` may be passed when the caller already
    loaded them. Raises ``LogConflictError`` when another writer took over the run.

    With ``suspend=True`` the handler runs in its own task and, when it stops at a
    wait, stays parked there: ``outcome.suspended`` resumes it later in O(new events)
    (see ``resume_workflow``); call its ``discard()`` when not keeping it.
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
            return report(
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
            return report(
                sink,
                clock,
                run_id,
                "errored",
                "workflow_version_mismatch",
                f"No registered version of workflow {workflow.id!r} matches the run's version "
                f"{run_state.workflow_version!r}. Register it with .previous_versions([...]).",
                run=run_state,
            )
        refusal = check_delivery(
            run_state, HistoryIndex(history), signal_delivery, approval, expired_wait_id
        )
        if refusal is not None:
            return refused_outcome(sink, clock, run_state, refusal, len(history))
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
        suspend=suspend,
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
    suspend: bool,
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
        if suspend:
            outcome = await SuspendedWorkflow(workflow, ctx, replayer, telemetry).start()
        else:
            outcome = await run_handler(workflow, ctx, replayer)
        telemetry.set_outcome(
            span, outcome.kind, error_name=outcome.error.name if outcome.error else None
        )
    return outcome
