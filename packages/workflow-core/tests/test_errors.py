"""Errors: how user-code failures end a run, and the exception tree itself."""

from __future__ import annotations

import pickle

import pytest
from workflow_core_helpers import collect, first

from tanstack_workflow.core import (
    ApprovalTimeoutError,
    InMemoryRunStore,
    LogConflictError,
    NondeterminismError,
    SerializedError,
    StepFailedError,
    StepTimeoutError,
    WaitTimeoutError,
    WorkflowCancelled,
    WorkflowContext,
    WorkflowDefinitionError,
    WorkflowError,
    WorkflowInterrupt,
    WorkflowPaused,
    WorkflowRequestParseError,
    WorkflowValidationError,
    create_workflow,
    run_workflow,
)

Ctx = WorkflowContext[object, object]


class PaymentDeclined(Exception):
    code = "card_declined"  # an application's own error code


def charge() -> None:
    raise PaymentDeclined("insufficient funds")


async def test_user_exception_errors_the_run_with_a_serialized_error(
    store: InMemoryRunStore,
) -> None:
    @create_workflow("boom").handler
    async def wf(ctx: Ctx) -> None:
        raise KeyError("missing-thing")

    events, outcome = await collect(run_workflow(workflow=wf, run_store=store, run_id="r"))
    assert (outcome.kind, outcome.code) == ("errored", "error")
    assert outcome.error is not None
    assert outcome.error.name == "KeyError"
    assert outcome.error.message == "'missing-thing'"
    assert outcome.error.stack is not None
    assert "Traceback (most recent call last)" in outcome.error.stack
    assert 'raise KeyError("missing-thing")' in outcome.error.stack
    errored = first(events, "RUN_ERRORED")
    assert errored.error == outcome.error
    assert errored.to_wire()["error"]["name"] == "KeyError"
    state = await store.get_run_state("r")
    assert state is not None
    assert (state.status, state.error_code, state.error) == ("errored", "error", outcome.error)
    assert state.is_terminal
    log = await store.get_events("r")
    assert log[-1].type == "RUN_ERRORED"


async def test_a_code_attribute_on_user_exceptions_does_not_relabel_the_run(
    store: InMemoryRunStore,
) -> None:
    # Regression: any exception with a ``code`` string used to become the run's code.
    @create_workflow("declined").handler
    async def wf(ctx: Ctx) -> None:
        charge()

    outcome = await run_workflow(workflow=wf, run_store=store).result()
    assert outcome.code == "error"
    assert outcome.error is not None
    assert outcome.error.name == "PaymentDeclined"


async def test_uncaught_step_failure_keeps_the_original_error_name(store: InMemoryRunStore) -> None:
    @create_workflow("step-declined").handler
    async def wf(ctx: Ctx) -> None:
        await ctx.step("charge", charge)

    outcome = await run_workflow(workflow=wf, run_store=store).result()
    assert outcome.code == "error"
    assert outcome.error is not None
    assert (outcome.error.name, outcome.error.message) == ("PaymentDeclined", "insufficient funds")
    assert outcome.error.stack is not None
    assert "PaymentDeclined" in outcome.error.stack


async def test_raising_workflow_paused_by_hand_is_an_error(store: InMemoryRunStore) -> None:
    @create_workflow("fake-pause").handler
    async def wf(ctx: Ctx) -> None:
        raise WorkflowPaused()

    outcome = await run_workflow(workflow=wf, run_store=store).result()
    assert outcome.kind == "errored"
    assert outcome.error is not None
    assert "outside a durable primitive" in outcome.error.message


async def test_attach_to_an_errored_run_replays_the_error(store: InMemoryRunStore) -> None:
    @create_workflow("errored").handler
    async def wf(ctx: Ctx) -> None:
        raise RuntimeError("bad")

    await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    events, outcome = await collect(
        run_workflow(workflow=wf, run_store=store, run_id="r", attach=True)
    )
    assert outcome.kind == "attached"
    assert outcome.code == "error"
    assert first(events, "RUN_ERRORED").error.message == "bad"


@pytest.mark.parametrize(
    ("error", "bases"),
    [
        (WorkflowDefinitionError, (WorkflowError,)),
        (WorkflowValidationError, (WorkflowError, ValueError)),
        (LogConflictError, (WorkflowError,)),
        (NondeterminismError, (WorkflowError,)),
        (StepFailedError, (WorkflowError,)),
        (StepTimeoutError, (WorkflowError, TimeoutError)),
        (WaitTimeoutError, (WorkflowError, TimeoutError)),
        (ApprovalTimeoutError, (WaitTimeoutError,)),
        (WorkflowRequestParseError, (WorkflowError,)),
        (WorkflowError, (Exception,)),
        (WorkflowPaused, (WorkflowInterrupt,)),
        (WorkflowCancelled, (WorkflowInterrupt,)),
    ],
)
def test_exception_tree(error: type[BaseException], bases: tuple[type[BaseException], ...]) -> None:
    for base in bases:
        assert issubclass(error, base)
    assert issubclass(WorkflowInterrupt, BaseException)
    assert not issubclass(WorkflowInterrupt, Exception)


@pytest.mark.parametrize(
    "error",
    [
        WorkflowValidationError("input", "bad", errors=[{"loc": ["x"]}]),
        LogConflictError("r", 1, 2),
        NondeterminismError("changed"),
        StepFailedError("s", SerializedError(name="E", message="m", stack="tb")),
        StepTimeoutError("s", 5),
        WaitTimeoutError("w", "n", 3),
        ApprovalTimeoutError("w", "approval", 3),
        WorkflowRequestParseError("x"),
        WorkflowDefinitionError("d"),
        WorkflowPaused(),
        WorkflowCancelled("reason"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_errors_pickle(error: BaseException) -> None:
    # Regression: errors with keyword-rich constructors failed to unpickle.
    clone = pickle.loads(pickle.dumps(error))
    assert type(clone) is type(error)
    assert str(clone) == str(error)
    assert vars(clone) == vars(error)


def test_error_attributes() -> None:
    err = StepFailedError("charge", SerializedError(name="ValueError", message="bad", stack="tb"))
    assert (err.step_id, err.error_name, err.error_message, err.remote_traceback) == (
        "charge",
        "ValueError",
        "bad",
        "tb",
    )
    assert NondeterminismError.code == "nondeterminism"
    validation = WorkflowValidationError("workflow 'w' input", "count: bad")
    assert str(validation) == "workflow 'w' input failed validation: count: bad"
    assert validation.errors == []
    assert StepTimeoutError("s", 20).timeout_ms == 20
    assert "20 ms" in str(StepTimeoutError("s", 20))
    assert WorkflowCancelled().reason is None
