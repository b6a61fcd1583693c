"""Leases and recovery: heartbeats during long steps, a crashed worker's run recovered
by a sweep, and the CAS append that protects history whatever the leases say."""

import asyncio

from tanstack_workflow.core import LogConflictError, StepFinished, WorkflowContext, create_workflow
from tanstack_workflow.runtime import define_workflow_runtime, in_memory_workflow_execution_store

T0 = 1_800_000_000_000
ran: list[str] = []


def reserve_slot() -> str:
    ran.append("reserve-slot")
    return "slot-7"


async def render() -> str:
    ran.append("render")
    await asyncio.sleep(0.5)  # longer than the 300 ms lease: heartbeats keep it alive
    return "video.mp4"


@create_workflow("publish-video").handler
async def publish_video(ctx: WorkflowContext[None, dict[str, object]]) -> str:
    await ctx.step("reserve-slot", reserve_slot)
    return await ctx.step("render", render)


async def main() -> None:
    store = in_memory_workflow_execution_store()
    runtime = define_workflow_runtime(store=store, workflows={"publish-video": publish_video})

    # 1. Heartbeats: the driver renews its 300 ms lease every 100 ms while render runs.
    driving = asyncio.create_task(
        runtime.start_run(workflow_id="publish-video", run_id="v1", now=T0, lease_ms=300)
    )
    await asyncio.sleep(0.4)
    intruder = await store.claim_run(
        run_id="v1", lease_owner="intruder", lease_ms=300, now=T0 + 400
    )
    print(f"claim by another worker mid-step: {intruder.kind}")
    assert intruder.kind == "not-claimable"
    finished = await driving
    assert finished.run is not None
    print(f"v1: {finished.kind}, lease released: {finished.run.lease_owner is None}")

    # 2. A crash: worker-a claimed v2, checkpointed "reserve-slot", then died holding
    #    a 30 s lease. (Written by hand here; a real crash leaves the same state.)
    ran.clear()
    await store.create_run(
        run_id="v2",
        workflow_id="publish-video",
        workflow_version=None,
        input=None,
        now=T0,
        lease_owner="worker-a",
        lease_ms=30_000,
    )
    await store.append_events(
        run_id="v2",
        expected_next_index=0,
        events=[StepFinished(ts=T0, step_id="reserve-slot", result="slot-7", seq=0)],
        now=T0,
    )
    before = await runtime.sweep(now=T0 + 10_000)
    print(f"sweep while worker-a's lease is live: recovered {before.summary.recovered}")
    assert before.recovered == []
    after = await runtime.sweep(now=T0 + 30_000)
    print(f"sweep after it expired: recovered {after.summary.recovered}, ran {ran}")
    assert ran == ["render"]  # reserve-slot replayed from its checkpoint, not re-run

    # 3. CAS: a writer holding a stale view of the log cannot append, lease or not.
    log = await store.read_events("v2")
    try:
        await store.append_events(
            run_id="v2",
            expected_next_index=len(log) - 1,
            events=[StepFinished(ts=T0, step_id="late", result=None, seq=9)],
            now=T0 + 40_000,
        )
    except LogConflictError as conflict:
        print(f"stale append refused: {conflict}")
    assert len(await store.read_events("v2")) == len(log)


if __name__ == "__main__":
    asyncio.run(main())
