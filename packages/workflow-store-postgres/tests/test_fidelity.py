"""Values come back exactly as written, and orderings match Python's."""

from __future__ import annotations

from typing import Any

import psycopg

from tanstack_workflow.core import (
    RunErrored,
    SerializedError,
    SignalAwaitable,
    SignalAwaited,
    SignalDelivery,
    StepFinished,
)
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


async def test_one_event_and_many_events_store_the_same_columns(
    store: PostgresWorkflowExecutionStore, database_url: str
) -> None:
    """A single event takes its own statement (type and stepId as parameters): the row
    must be the one the many-events statement writes (read from the event's JSON)."""
    events = [
        StepFinished(ts=1, step_id="s", result=1),
        SignalAwaited(ts=1, step_id="wait", name="go"),
        RunErrored(ts=1, run_id="r", error=SerializedError(name="E", message="m"), code="c"),
    ]
    for run_id in ("one", "many"):
        await store.create_run(
            run_id=run_id, workflow_id="w", workflow_version=None, input=None, now=1
        )
    for i, event in enumerate(events):
        await store.append_events(run_id="one", expected_next_index=i, events=[event], now=2)
    await store.append_events(run_id="many", expected_next_index=0, events=events, now=2)
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cur = await conn.execute(
            f"SELECT run_id, event_index, event_type, step_id, event::text, created_at,"
            f" event ->> 'type' = event_type, (event ->> 'stepId') IS NOT DISTINCT FROM step_id"
            f' FROM "{store.schema}".workflow_events ORDER BY run_id, event_index'
        )
        rows = await cur.fetchall()
    many, one = rows[:3], rows[3:]
    assert [r[1:] for r in one] == [r[1:] for r in many]
    assert [r[2:4] for r in one] == [
        ("STEP_FINISHED", "s"),
        ("SIGNAL_AWAITED", "wait"),
        ("RUN_ERRORED", None),
    ]
    assert all(r[6] and r[7] for r in rows)
    assert [e.event for e in await store.read_events("one")] == events


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
