"""The runtime the Railway cron service sweeps: workflows plus the Postgres store.

``tanstack-workflow-railway --runtime workflows:runtime`` imports this module on every
tick. The store's connection pool opens on first use and is closed before exit.
"""

from __future__ import annotations

import os
from typing import Any

from tanstack_workflow.core import ApprovalTimeoutError, create_workflow
from tanstack_workflow.runtime import cron, define_workflow_runtime
from tanstack_workflow.store_postgres import create_postgres_workflow_store


@create_workflow("weekly-digest").handler
async def weekly_digest(ctx: Any) -> dict[str, Any]:
    """Build a digest, give editors a day to veto it, then send it."""
    digest = await ctx.step("build-digest", lambda: {"articles": 12})
    try:
        decision = await ctx.approve(
            title="Send this week's digest?", deadline=await ctx.now() + 24 * 3_600_000
        )
        if not decision.approved:
            return {"sent": False}
    except ApprovalTimeoutError:
        pass  # nobody vetoed within a day: a later tick resumes the run and sends
    await ctx.step("send-digest", lambda: {"recipients": 4_200})
    return {"sent": True, "articles": digest["articles"]}


runtime = define_workflow_runtime(
    # Railway's Postgres exposes DATABASE_URL; reference it from this service's variables.
    store=create_postgres_workflow_store(os.environ["DATABASE_URL"]),
    workflows={
        "weekly-digest": {
            "load": weekly_digest,
            "schedules": [
                {"id": "weekly-digest-monday", "spec": cron("0 9 * * MON", "Europe/Berlin")}
            ],
        }
    },
)
