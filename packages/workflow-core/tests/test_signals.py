"""wait_for_event and signal delivery: payloads, targeting, idempotency, races."""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import BaseModel
from workflow_core_helpers import GatedStore, collect, first, types

from tanstack_workflow.core import (
    InMemoryRunStore,
    SignalDelivery,
    SignalResolved,
    WorkflowContext,
    WorkflowDefinition,
    create_workflow,
    run_workflow,
)

Ctx = WorkflowContext[object, object]


class Review(BaseModel):
    approved: bool
    notes: str


def waiting_workflow(**wait_options: Any) -> WorkflowDefinition[Any, Any, Any]:
    @create_workflow("waiter").handler
    async def wf(ctx: Ctx) -> dict[str, Any]:
        payload = await ctx.wait_for_event("thing", **wait_options)
        return {"payload": payload}

    return wf


async def deliver(
    store: Any, wf: WorkflowDefinition[Any, Any, Any], delivery: SignalDelivery, run_id: str = "r"
) -> Any:
    return await collect(
        run_workflow(workflow=wf, run_store=store, run_id=run_id, signal_delivery=delivery)
    )


async def test_wait_pauses_and_records_the_wait(store: InMemoryRunStore) -> None:
    wf = waiting_workflow(meta={"source": "stripe"})
    events, outcome = await collect(run_workflow(workflow=wf, run_store=store, run_id="r"))
    assert outcome.kind == "paused"
    assert "RUN_FINISHED" not in types(events)
    awaited = first(events, "SIGNAL_AWAITED")
    assert (awaited.name, awaited.meta, awaited.step_id) == (
        "thing",
        {"source": "stripe"},
        "__wait-thing-0",
    )
    state = await store.get_run_state("r")
    assert state is not None
    assert state.status == "paused"
    assert state.awaiting is not None
    assert [a.to_wire() for a in state.awaiting] == [
        {
            "type": "signal",
            "stepId": "__wait-thing-0",
            "signalName": "thing",
            "meta": {"source": "stripe"},
        }
    ]
    assert state.waiting_for is not None
    assert (state.waiting_for.signal_name, state.waiting_for.meta) == (
        "thing",
        {"source": "stripe"},
    )


async def test_delivery_resumes_with_the_payload(store: InMemoryRunStore) -> None:
    wf = waiting_workflow()
    await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    events, outcome = await deliver(
        store, wf, SignalDelivery("sig-1", "thing", {"ok": True, "n": 42})
    )
    assert outcome.kind == "finished"
    assert outcome.output == {"payload": {"ok": True, "n": 42}}
    resolved = first(events, "SIGNAL_RESOLVED")
    assert (resolved.signal_id, resolved.payload) == ("sig-1", {"ok": True, "n": 42})


async def test_explicit_wait_id_and_step_targeted_delivery(store: InMemoryRunStore) -> None:
    wf = waiting_workflow(id="payment-webhook", meta={"source": "stripe"})
    events, _ = await collect(run_workflow(workflow=wf, run_store=store, run_id="r"))
    assert first(events, "SIGNAL_AWAITED").step_id == "payment-webhook"
    state = await store.get_run_state("r")
    assert state is not None
    assert state.waiting_for is not None
    assert state.waiting_for.step_id == "payment-webhook"

    events, outcome = await deliver(
        store,
        wf,
        SignalDelivery(
            "sig-1", "thing", {"ok": True}, step_id="payment-webhook", meta={"delivery": "evt-1"}
        ),
    )
    resolved = first(events, "SIGNAL_RESOLVED")
    assert (resolved.step_id, resolved.meta) == ("payment-webhook", {"delivery": "evt-1"})
    assert outcome.output == {"payload": {"ok": True}}


async def test_step_targeted_delivery_to_another_wait_is_lost(store: InMemoryRunStore) -> None:
    wf = waiting_workflow(id="payment-webhook")
    await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    events, outcome = await deliver(
        store, wf, SignalDelivery("sig-1", "thing", step_id="other-wait")
    )
    assert (outcome.kind, outcome.code, outcome.persisted) == ("lost", "signal_lost", False)
    assert first(events, "RUN_ERRORED").code == "signal_lost"
    state = await store.get_run_state("r")
    assert state is not None
    assert state.status == "paused"


async def test_signal_for_another_name_is_lost_and_changes_nothing(store: InMemoryRunStore) -> None:
    wf = waiting_workflow()
    await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    before = list(await store.get_events("r"))

    _events, outcome = await deliver(store, wf, SignalDelivery("wrong-1", "wrong", {"ok": True}))
    assert (outcome.kind, outcome.code) == ("lost", "signal_lost")
    assert "thing" not in outcome.error.message
    assert "wrong" in outcome.error.message
    assert list(await store.get_events("r")) == before

    _, accepted = await deliver(store, wf, SignalDelivery("expected-1", "thing", {"ok": True}))
    assert accepted.output == {"payload": {"ok": True}}


async def test_payload_is_validated_against_the_schema(store: InMemoryRunStore) -> None:
    seen: list[Any] = []

    @create_workflow("schema").handler
    async def wf(ctx: Ctx) -> bool:
        review = await ctx.wait_for_event("review", schema=Review)
        seen.append(review)
        return bool(review.approved)

    await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    _, outcome = await deliver(
        store, wf, SignalDelivery("s1", "review", {"approved": True, "notes": "lgtm"})
    )
    assert outcome.output is True
    assert seen == [Review(approved=True, notes="lgtm")]


async def test_payload_failing_the_schema_is_rejected_and_the_run_stays_paused(
    store: InMemoryRunStore,
) -> None:
    @create_workflow("schema-reject").handler
    async def wf(ctx: Ctx) -> str:
        review = await ctx.wait_for_event("review", schema=Review)
        return str(review.notes)

    await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    log_before = list(await store.get_events("r"))
    state_before = await store.get_run_state("r")

    events, outcome = await deliver(
        store, wf, SignalDelivery("bad-1", "review", {"approved": "maybe"})
    )
    assert (outcome.kind, outcome.code, outcome.persisted) == ("rejected", "signal_rejected", False)
    assert outcome.error is not None
    assert "payload of signal 'review'" in outcome.error.message
    assert first(events, "RUN_ERRORED").code == "signal_rejected"
    assert list(await store.get_events("r")) == log_before
    assert await store.get_run_state("r") == state_before

    # a rejected signal id was never recorded, so a corrected retry with the same id works
    _, accepted = await deliver(
        store, wf, SignalDelivery("bad-1", "review", {"approved": True, "notes": "ok"})
    )
    assert accepted.kind == "finished"
    assert accepted.output == "ok"


async def test_payload_that_is_not_json_is_rejected(store: InMemoryRunStore) -> None:
    wf = waiting_workflow()
    await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    _, outcome = await deliver(store, wf, SignalDelivery("s", "thing", {"x": object()}))
    assert (outcome.kind, outcome.code) == ("rejected", "signal_rejected")


async def test_same_signal_id_twice_is_a_no_op(store: InMemoryRunStore) -> None:
    calls = 0

    def after() -> int:
        nonlocal calls
        calls += 1
        return calls

    @create_workflow("idem").handler
    async def wf(ctx: Ctx) -> Any:
        first_payload = await ctx.wait_for_event("approval")
        await ctx.step("after", after)
        await ctx.wait_for_event("second")
        return first_payload

    await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    _, applied = await deliver(store, wf, SignalDelivery("sig-A", "approval", {"ok": True}))
    assert applied.kind == "paused"
    log = list(await store.get_events("r"))

    events, again = await deliver(store, wf, SignalDelivery("sig-A", "approval", {"ok": True}))
    assert (again.kind, again.code, again.persisted) == ("duplicate", "duplicate", False)
    assert events == []
    assert list(await store.get_events("r")) == log
    assert calls == 1


async def test_same_signal_id_after_the_run_finished_attaches(store: InMemoryRunStore) -> None:
    wf = waiting_workflow()
    await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    await deliver(store, wf, SignalDelivery("sig-A", "thing", {"ok": True}))
    events, again = await deliver(store, wf, SignalDelivery("sig-A", "thing", {"ok": True}))
    assert again.kind == "attached"
    assert first(events, "RUN_FINISHED").output == {"payload": {"ok": True}}
    assert "RUN_ERRORED" not in types(events)


async def test_different_signal_id_for_an_already_resolved_wait_is_lost(
    store: InMemoryRunStore,
) -> None:
    wf = waiting_workflow()
    events, _ = await collect(run_workflow(workflow=wf, run_store=store, run_id="r"))
    awaited = first(events, "SIGNAL_AWAITED")
    # another writer resolved the wait, but crashed before updating the run snapshot
    log = await store.get_events("r")
    await store.append_event(
        "r",
        len(log),
        SignalResolved(
            ts=1,
            step_id=awaited.step_id,
            name="thing",
            signal_id="first-writer",
            payload={"winner": True},
        ),
    )

    events, lost = await deliver(
        store, wf, SignalDelivery("sig-second", "thing", {"winner": False})
    )
    assert (lost.kind, lost.code) == ("lost", "signal_lost")
    assert first(events, "RUN_ERRORED").code == "signal_lost"

    # the winner's payload stands when the run is driven on
    recovered = await run_workflow(workflow=wf, run_store=store, run_id="r", recover=True).result()
    assert recovered.output == {"payload": {"winner": True}}


async def test_the_writer_of_the_resolution_may_redeliver(store: InMemoryRunStore) -> None:
    wf = waiting_workflow()
    events, _ = await collect(run_workflow(workflow=wf, run_store=store, run_id="r"))
    awaited = first(events, "SIGNAL_AWAITED")
    await store.append_event(
        "r",
        1,
        SignalResolved(ts=1, step_id=awaited.step_id, name="thing", signal_id="sig-1", payload=1),
    )
    _, outcome = await deliver(store, wf, SignalDelivery("sig-1", "thing", 1))
    assert outcome.kind == "duplicate"


async def test_racing_deliveries_with_different_ids_one_wins() -> None:
    store = GatedStore()
    wf = waiting_workflow()
    await run_workflow(workflow=wf, run_store=store, run_id="r").result()

    store.hold_next = True
    slow = asyncio.create_task(deliver(store, wf, SignalDelivery("sig-slow", "thing", "slow")))
    await store.arrived.wait()  # the slow delivery is about to append its resolution
    _, fast = await deliver(store, wf, SignalDelivery("sig-fast", "thing", "fast"))
    store.release.set()
    events, slow_outcome = await slow

    assert fast.kind == "finished"
    assert fast.output == {"payload": "fast"}
    assert (slow_outcome.kind, slow_outcome.code) == ("lost", "signal_lost")
    assert first(events, "RUN_ERRORED").code == "signal_lost"
    log = await store.get_events("r")
    assert types(log) == ["SIGNAL_AWAITED", "SIGNAL_RESOLVED", "RUN_FINISHED"]
    assert log[1].signal_id == "sig-fast"


async def test_racing_deliveries_with_the_same_id_is_a_duplicate() -> None:
    store = GatedStore()
    wf = waiting_workflow()
    await run_workflow(workflow=wf, run_store=store, run_id="r").result()

    store.hold_next = True
    slow = asyncio.create_task(deliver(store, wf, SignalDelivery("sig-1", "thing", "x")))
    await store.arrived.wait()
    _, fast = await deliver(store, wf, SignalDelivery("sig-1", "thing", "x"))
    store.release.set()
    events, slow_outcome = await slow

    assert fast.kind == "finished"
    assert (slow_outcome.kind, slow_outcome.code) == ("duplicate", "duplicate")
    assert "RUN_ERRORED" not in types(events)


async def test_repeated_waits_for_one_name_take_one_signal_each(store: InMemoryRunStore) -> None:
    @create_workflow("inbox").handler
    async def wf(ctx: Ctx) -> list[Any]:
        return [await ctx.wait_for_event("message") for _ in range(3)]

    await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    outcome: Any = None
    for i in range(3):
        _, outcome = await deliver(store, wf, SignalDelivery(f"m{i}", "message", i))
    assert outcome.output == [0, 1, 2]
    log = await store.get_events("r")
    assert [e.step_id for e in log if e.type == "SIGNAL_AWAITED"] == [
        "__wait-message-0",
        "__wait-message-1",
        "__wait-message-2",
    ]


async def test_signal_for_an_unknown_run_is_not_found(store: InMemoryRunStore) -> None:
    _, outcome = await deliver(
        store, waiting_workflow(), SignalDelivery("s", "thing"), run_id="nope"
    )
    assert (outcome.kind, outcome.code) == ("not_found", "run_lost")


async def test_wait_needs_a_non_empty_name(store: InMemoryRunStore) -> None:
    @create_workflow("no-name").handler
    async def wf(ctx: Ctx) -> None:
        await ctx.wait_for_event("")

    outcome = await run_workflow(workflow=wf, run_store=store).result()
    assert outcome.kind == "errored"
    assert outcome.code == "validation_error"
