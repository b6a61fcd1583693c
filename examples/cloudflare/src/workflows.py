"""The Worker's workflows and the runtime factory the Cron Trigger calls on every tick."""

from __future__ import annotations

from typing import Any

from tanstack_workflow.core import create_workflow
from tanstack_workflow.runtime import WorkflowRuntime, define_workflow_runtime, every
from tanstack_workflow.store_d1 import WorkersD1Database, create_cloudflare_d1_workflow_store


@create_workflow("trial-reminder").handler
async def trial_reminder(ctx: Any) -> dict[str, Any]:
    """Welcome a cohort, wait durably, then remind it: the wait spans cron ticks."""
    welcomed = await ctx.step("send-welcome", lambda: {"sent": True})
    await ctx.sleep(4 * 60_000)  # no process waits: a later tick resumes the run
    reminded = await ctx.step("send-reminder", lambda: {"sent": True})
    return {"welcomed": welcomed["sent"], "reminded": reminded["sent"]}


WORKFLOWS: dict[str, Any] = {
    "trial-reminder": {
        "load": trial_reminder,
        "schedules": [{"id": "trial-reminder-every-10m", "spec": every.minutes(10)}],
    }
}


def runtime_for_env(controller: Any, env: Any, ctx: Any) -> WorkflowRuntime:
    """A runtime over the Worker's D1 binding; cheap, so it is built on every tick."""
    store = create_cloudflare_d1_workflow_store(db=WorkersD1Database(env.DB))
    return define_workflow_runtime(store=store, workflows=WORKFLOWS)
