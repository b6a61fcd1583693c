"""Recurring schedules: every/cron, timezones and DST, materialize + sweep, overlap."""

import asyncio
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from tanstack_workflow.core import WorkflowContext, create_workflow
from tanstack_workflow.runtime import (
    WorkflowRuntime,
    WorkflowSchedule,
    cron,
    define_workflow_runtime,
    every,
    in_memory_workflow_execution_store,
    materialize_workflow_schedules,
)

BERLIN = ZoneInfo("Europe/Berlin")


def at(year: int, month: int, day: int, hour: int, minute: int = 0) -> int:
    """Epoch ms of a UTC wall time."""
    return int(datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp() * 1000)


def berlin(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, BERLIN).strftime("%Y-%m-%d %H:%M %Z")


async def report_input() -> dict[str, str]:
    return {"kind": "nightly"}  # evaluated at materialization time


@create_workflow("nightly-report").handler
async def nightly_report(ctx: WorkflowContext[dict[str, str], dict[str, object]]) -> str:
    return await ctx.step("build", lambda: f"{ctx.input['kind']} report")


@create_workflow("sync-inventory").handler
async def sync_inventory(ctx: WorkflowContext[None, dict[str, object]]) -> str:
    await ctx.wait_for_event("inventory-synced")  # a long run: the next tick overlaps it
    return "synced"


WORKFLOWS = {
    "nightly-report": {
        "load": nightly_report,
        "schedules": [
            WorkflowSchedule(
                spec=cron("30 2 * * *", timezone="Europe/Berlin"),
                id="nightly",
                input=report_input,
            )
        ],
    },
    "sync-inventory": {
        "load": sync_inventory,
        "schedules": [{"spec": every.minutes(15), "id": "sync", "overlap_policy": "buffer-one"}],
    },
}


async def tick(runtime: WorkflowRuntime, now: int) -> list[str]:
    """What a host does on every cron tick: materialize due buckets, then one sweep."""
    # cron_lookback_ms: how late a missed cron tick may still fire. The default (32 days)
    # would start yesterday's 02:30 on a fresh store's first tick; here, 10 minutes.
    await materialize_workflow_schedules(runtime, now=now, cron_lookback_ms=10 * 60_000)
    result = await runtime.sweep(now=now)
    return [f"{r.run_id} -> {r.kind}" for r in result.scheduled]


async def fall_back_day() -> None:
    runtime = define_workflow_runtime(
        store=in_memory_workflow_execution_store(),
        workflows={"nightly-report": WORKFLOWS["nightly-report"]},
    )
    # 2026-10-25 in Berlin: 03:00 CEST becomes 02:00 CET, so 02:30 happens twice.
    now, end, fired = at(2026, 10, 24, 22), at(2026, 10, 25, 22), 0
    while now <= end:
        for line in await tick(runtime, now):
            print(f"  {berlin(now)}: {line}")
            fired += 1
        now += 5 * 60_000
    assert fired == 1  # the repeated 02:30 fires once, at its first occurrence


async def spring_forward_day() -> None:
    runtime = define_workflow_runtime(
        store=in_memory_workflow_execution_store(),
        workflows={"nightly-report": WORKFLOWS["nightly-report"]},
    )
    # 2026-03-29 in Berlin: 02:00 CET becomes 03:00 CEST, so 02:30 never happens.
    now, end, fired = at(2026, 3, 28, 22), at(2026, 3, 29, 22), []
    while now <= end:
        if await tick(runtime, now):
            fired.append(berlin(now))
        now += 5 * 60_000
    print(f"  fired at {fired}")
    assert fired == ["2026-03-29 03:30 CEST"]  # shifted forward by the gap, once


async def overlapping_ticks() -> None:
    store = in_memory_workflow_execution_store()
    runtime = define_workflow_runtime(
        store=store, workflows={"sync-inventory": WORKFLOWS["sync-inventory"]}
    )
    t = at(2026, 6, 1, 12)
    print(f"  12:00:00 {await tick(runtime, t)}")  # first run starts and waits
    print(f"  12:15:00 {await tick(runtime, t + 15 * 60_000)}")  # buffered behind it
    first = "sync-inventory:sync:" + str(t)
    minute, second = 60_000, 1_000
    await runtime.deliver_signal(
        run_id=first, signal_id="done-1", name="inventory-synced", now=t + 15 * minute + 5 * second
    )
    # the buffered tick waits for its bucket lease (30 s by default) to lapse, then starts
    waiting = await runtime.sweep(now=t + 15 * minute + 10 * second)
    print(f"  12:15:10 {[r.kind for r in waiting.scheduled]}")
    retried = await runtime.sweep(now=t + 16 * minute)
    print(f"  12:16:00 {[f'{r.run_id} -> {r.kind}' for r in retried.scheduled]}")
    assert [r.kind for r in retried.scheduled] == ["paused"]


async def main() -> None:
    print(
        "every / cron specs:",
        every.minutes(15).to_wire(),
        cron("30 2 * * *", "Europe/Berlin").to_wire(),
    )
    print("fall back, 2026-10-25:")
    await fall_back_day()
    print("spring forward, 2026-03-29:")
    await spring_forward_day()
    print("overlap policy buffer-one:")
    await overlapping_ticks()


if __name__ == "__main__":
    asyncio.run(main())
