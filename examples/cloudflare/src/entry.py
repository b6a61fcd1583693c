"""A Python Worker: the Cron Trigger runs one bounded workflow sweep and logs its summary."""

from __future__ import annotations

import json
from typing import Any

from workers import WorkerEntrypoint
from workflows import runtime_for_env

from tanstack_workflow.cloudflare import create_cloudflare_workflow_scheduled_handler

# Stay well inside the Worker's limits (30 s of CPU by default); a sweep that runs
# out of budget stops early and reports remainingMayExist for the next tick.
sweep = create_cloudflare_workflow_scheduled_handler(
    runtime=runtime_for_env,
    max_duration_ms=20_000,
    max_scheduled_runs=25,
    max_timers=25,
)


class Default(WorkerEntrypoint):  # type: ignore[misc]
    async def scheduled(self, controller: Any, env: Any, ctx: Any) -> None:
        # Awaited, not passed to ctx.waitUntil: the invocation lasts as long as the
        # sweep, and a failure marks this Cron event as failed in the dashboard.
        summary = await sweep(controller, env, ctx)
        print(json.dumps(summary))  # one line in Workers Logs / `wrangler tail`
