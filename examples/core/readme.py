"""The example from packages/workflow-core/README.md."""

import asyncio

from tanstack_workflow.core import (
    ApprovalResult,
    WorkflowContext,
    create_workflow,
    in_memory_run_store,
    run_workflow,
)


@create_workflow("publish-post").handler
async def publish_post(ctx: WorkflowContext[dict[str, str], dict[str, object]]) -> str:
    draft = await ctx.step("draft", lambda: f"A post about {ctx.input['topic']}")
    decision = await ctx.approve(title="Publish this post?", id="review")
    if not decision.approved:
        return "discarded"
    return await ctx.step("publish", lambda: f"published: {draft}")


async def main() -> None:
    store = in_memory_run_store()  # use a durable store in production
    paused = await run_workflow(
        workflow=publish_post, run_store=store, input={"topic": "replay"}, run_id="post-1"
    ).result()
    print(paused.kind)  # paused: the run waits for a decision, no process does
    done = await run_workflow(
        workflow=publish_post,
        run_store=store,
        run_id="post-1",
        approval=ApprovalResult(approved=True, approval_id="post-1:review"),
    ).result()
    print(done.output)  # published: A post about replay


asyncio.run(main())
