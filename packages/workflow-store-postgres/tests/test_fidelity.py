"""Values come back exactly as written, and orderings match Python's."""

from __future__ import annotations

from typing import Any

from tanstack_workflow.core import SignalAwaitable, SignalAwaited, SignalDelivery, StepFinished
from tanstack_workflow.runtime import RunTransition, split_awaiting
from tanstack_workflow.store_postgres import PostgresWorkflowExecutionStore

TRICKY: list[Any] = [
    1e16,
    1.5e300,
    -0.0,
    0.1,
    2**62,
    {"b": 1, "a": None, "": [None, True, False]},
    "ünïcödé \u2028 \\ \" ' 😀",
    [[], {}, ""],
    None,
]


async def test_json_values_round_trip_exactly(store: PostgresWorkflowExecutionStore) -> None:
    for i, value in enumerate(TRICKY):
        run_id = f"r{i}"
        await store.create_run(
            run_id=run_id, workflow_id="w", workflow_version=None, input=value, now=1
        )
        event = StepFinished(ts=1, step_id="s", result=value)
        t = RunTransition(status="finished", output=value)
        await store.append_events(
            run_id=run_id, expected_next_index=0, events=[event], now=2, transition=t
        )
        loaded = await store.load_execution(run_id)
        assert loaded is not None
        for got in (loaded.run.input, loaded.run.output, loaded.events[0].event.result):  # type: ignore[union-attr]
            assert got == value
            assert type(got) is type(value)
            if isinstance(value, dict):
                assert list(got) == list(value), "key order"


async def test_signal_payload_round_trips_exactly(store: PostgresWorkflowExecutionStore) -> None:
    await store.create_run(run_id="r", workflow_id="w", workflow_version=None, input=None, now=1)
    wait = SignalAwaitable(step_id="wait", signal_name="go")
    waiting_for, _ = split_awaiting([wait])
    pause = RunTransition(status="paused", awaiting=[wait], waiting_for=waiting_for)
    await store.append_events(
        run_id="r",
        expected_next_index=0,
        events=[SignalAwaited(ts=1, step_id="wait", name="go")],
        now=1,
        transition=pause,
    )
    payload = {"z": 1e16, "a": [None]}
    result = await store.deliver_signal(
        run_id="r",
        delivery=SignalDelivery(signal_id="s1", name="go", payload=payload, meta={"k": "v"}),
        now=2,
    )
    assert result.kind == "delivered"
    (stored,) = await store.read_events("r", from_index=1)
    assert stored.step_id == "wait"
    assert stored.event.payload == payload  # type: ignore[union-attr]
    assert list(stored.event.payload) == ["z", "a"]  # type: ignore[union-attr]
    assert type(stored.event.payload["z"]) is float  # type: ignore[union-attr]


async def test_run_ids_sort_like_python_strings(store: PostgresWorkflowExecutionStore) -> None:
    ids = ["a", "B", "b", "_", "A1", "é", "Z", "aa", "a b", "😀"]
    for run_id in ids:
        await store.create_run(
            run_id=run_id, workflow_id="w", workflow_version=None, input=None, now=7
        )
    seen: list[str] = []
    cursor = None
    while True:
        page = await store.list_runs(limit=3, cursor=cursor)
        seen += [r.run_id for r in page.runs]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == sorted(ids, reverse=True)
