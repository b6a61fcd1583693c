"""A step's value is the same on first execution and on replay: the JSON round trip."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel
from workflow_core_helpers import collect, first

from tanstack_workflow.core import (
    ApprovalResult,
    InMemoryRunStore,
    WorkflowContext,
    WorkflowDefinition,
    create_workflow,
    run_workflow,
)

Ctx = WorkflowContext[object, object]


class Invoice(BaseModel):
    number: str
    amount: Decimal
    issued: datetime


@dataclasses.dataclass
class Point:
    x: int
    y: int


ISSUED = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)


def make_invoice() -> Invoice:
    return Invoice(number="INV-1", amount=Decimal("12.50"), issued=ISSUED)


async def make_invoice_async() -> Invoice:
    return make_invoice()


def make_point() -> Point:
    return Point(1, 2)


def make_datetime() -> datetime:
    return ISSUED


def make_tuple() -> tuple[int, str]:
    return (1, "a")


def make_set_unannotated():  # type: ignore[no-untyped-def]
    return {"b", "a"}


def make_unannotated():  # type: ignore[no-untyped-def]
    return {"when": ISSUED, "pair": (1, 2), "model": Point(3, 4)}


def make_any() -> Any:
    return (1, 2)


async def run_twice(store: InMemoryRunStore, fn: Any) -> tuple[Any, Any, Any]:
    """Run ``fn`` as a step, pause, resume; return (first value, replayed value, log result)."""
    seen: list[Any] = []

    @create_workflow("round-trip").handler
    async def wf(ctx: Ctx) -> None:
        seen.append(await ctx.step("value", fn))
        await ctx.approve(title="go?", id="gate")

    paused = await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    assert paused.kind == "paused"
    finished = await resume(wf, store)
    assert finished.kind == "finished"
    recorded = first(await store.get_events("r"), "STEP_FINISHED").result
    assert len(seen) == 2
    return seen[0], seen[1], recorded


async def resume(wf: WorkflowDefinition[Any, Any, Any], store: InMemoryRunStore) -> Any:
    return await run_workflow(
        workflow=wf,
        run_store=store,
        run_id="r",
        approval=ApprovalResult(approved=True, approval_id="r:gate"),
    ).result()


@pytest.mark.parametrize("fn", [make_invoice, make_invoice_async])
async def test_pydantic_model_comes_back_as_the_model(store: InMemoryRunStore, fn: Any) -> None:
    fresh, replayed, recorded = await run_twice(store, fn)
    assert isinstance(fresh, Invoice)
    assert isinstance(replayed, Invoice)
    assert fresh == replayed == make_invoice()
    assert recorded == {"number": "INV-1", "amount": "12.50", "issued": "2024-05-01T12:30:00Z"}


async def test_dataclass_comes_back_as_the_dataclass(store: InMemoryRunStore) -> None:
    fresh, replayed, recorded = await run_twice(store, make_point)
    assert fresh == replayed == Point(1, 2)
    assert type(fresh) is Point
    assert type(replayed) is Point
    assert recorded == {"x": 1, "y": 2}


async def test_datetime_annotation_comes_back_as_datetime(store: InMemoryRunStore) -> None:
    fresh, replayed, recorded = await run_twice(store, make_datetime)
    assert fresh == replayed == ISSUED
    assert isinstance(fresh, datetime)
    assert isinstance(replayed, datetime)
    assert recorded == "2024-05-01T12:30:00Z"


async def test_tuple_annotation_comes_back_as_tuple(store: InMemoryRunStore) -> None:
    fresh, replayed, recorded = await run_twice(store, make_tuple)
    assert fresh == replayed == (1, "a")
    assert recorded == [1, "a"]


async def test_unannotated_values_are_plain_json_already_the_first_time(
    store: InMemoryRunStore,
) -> None:
    fresh, replayed, recorded = await run_twice(store, make_unannotated)
    expected = {"when": "2024-05-01T12:30:00Z", "pair": [1, 2], "model": {"x": 3, "y": 4}}
    assert fresh == replayed == recorded == expected


@pytest.mark.parametrize("fn", [make_any, lambda: (1, 2)])
async def test_any_and_lambda_results_are_plain_json(store: InMemoryRunStore, fn: Any) -> None:
    fresh, replayed, _ = await run_twice(store, fn)
    assert fresh == replayed == [1, 2]


async def test_unannotated_set_becomes_a_list(store: InMemoryRunStore) -> None:
    fresh, replayed, _ = await run_twice(store, make_set_unannotated)
    assert sorted(fresh) == sorted(replayed) == ["a", "b"]
    assert isinstance(fresh, list)


def returns_wrong_type() -> int:
    return "not a number"  # type: ignore[return-value]


def returns_nan() -> float:
    return float("nan")


def returns_object():  # type: ignore[no-untyped-def]
    return object()


@pytest.mark.parametrize(
    ("fn", "fragment"),
    [
        (returns_wrong_type, "step 'value' result"),
        (returns_nan, "not representable in JSON"),
        (returns_object, "not JSON-serializable"),
    ],
)
async def test_results_that_cannot_make_the_round_trip_fail_the_step(
    store: InMemoryRunStore, fn: Any, fragment: str
) -> None:
    @create_workflow("bad-result").handler
    async def wf(ctx: Ctx) -> None:
        await ctx.step("value", fn)

    outcome = await run_workflow(workflow=wf, run_store=store).result()
    assert outcome.kind == "errored"
    assert outcome.error is not None
    assert fragment in outcome.error.message
    log = await store.get_events(outcome.run_id)
    assert first(log, "STEP_FAILED").error.name == "WorkflowValidationError"


async def test_validation_failure_is_not_retried(store: InMemoryRunStore) -> None:
    calls = 0

    def bad() -> int:
        nonlocal calls
        calls += 1
        return "x"  # type: ignore[return-value]

    @create_workflow("bad-no-retry").handler
    async def wf(ctx: Ctx) -> None:
        await ctx.step("value", bad, retry=5)

    outcome = await run_workflow(workflow=wf, run_store=store).result()
    assert outcome.kind == "errored"
    assert calls == 1


async def test_signal_payload_is_validated_by_schema_the_same_way(store: InMemoryRunStore) -> None:
    from tanstack_workflow.core import SignalDelivery

    seen: list[Any] = []

    @create_workflow("payload").handler
    async def wf(ctx: Ctx) -> None:
        seen.append(await ctx.wait_for_event("point", schema=Point))
        await ctx.approve(title="go?", id="gate")

    await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    await run_workflow(
        workflow=wf,
        run_store=store,
        run_id="r",
        signal_delivery=SignalDelivery("s1", "point", {"x": "1", "y": 2}),
    ).result()
    await resume(wf, store)
    assert seen == [Point(1, 2), Point(1, 2)]
    assert first(await store.get_events("r"), "SIGNAL_RESOLVED").payload == {"x": 1, "y": 2}


async def test_workflow_output_is_stored_in_json_form(store: InMemoryRunStore) -> None:
    @create_workflow("output-json", output=Invoice).handler
    async def wf(ctx: Ctx) -> Invoice:
        return await ctx.step("inv", make_invoice)

    events, outcome = await collect(run_workflow(workflow=wf, run_store=store))
    assert outcome.output == {
        "number": "INV-1",
        "amount": "12.50",
        "issued": "2024-05-01T12:30:00Z",
    }
    assert first(events, "RUN_FINISHED").output == outcome.output
