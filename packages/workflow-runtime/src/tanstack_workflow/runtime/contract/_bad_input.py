"""Bad input raises ``WorkflowValidationError`` and changes nothing."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tanstack_workflow.core import (
    ApprovalResult,
    RunState,
    SignalDelivery,
    StepFinished,
    WorkflowValidationError,
    event_to_json,
)

from .._models import RunTransition, ScheduleSpec
from .._store import WorkflowExecutionStore
from .._validation import MAX_VALUE_BYTES
from ._fixtures import (
    LEASE_MS,
    T0,
    WORKFLOW_ID,
    StoreFixtures,
    append,
    approval_wait,
    create,
    pause_on_signal,
    pause_transition,
    snapshot,
    step_event,
)

OVERSIZED = "x" * (MAX_VALUE_BYTES + 1)

BAD_VALUES: list[Any] = [
    pytest.param(object(), id="object"),
    pytest.param({1, 2}, id="set"),
    pytest.param(b"bytes", id="bytes"),
    pytest.param({"when": 1j}, id="complex"),
    pytest.param({1: "non-string key"}, id="int-key"),
    pytest.param("nul\x00byte", id="nul"),
    pytest.param({"k\x00": 1}, id="nul-in-key"),
    pytest.param([{"deep": ["nul\x00"]}], id="nested-nul"),
    pytest.param(math.nan, id="nan"),
    pytest.param({"x": [math.inf]}, id="inf"),
    pytest.param(-math.inf, id="minus-inf"),
    pytest.param(OVERSIZED, id="oversized"),
    pytest.param({"chunks": ["é" * (MAX_VALUE_BYTES // 2)]}, id="oversized-utf8"),
]

BAD_IDS: list[Any] = [
    pytest.param("", id="empty"),
    pytest.param("x" * 256, id="too-long"),
    pytest.param("a\x00b", id="nul"),
    pytest.param("line\nbreak", id="control"),
    pytest.param(None, id="none"),
    pytest.param(42, id="int"),
]

IDS = ("running", "sig", "appr")


async def _world(store: WorkflowExecutionStore) -> dict[str, Any]:
    """A few runs and a schedule; returns their snapshot."""
    await create(store, "running", lease_owner="worker-a", lease_ms=LEASE_MS)
    await append(store, "running", step_event(0))
    await create(store, "sig")
    await pause_on_signal(store, "sig")
    await create(store, "appr")
    await append(store, "appr", step_event(0), transition=pause_transition(approval_wait()))
    await store.upsert_schedule(
        schedule_id="sched",
        workflow_id=WORKFLOW_ID,
        workflow_version=None,
        spec=ScheduleSpec(kind="interval", every_ms=60_000),
        overlap_policy="skip",
        input={"ok": 1},
        next_fire_at=T0,
        next_bucket_id=str(T0),
        enabled=True,
        now=T0,
    )
    return await snapshot(store, *IDS, "new")


async def _rejected(store: WorkflowExecutionStore, call: Callable[[], Awaitable[Any]]) -> None:
    before = await snapshot(store, *IDS, "new")
    with pytest.raises(WorkflowValidationError):
        await call()
    assert await snapshot(store, *IDS, "new") == before


class ValidationContract(StoreFixtures):
    """Non-JSON values, NUL characters, NaN/inf, oversized values and bad ids are refused."""

    @pytest.mark.parametrize("value", BAD_VALUES)
    async def test_bad_values_are_refused_everywhere(
        self, store: WorkflowExecutionStore, value: Any
    ) -> None:
        await _world(store)
        calls: list[Callable[[], Awaitable[Any]]] = [
            lambda: store.create_run(
                run_id="new", workflow_id=WORKFLOW_ID, workflow_version=None, input=value, now=T0
            ),
            lambda: store.append_events(
                run_id="running",
                expected_next_index=1,
                events=[step_event(1), StepFinished(ts=T0, step_id="s", result=value)],
                now=T0,
            ),
            lambda: store.append_events(
                run_id="running",
                expected_next_index=1,
                events=[step_event(1)],
                now=T0,
                transition=RunTransition(status="finished", output=value),
            ),
            lambda: store.mark_run_finished(run_id="running", output=value, now=T0),
            lambda: store.deliver_signal(
                run_id="sig",
                delivery=SignalDelivery(signal_id="s-1", name="approved", payload=value),
                now=T0,
            ),
            lambda: store.upsert_schedule(
                schedule_id="sched",
                workflow_id=WORKFLOW_ID,
                workflow_version=None,
                spec=ScheduleSpec(kind="interval", every_ms=1),
                overlap_policy="allow",
                input=value,
                next_fire_at=T0 + 1,
                next_bucket_id="other",
                enabled=True,
                now=T0 + 1,
            ),
            lambda: store.save_run_state(
                RunState(
                    run_id="new",
                    status="running",
                    workflow_id=WORKFLOW_ID,
                    input=value,
                    created_at=T0,
                    updated_at=T0,
                ),
                now=T0,
            ),
            lambda: store.save_run_state(
                RunState(
                    run_id="running",
                    status="finished",
                    workflow_id=WORKFLOW_ID,
                    output=value,
                    created_at=T0,
                    updated_at=T0,
                ),
                now=T0,
            ),
        ]
        for call in calls:
            await _rejected(store, call)

    @pytest.mark.parametrize(
        "text", [pytest.param("nul\x00", id="nul"), pytest.param(OVERSIZED, id="oversized")]
    )
    async def test_bad_strings_are_refused_in_deliveries_and_cancels(
        self, store: WorkflowExecutionStore, text: str
    ) -> None:
        await _world(store)
        await _rejected(
            store,
            lambda: store.deliver_approval(
                run_id="appr",
                approval=ApprovalResult(approved=True, approval_id="approval-1", feedback=text),
                now=T0,
            ),
        )
        await _rejected(
            store,
            lambda: store.deliver_signal(
                run_id="sig",
                delivery=SignalDelivery(signal_id="s-1", name="approved", meta={"note": text}),
                now=T0,
            ),
        )
        await _rejected(store, lambda: store.cancel_run(run_id="sig", reason=text, now=T0))

    @pytest.mark.parametrize("run_id", BAD_IDS)
    async def test_bad_run_ids_are_refused(
        self, store: WorkflowExecutionStore, run_id: Any
    ) -> None:
        await _world(store)
        await _rejected(
            store,
            lambda: store.create_run(
                run_id=run_id, workflow_id=WORKFLOW_ID, workflow_version=None, input=None, now=T0
            ),
        )
        await _rejected(
            store,
            lambda: store.save_run_state(
                RunState.model_construct(
                    run_id=run_id,
                    status="running",
                    workflow_id=WORKFLOW_ID,
                    created_at=T0,
                    updated_at=T0,
                ),
                now=T0,
            ),
        )

    @pytest.mark.parametrize("schedule_id", BAD_IDS)
    async def test_bad_schedule_ids_are_refused(
        self, store: WorkflowExecutionStore, schedule_id: Any
    ) -> None:
        await _world(store)
        await _rejected(
            store,
            lambda: store.upsert_schedule(
                schedule_id=schedule_id,
                workflow_id=WORKFLOW_ID,
                workflow_version=None,
                spec=ScheduleSpec(kind="interval", every_ms=1),
                overlap_policy="skip",
                input=None,
                next_fire_at=T0,
                next_bucket_id="b",
                enabled=True,
                now=T0,
            ),
        )

    async def test_bad_limits_are_refused(self, store: WorkflowExecutionStore) -> None:
        await _world(store)
        claims: dict[str, Any] = {"now": T0 + 10**6, "lease_owner": "sweeper", "lease_ms": LEASE_MS}
        await _rejected(store, lambda: store.claim_stale_runs(limit=-1, **claims))
        await _rejected(store, lambda: store.claim_due_timers(limit=-1, **claims))
        await _rejected(store, lambda: store.claim_due_schedule_buckets(limit=-1, **claims))
        await _rejected(store, lambda: store.list_runs(limit=0))
        await _rejected(
            store, lambda: store.claim_run(run_id="sig", lease_owner="worker-b", lease_ms=0, now=T0)
        )

    async def test_the_largest_allowed_value_round_trips(
        self, store: WorkflowExecutionStore
    ) -> None:
        # compact JSON of a string is the string plus two quotes
        largest = "y" * (MAX_VALUE_BYTES - 2)
        await create(store, "big", input=largest)
        # an event is one stored value: its whole compact JSON may be MAX_VALUE_BYTES
        overhead = len(event_to_json(StepFinished(ts=T0, step_id="s", result="")))
        event = StepFinished(ts=T0, step_id="s", result="y" * (MAX_VALUE_BYTES - overhead))
        assert len(event_to_json(event)) == MAX_VALUE_BYTES
        await append(store, "big", event)
        loaded = await store.load_execution("big")
        assert loaded is not None
        assert loaded.run.input == largest
        assert [s.event for s in loaded.events] == [event]
