"""The runtime behind the sweep route: workflows plus the Postgres store.

Module level on purpose: Vercel keeps the function's process (and this runtime's
connection pool, opened on first use) alive across invocations.
"""

from __future__ import annotations

import os
from typing import Any

from tanstack_workflow.core import create_workflow
from tanstack_workflow.runtime import define_workflow_runtime, every
from tanstack_workflow.store_postgres import create_postgres_workflow_store


@create_workflow("sync-inventory").handler
async def sync_inventory(ctx: Any) -> dict[str, Any]:
    """Pull stock levels and publish them; each step runs once even if a tick retries."""
    levels = await ctx.step("fetch-stock-levels", lambda: {"sku-1": 4, "sku-2": 0})
    published = await ctx.step("publish", lambda: sorted(levels))
    return {"published": published}


runtime = define_workflow_runtime(
    store=create_postgres_workflow_store(
        os.environ["DATABASE_URL"], schema=os.environ.get("WORKFLOW_SCHEMA", "public")
    ),
    workflows={
        "sync-inventory": {
            "load": sync_inventory,
            "schedules": [{"id": "sync-inventory-hourly", "spec": every.hours(1)}],
        }
    },
)
