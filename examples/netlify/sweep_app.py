"""The Python end of the Netlify scheduled function; host it wherever Python runs.

Netlify Functions cannot run Python, so ``netlify/functions/workflow-sweep.mts`` forwards
each tick here. Serve it on its own::

    uvicorn sweep_app:app --host 0.0.0.0 --port $PORT

or mount ``app`` in an existing ASGI app (``fastapi_app.mount("/workflow/sweep", app)``).
"""

from __future__ import annotations

import os
from typing import Any

from tanstack_workflow.core import create_workflow
from tanstack_workflow.netlify import create_netlify_workflow_sweep_handler
from tanstack_workflow.runtime import define_workflow_runtime, every
from tanstack_workflow.store_postgres import create_postgres_workflow_store


@create_workflow("expire-trials").handler
async def expire_trials(ctx: Any) -> dict[str, Any]:
    """Find trials that ended and downgrade them, once per tick's bucket."""
    expired = await ctx.step("find-expired-trials", lambda: ["acct-1", "acct-7"])
    await ctx.step("downgrade", lambda: len(expired))
    return {"downgraded": len(expired)}


runtime = define_workflow_runtime(
    store=create_postgres_workflow_store(
        os.environ["DATABASE_URL"], schema=os.environ.get("WORKFLOW_SCHEMA", "public")
    ),
    workflows={
        "expire-trials": {
            "load": expire_trials,
            "schedules": [{"id": "expire-trials-every-15m", "spec": every.minutes(15)}],
        }
    },
)

app = create_netlify_workflow_sweep_handler(
    runtime=runtime,
    secret=os.environ["WORKFLOW_SWEEP_SECRET"],
    # The forwarder gives up after 25 s (scheduled functions stop at 30 s).
    max_duration_ms=20_000,
)
