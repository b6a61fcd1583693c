"""Schedules: specs, DST-safe cron, materialization and overlap policies."""

from __future__ import annotations

import pytest
from runtime_helpers import T0, ms, runtime_for

from tanstack_workflow.core import WorkflowDefinitionError, create_workflow
from tanstack_workflow.runtime import (
    InMemoryWorkflowExecutionStore,
    ScheduleSpec,
    WorkflowRuntime,
    WorkflowSchedule,
    bucket_run_id,
    cron,
    every,
    latest_due_bucket,
    materialize_workflow_schedules,
)

MINUTE = 60_000


@create_workflow("tick").handler
async def tick(ctx):  # type: ignore[no-untyped-def]
    return ctx.input


@create_workflow("tick").handler
async def long_tick(ctx):  # type: ignore[no-untyped-def]
    await ctx.wait_for_event("done")
    return ctx.input


# -- specs ------------------------------------------------------------------------


def test_every_units() -> None:
    assert every.milliseconds(250) == ScheduleSpec(kind="interval", every_ms=250)
    assert every.seconds(5).every_ms == 5_000
    assert every.minutes(5).every_ms == 300_000
    assert every.hours(2).every_ms == 7_200_000
    assert every.days(1).every_ms == 86_400_000


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "5", None])
@pytest.mark.parametrize("unit", ["milliseconds", "seconds", "minutes", "hours", "days"])
def test_every_rejects_non_positive_integers(unit: str, bad: object) -> None:
    with pytest.raises(WorkflowDefinitionError):
        getattr(every, unit)(bad)


def test_cron_validation() -> None:
    spec = cron("30 2 * * *", timezone="Europe/Berlin")
    assert spec == ScheduleSpec(kind="cron", expression="30 2 * * *", timezone="Europe/Berlin")
    assert cron("*/5 * * * *").timezone == "UTC"
    for bad in ("not a cron", "61 * * * *", "", "* * *"):
        with pytest.raises(WorkflowDefinitionError, match="cron expression"):
            cron(bad)
    for seconds in ("* * * * * *", "0 0 * * * 0"):  # would never fire: refused up front
        with pytest.raises(WorkflowDefinitionError, match="seconds field"):
            cron(seconds)
    assert cron("@hourly").expression == "@hourly"
    with pytest.raises(WorkflowDefinitionError, match="timezone"):
        cron("0 * * * *", timezone="Mars/Olympus_Mons")
    with pytest.raises(WorkflowDefinitionError, match="timezone"):
        cron("0 * * * *", timezone="")


def test_schedule_rejects_unknown_overlap_policy() -> None:
    with pytest.raises(WorkflowDefinitionError, match="overlap_policy"):
        WorkflowSchedule(spec=every.minutes(1), overlap_policy="queue")  # type: ignore[arg-type]


def test_schedule_dicts_in_registrations(store: InMemoryWorkflowExecutionStore) -> None:
    runtime = runtime_for(
        store,
        {
            "tick": {
                "load": tick,
                "schedules": [
                    every.minutes(1),
                    {"spec": every.hours(1), "overlapPolicy": "allow", "id": "hourly"},
                    {"schedule": {"kind": "cron", "expression": "0 9 * * *"}},
                ],
            }
        },
    )
    schedules = runtime.catalog.registrations["tick"].schedules
    assert [s.overlap_policy for s in schedules] == ["skip", "allow", "skip"]
    assert schedules[1].id == "hourly"
    assert schedules[2].spec.expression == "0 9 * * *"
    for bad in ({"overlap_policy": "skip"}, {"spec": every.minutes(1), "bogus": 1}, 42):
        with pytest.raises(WorkflowDefinitionError):
            runtime_for(store, {"tick": {"load": tick, "schedules": [bad]}})


def test_interval_buckets_align_to_the_epoch() -> None:
    spec = every.minutes(5)
    assert latest_due_bucket(spec, 5 * MINUTE) == (5 * MINUTE, str(5 * MINUTE))
    assert latest_due_bucket(spec, 10 * MINUTE - 1) == (5 * MINUTE, str(5 * MINUTE))


def test_cron_lookback() -> None:
    spec = cron("0 9 * * *")
    now = ms(2026, 6, 1, 12)
    assert latest_due_bucket(spec, now) == (ms(2026, 6, 1, 9), "2026-06-01T09:00:00")
    assert latest_due_bucket(spec, now, lookback_ms=60 * MINUTE) is None
    assert latest_due_bucket(spec, now, lookback_ms=3 * 60 * MINUTE) is not None


# -- DST ------------------------------------------------------------------------------


async def fires_across(
    store: InMemoryWorkflowExecutionStore, spec: ScheduleSpec, start: int, end: int
) -> list[tuple[str, int]]:
    """Materialize + sweep every 5 minutes from ``start`` to ``end``; the runs started
    (run id, start time) in that window."""
    runtime = runtime_for(store, {"tick": {"load": tick, "schedules": [spec]}})
    started: list[tuple[str, int]] = []
    now = start
    while now <= end:
        await materialize_workflow_schedules(runtime, now=now, cron_lookback_ms=5 * MINUTE)
        result = await runtime.sweep(now=now)
        started += [(r.run_id, now) for r in result.scheduled if r.kind == "completed"]
        now += 5 * MINUTE
    return started


async def test_berlin_fall_back_fires_once(store: InMemoryWorkflowExecutionStore) -> None:
    # 2026-10-25: 03:00 CEST -> 02:00 CET, so 02:30 happens twice (00:30 and 01:30 UTC).
    spec = cron("30 2 * * *", timezone="Europe/Berlin")
    started = await fires_across(store, spec, ms(2026, 10, 24, 20), ms(2026, 10, 25, 23))
    assert started == [("tick:tick:0:2026-10-25T02:30:00", ms(2026, 10, 25, 0, 30))]


async def test_berlin_spring_forward_fires_once_at_0330(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    # 2026-03-29: 02:00 CET -> 03:00 CEST, so 02:30 never happens; it fires at 03:30 CEST.
    spec = cron("30 2 * * *", timezone="Europe/Berlin")
    started = await fires_across(store, spec, ms(2026, 3, 28, 20), ms(2026, 3, 29, 23))
    assert started == [("tick:tick:0:2026-03-29T02:30:00", ms(2026, 3, 29, 1, 30))]
    assert ms(2026, 3, 29, 1, 30) == ms(2026, 3, 29, 3, 30, tz="Europe/Berlin")


async def test_new_york_fall_back_fires_once(store: InMemoryWorkflowExecutionStore) -> None:
    # 2026-11-01: 02:00 EDT -> 01:00 EST, so 01:30 happens twice (05:30 and 06:30 UTC).
    spec = cron("30 1 * * *", timezone="America/New_York")
    started = await fires_across(store, spec, ms(2026, 10, 31, 22), ms(2026, 11, 2, 4))
    assert started == [("tick:tick:0:2026-11-01T01:30:00", ms(2026, 11, 1, 5, 30))]


async def test_new_york_spring_forward_fires_once_at_0330(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    # 2026-03-08: 02:00 EST -> 03:00 EDT, so 02:30 fires at 03:30 EDT (07:30 UTC).
    spec = cron("30 2 * * *", timezone="America/New_York")
    started = await fires_across(store, spec, ms(2026, 3, 7, 22), ms(2026, 3, 9, 4))
    assert started == [("tick:tick:0:2026-03-08T02:30:00", ms(2026, 3, 8, 7, 30))]


async def test_hourly_cron_across_fall_back(store: InMemoryWorkflowExecutionStore) -> None:
    # The repeated wall hour is one bucket per wall time: 02:00 fires once, at 02:00 CEST.
    spec = cron("0 * * * *", timezone="Europe/Berlin")
    started = await fires_across(store, spec, ms(2026, 10, 24, 23, 30), ms(2026, 10, 25, 3, 30))
    assert started == [
        ("tick:tick:0:2026-10-25T02:00:00", ms(2026, 10, 25, 0)),  # 02:00 CEST
        # 01:00 UTC is 02:00 CET: the same wall time again, so no second run
        ("tick:tick:0:2026-10-25T03:00:00", ms(2026, 10, 25, 2)),  # 03:00 CET
        ("tick:tick:0:2026-10-25T04:00:00", ms(2026, 10, 25, 3)),
    ]


async def test_hourly_cron_across_spring_forward(store: InMemoryWorkflowExecutionStore) -> None:
    # The skipped wall hour 02:00 shifts forward onto 03:00 CEST, the same instant as the
    # 03:00 tick: one run for that instant, named by the later wall time.
    spec = cron("0 * * * *", timezone="Europe/Berlin")
    started = await fires_across(store, spec, ms(2026, 3, 28, 23, 30), ms(2026, 3, 29, 2, 30))
    assert started == [
        ("tick:tick:0:2026-03-29T01:00:00", ms(2026, 3, 29, 0)),
        ("tick:tick:0:2026-03-29T03:00:00", ms(2026, 3, 29, 1)),
        ("tick:tick:0:2026-03-29T04:00:00", ms(2026, 3, 29, 2)),
    ]


# -- materialization ----------------------------------------------------------------------


def scheduled_runtime(
    store: InMemoryWorkflowExecutionStore, *schedules: object, workflow: object = tick
) -> WorkflowRuntime:
    return runtime_for(store, {"tick": {"load": workflow, "schedules": list(schedules)}})


async def test_materialize_reports_and_runs_get_deterministic_ids(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    runtime = scheduled_runtime(
        store,
        WorkflowSchedule(spec=every.minutes(5), id="five"),
        WorkflowSchedule(spec=cron("0 9 * * *"), id="nine"),
    )
    now = ms(2026, 6, 1, 8, 7)
    done = await materialize_workflow_schedules(runtime, now=now, cron_lookback_ms=MINUTE)
    assert [(m.kind, m.schedule_id) for m in done] == [
        ("materialized", "five"),
        ("not-due", "nine"),
    ]
    assert done[0].fire_at == ms(2026, 6, 1, 8, 5)
    assert done[0].to_wire()["bucketId"] == str(ms(2026, 6, 1, 8, 5))
    result = await runtime.sweep(now=now)
    expected = bucket_run_id("tick", "five", str(ms(2026, 6, 1, 8, 5)))
    assert [r.run_id for r in result.scheduled] == [expected]
    assert result.summary.scheduled == {"completed": 1}


async def test_materialize_twice_never_double_starts(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    runtime = scheduled_runtime(store, every.minutes(5))
    now = T0 - T0 % (5 * MINUTE) + MINUTE
    await materialize_workflow_schedules(runtime, now=now)
    await materialize_workflow_schedules(runtime, now=now)
    first = await runtime.sweep(now=now)
    await materialize_workflow_schedules(runtime, now=now + 1)
    second = await runtime.sweep(now=now + 1)
    assert len(first.scheduled) == 1
    assert second.scheduled == []
    assert len((await runtime.list_runs()).runs) == 1
    # the next tick is a fresh run
    await materialize_workflow_schedules(runtime, now=now + 5 * MINUTE)
    third = await runtime.sweep(now=now + 5 * MINUTE)
    assert len(third.scheduled) == 1
    assert third.scheduled[0].run_id != first.scheduled[0].run_id


async def test_concurrent_sweeps_start_a_bucket_once(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    import asyncio

    runtime = scheduled_runtime(store, every.minutes(5))
    await materialize_workflow_schedules(runtime, now=T0)
    a, b = await asyncio.gather(runtime.sweep(now=T0), runtime.sweep(now=T0))
    assert len(a.scheduled) + len(b.scheduled) == 1


async def test_disabled_schedules_never_fire(store: InMemoryWorkflowExecutionStore) -> None:
    runtime = scheduled_runtime(store, WorkflowSchedule(spec=every.minutes(1), enabled=False))
    for step in range(5):
        now = T0 + step * MINUTE
        done = await materialize_workflow_schedules(runtime, now=now)
        assert [m.kind for m in done] == ["disabled"]
        assert (await runtime.sweep(now=now)).scheduled == []
    assert (await runtime.list_runs()).runs == []
    stored = await store.list_schedules()
    assert [s.enabled for s in stored] == [False]


async def test_disabling_stops_a_materialized_schedule(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    enabled = scheduled_runtime(store, WorkflowSchedule(spec=every.minutes(1), id="s"))
    await materialize_workflow_schedules(enabled, now=T0)
    disabled = scheduled_runtime(
        store, WorkflowSchedule(spec=every.minutes(1), id="s", enabled=False)
    )
    await materialize_workflow_schedules(disabled, now=T0)
    assert (await disabled.sweep(now=T0)).scheduled == []


@pytest.mark.parametrize("form", ["value", "sync", "async"])
async def test_schedule_input_forms(store: InMemoryWorkflowExecutionStore, form: str) -> None:
    payload = {"report": "daily"}

    def sync_input() -> dict[str, str]:
        return payload

    async def async_input() -> dict[str, str]:
        return payload

    value = {"value": payload, "sync": sync_input, "async": async_input}[form]
    runtime = scheduled_runtime(store, WorkflowSchedule(spec=every.minutes(1), input=value))
    await materialize_workflow_schedules(runtime, now=T0)
    result = await runtime.sweep(now=T0)
    assert [r.kind for r in result.scheduled] == ["completed"]
    run = result.scheduled[0].run
    assert run is not None
    assert run.input == payload
    assert run.output == payload


async def test_invalid_schedule_input_errors_that_bucket_only(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    @create_workflow("tick", input=int).handler
    async def typed(ctx):  # type: ignore[no-untyped-def]
        return ctx.input

    runtime = scheduled_runtime(
        store, WorkflowSchedule(spec=every.minutes(1), input="nope"), workflow=typed
    )
    await materialize_workflow_schedules(runtime, now=T0)
    result = await runtime.sweep(now=T0)
    assert [r.kind for r in result.scheduled] == ["errored"]
    assert "validation" in (result.scheduled[0].detail or "")
    assert (await runtime.list_runs()).runs == []
    assert (await runtime.sweep(now=T0 + 1)).scheduled == []  # not retried forever


# -- overlap policies --------------------------------------------------------------------


async def tick_at(runtime: WorkflowRuntime, now: int):  # type: ignore[no-untyped-def]
    await materialize_workflow_schedules(runtime, now=now)
    return await runtime.sweep(now=now)


def overlapping(store: InMemoryWorkflowExecutionStore, policy: str) -> WorkflowRuntime:
    return scheduled_runtime(
        store,
        WorkflowSchedule(spec=every.minutes(1), id="s", overlap_policy=policy),  # type: ignore[arg-type]
        workflow=long_tick,
    )


BASE = T0 - T0 % MINUTE


def run_id_at(at: int) -> str:
    return bucket_run_id("tick", "s", str(at))


async def test_skip_policy(store: InMemoryWorkflowExecutionStore) -> None:
    runtime = overlapping(store, "skip")
    first = await tick_at(runtime, BASE)
    assert [r.kind for r in first.scheduled] == ["paused"]
    second = await tick_at(runtime, BASE + MINUTE)
    assert [r.kind for r in second.scheduled] == ["skipped"]
    assert second.summary.scheduled == {"skipped": 1}
    assert await store.load_run(run_id_at(BASE + MINUTE)) is None
    assert (await tick_at(runtime, BASE + MINUTE + 1)).scheduled == []  # skipped for good
    await runtime.deliver_signal(run_id=run_id_at(BASE), signal_id="d", name="done", now=BASE)
    third = await tick_at(runtime, BASE + 2 * MINUTE)
    assert [(r.run_id, r.kind) for r in third.scheduled] == [
        (run_id_at(BASE + 2 * MINUTE), "paused")
    ]


async def test_allow_policy(store: InMemoryWorkflowExecutionStore) -> None:
    runtime = overlapping(store, "allow")
    await tick_at(runtime, BASE)
    second = await tick_at(runtime, BASE + MINUTE)
    assert [r.kind for r in second.scheduled] == ["paused"]
    page = await runtime.list_runs(status="paused")
    assert sorted(r.run_id for r in page.runs) == [run_id_at(BASE), run_id_at(BASE + MINUTE)]


async def test_buffer_one_policy(store: InMemoryWorkflowExecutionStore) -> None:
    # Bucket leases last 30 s (the default lease); sweeps below keep a margin around that
    # because a sweep's clock starts at its ``now`` and advances with real time.
    runtime = overlapping(store, "buffer-one")
    await tick_at(runtime, BASE)
    buffered = await tick_at(runtime, BASE + MINUTE)
    assert [r.kind for r in buffered.scheduled] == ["skipped"]
    assert buffered.scheduled[0].detail == "buffered behind previous run"
    assert await store.load_run(run_id_at(BASE + MINUTE)) is None
    # still running: the lapsed bucket is retried and buffered again
    again = await runtime.sweep(now=BASE + MINUTE + 31_000)
    assert [r.kind for r in again.scheduled] == ["skipped"]

    await runtime.deliver_signal(
        run_id=run_id_at(BASE), signal_id="d", name="done", now=BASE + MINUTE + 32_000
    )
    # the buffered bucket keeps its lease until it lapses, then starts exactly once
    assert (await runtime.sweep(now=BASE + MINUTE + 33_000)).scheduled == []
    started = await runtime.sweep(now=BASE + MINUTE + 62_000)
    assert [(r.run_id, r.kind) for r in started.scheduled] == [(run_id_at(BASE + MINUTE), "paused")]
    assert (await runtime.sweep(now=BASE + MINUTE + 120_000)).scheduled == []
    assert len((await runtime.list_runs()).runs) == 2


async def test_buffer_one_keeps_only_the_newest_tick(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    runtime = overlapping(store, "buffer-one")
    await tick_at(runtime, BASE)
    await tick_at(runtime, BASE + MINUTE)
    await tick_at(runtime, BASE + 2 * MINUTE)
    await runtime.deliver_signal(
        run_id=run_id_at(BASE), signal_id="d", name="done", now=BASE + 2 * MINUTE
    )
    result = await runtime.sweep(now=BASE + 2 * MINUTE + 31_000)
    assert [r.run_id for r in result.scheduled] == [run_id_at(BASE + 2 * MINUTE)]
    ids = sorted(r.run_id for r in (await runtime.list_runs()).runs)
    assert ids == [run_id_at(BASE), run_id_at(BASE + 2 * MINUTE)]


@pytest.mark.parametrize(
    ("policy", "code"), [("cancel-previous", "cancelled"), ("terminate-previous", "terminated")]
)
async def test_cancel_and_terminate_previous(
    store: InMemoryWorkflowExecutionStore, policy: str, code: str
) -> None:
    runtime = overlapping(store, policy)
    await tick_at(runtime, BASE)
    second = await tick_at(runtime, BASE + MINUTE)
    assert [r.kind for r in second.scheduled] == ["paused"]
    previous = await store.load_run(run_id_at(BASE))
    assert previous is not None
    assert previous.status == "aborted"
    assert previous.error_code == code
    log = [s.event for s in await store.read_events(run_id_at(BASE))]
    assert log[-1].type == "RUN_ERRORED"
    assert log[-1].code == code  # type: ignore[union-attr]
    late = await runtime.deliver_signal(
        run_id=run_id_at(BASE), signal_id="d", name="done", now=BASE + MINUTE
    )
    assert late.kind == "not-waiting"


@pytest.mark.parametrize(
    "policy", ["skip", "allow", "buffer-one", "cancel-previous", "terminate-previous"]
)
async def test_finished_previous_run_never_overlaps(
    store: InMemoryWorkflowExecutionStore, policy: str
) -> None:
    runtime = scheduled_runtime(
        store,
        WorkflowSchedule(spec=every.minutes(1), id="s", overlap_policy=policy),  # type: ignore[arg-type]
    )
    for i in range(3):
        result = await tick_at(runtime, BASE + i * MINUTE)
        assert [r.kind for r in result.scheduled] == ["completed"]
    runs = (await runtime.list_runs()).runs
    assert len(runs) == 3
    assert all(r.status == "finished" for r in runs)
