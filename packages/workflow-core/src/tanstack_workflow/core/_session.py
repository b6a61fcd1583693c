"""Suspended workflows: a handler parked at a wait, resumed without replaying its log.

``drive_workflow(..., suspend=True)`` runs the handler in its own task. When it stops
at a wait the outcome carries ``suspended``: the live handler, parked. A host that
keeps it (the runtime keeps a bounded cache) resumes the run with ``resume_workflow``
in O(new events), provided the store still says the run's log ends where the parked
handler left it (``matches``). Any other writer advances the log's CAS index, so a
stale suspension is detected and the caller replays from the store instead.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ._admission import check_delivery
from ._context import (
    DEFAULT_MIN_YIELD_REMAINING_MS,
    ApprovalResult,
    RuntimeBudget,
    WorkflowContext,
)
from ._definition import WorkflowDefinition
from ._events import RunStarted
from ._outcome import (
    WorkflowOutcome,
    paused_outcome,
    refused_outcome,
    rejected_outcome,
    run_handler,
)
from ._parking import Parked
from ._replay import Emit, Replayer, SignalDelivery
from ._run_state import RunState
from ._run_store import RunStore
from ._telemetry import Telemetry, run_attributes
from ._time import Clock, system_clock


class SuspendedWorkflow:
    """A run's handler parked at a wait in this process.

    Resume it with ``resume_workflow`` while ``matches`` holds, or let it go with
    ``discard`` (its handler unwinds as a normal pause would; nothing is written).
    """

    def __init__(
        self,
        workflow: WorkflowDefinition[Any, Any, Any],
        ctx: WorkflowContext[Any, Any],
        replayer: Replayer,
        telemetry: Telemetry,
    ) -> None:
        self.workflow = workflow
        self._ctx = ctx
        self._replayer = replayer
        self._telemetry = telemetry
        self._parking = replayer.parking

    @property
    def run_id(self) -> str:
        """The run this handler drives."""
        return self._replayer.run_id

    @property
    def next_index(self) -> int:
        """The log length the parked handler has seen (the run's CAS index)."""
        return self._replayer.next_index

    @property
    def task(self) -> asyncio.Task[None] | None:
        """The task running the handler."""
        return self._parking.task

    def matches(
        self,
        *,
        next_index: int,
        created_at: int,
        workflow: WorkflowDefinition[Any, Any, Any] | None = None,
    ) -> bool:
        """True when the store's view of the run is the one the handler parked at:
        same log length (no other writer), same run (not deleted and recreated), same
        definition, and the handler still parked in this event loop and untouched."""
        task = self._parking.task
        return (
            task is not None
            and self._parking.parked
            and not self._parking.tainted
            and task.get_loop() is asyncio.get_running_loop()
            and next_index == self._replayer.next_index
            and created_at == self._replayer.run_state.created_at
            and (workflow is None or workflow is self.workflow)
        )

    def discard(self) -> None:
        """Let the handler go: it unwinds with ``WorkflowPaused`` and writes nothing."""
        self._parking.evict()

    async def start(self) -> WorkflowOutcome:
        """Run the handler in its own task until it parks or ends (the first invocation)."""
        loop = asyncio.get_running_loop()
        self._parking.handoff = loop.create_future()
        self._parking.task = loop.create_task(self._main())
        return await self._outcome()

    async def _main(self) -> None:
        parking = self._parking
        try:
            outcome = await run_handler(self.workflow, self._ctx, self._replayer)
        except Exception as error:
            parking.fail(error)
            return
        except BaseException as interrupt:  # cancelled: tell the invocation, then stop
            parking.fail(interrupt)
            raise
        finally:
            parking.finished = True
            parking.task = None
        parking.deliver(outcome)

    async def _outcome(self) -> WorkflowOutcome:
        handoff = self._parking.handoff
        assert handoff is not None
        try:
            result = await handoff
        except asyncio.CancelledError:
            # The caller gave up: stop the handler too, as an inline drive would.
            task = self._parking.task
            if task is not None:
                task.cancel()
            raise
        if isinstance(result, Parked):
            replayer = self._replayer
            if result.rejection is not None:
                outcome = rejected_outcome(replayer, result.rejection)
            else:
                outcome = paused_outcome(replayer)
            outcome.suspended = self
            return outcome
        assert isinstance(result, WorkflowOutcome)
        return result

    async def _resume(
        self,
        *,
        run_state: RunState,
        run_store: RunStore,
        emit: Emit,
        clock: Clock,
        budget: RuntimeBudget,
        signal_delivery: SignalDelivery | None,
        approval: ApprovalResult | None,
        expired_wait_id: str | None,
        yield_resume_at: int | None,
        thread_id: str | None,
    ) -> WorkflowOutcome:
        replayer = self._replayer
        refusal = check_delivery(
            run_state, replayer.history, signal_delivery, approval, expired_wait_id
        )
        if refusal is not None:  # nothing happens to the run: the handler stays parked
            outcome = refused_outcome(emit, clock, run_state, refusal, replayer.next_index)
            outcome.suspended = self
            return outcome
        replayer.rebind(
            run_state=run_state,
            store=run_store,
            emit=emit,
            clock=clock,
            budget=budget,
            signal_delivery=signal_delivery,
            approval=approval,
            expired_wait_id=expired_wait_id,
            yield_resume_at=yield_resume_at,
        )
        self._ctx.runtime._budget = budget
        emit(RunStarted(ts=clock(), run_id=self.run_id, thread_id=thread_id))
        workflow = self.workflow
        attributes = run_attributes(workflow.id, workflow.version, self.run_id)
        telemetry = self._telemetry
        with telemetry.span("workflow.run", attributes) as span:
            self._parking.handoff = asyncio.get_running_loop().create_future()
            self._parking.wake(telemetry.current_context())
            outcome = await self._outcome()
            telemetry.set_outcome(
                span, outcome.kind, error_name=outcome.error.name if outcome.error else None
            )
        return outcome


async def resume_workflow(
    suspended: SuspendedWorkflow,
    *,
    run_state: RunState,
    next_index: int,
    run_store: RunStore,
    emit: Emit | None = None,
    signal_delivery: SignalDelivery | None = None,
    approval: ApprovalResult | None = None,
    expired_wait_id: str | None = None,
    deadline: int | None = None,
    min_yield_remaining_ms: int | None = None,
    yield_resume_at: int | None = None,
    clock: Clock | None = None,
    thread_id: str | None = None,
) -> WorkflowOutcome:
    """Continue a parked handler with one more invocation (a delivery, or a recovery).

    ``run_state`` and ``next_index`` are the store's current view of the run, read
    while holding its lease; they must ``match`` the suspension (else ``ValueError``:
    replay with ``drive_workflow`` instead). Returns the same outcomes as
    ``drive_workflow``; ``outcome.suspended`` is set again when the handler parks.
    """
    if run_state.run_id != suspended.run_id or not suspended.matches(
        next_index=next_index, created_at=run_state.created_at
    ):
        raise ValueError(f"the suspended workflow of run {run_state.run_id!r} is stale")
    chosen_clock = clock or system_clock
    floor = (
        DEFAULT_MIN_YIELD_REMAINING_MS if min_yield_remaining_ms is None else min_yield_remaining_ms
    )
    return await suspended._resume(
        run_state=run_state,
        run_store=run_store,
        emit=emit or (lambda _event: None),
        clock=chosen_clock,
        budget=RuntimeBudget(deadline, chosen_clock, floor),
        signal_delivery=signal_delivery,
        approval=approval,
        expired_wait_id=expired_wait_id,
        yield_resume_at=yield_resume_at,
        thread_id=thread_id,
    )
