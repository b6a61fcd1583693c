"""Versioning: paused runs finish on the code that started them."""

import asyncio

from tanstack_workflow.core import (
    ApprovalResult,
    WorkflowContext,
    create_workflow,
    create_workflow_registry,
    in_memory_run_store,
    run_workflow,
)

Ctx = WorkflowContext[None, dict[str, object]]


@create_workflow("onboarding", version="2024-05").handler
async def onboarding_v1(ctx: Ctx) -> str:
    await ctx.step("create-account", lambda: "acct-1")
    await ctx.approve(title="Welcome call done?", id="welcome")
    return "onboarded (v1)"


@create_workflow("onboarding", version="2024-09").previous_versions([onboarding_v1]).handler
async def onboarding(ctx: Ctx) -> str:
    await ctx.step("create-account", lambda: "acct-1")
    await ctx.step("send-welcome-kit", lambda: "kit sent")  # new in this version
    await ctx.approve(title="Welcome call done?", id="welcome")
    return "onboarded (v2)"


async def main() -> None:
    store = in_memory_run_store()

    # A run started before the deploy, on the old version...
    await run_workflow(workflow=onboarding_v1, run_store=store, run_id="old").result()
    # ...and one started after it.
    await run_workflow(workflow=onboarding, run_store=store, run_id="new").result()

    # Both resume through the current definition; each replays on its own version.
    for run_id in ("old", "new"):
        outcome = await run_workflow(
            workflow=onboarding,
            run_store=store,
            run_id=run_id,
            approval=ApprovalResult(True, f"{run_id}:welcome"),
        ).result()
        print(run_id, outcome.output)
    state = await store.get_run_state("old")
    assert state is not None
    assert state.output == "onboarded (v1)"

    # A registry addresses definitions by (id, version) and routes persisted runs.
    registry = create_workflow_registry([onboarding], default=onboarding)
    assert registry.get("onboarding", "2024-05") is onboarding_v1
    await run_workflow(workflow=onboarding_v1, run_store=store, run_id="older").result()
    assert await registry.for_run("older", store) is onboarding_v1

    # Without the old version registered, the resume is refused and nothing changes.
    @create_workflow("onboarding", version="2025-01").handler
    async def onboarding_v3(ctx: Ctx) -> str:
        return "v3"

    refused = await run_workflow(
        workflow=onboarding_v3,
        run_store=store,
        run_id="older",
        approval=ApprovalResult(True, "older:welcome"),
    ).result()
    print(refused.code)  # workflow_version_mismatch
    assert refused.code == "workflow_version_mismatch"


if __name__ == "__main__":
    asyncio.run(main())
