"""A tiny app for the two-process tests: ``python two_process_app.py COMMAND DB_PATH [ARGS]``.

``start RUN_ID``: start a run that does a step, sleeps 1 s, then does another step.
``sweep NOW``: one sweep at ``NOW`` (epoch ms); prints the JSON list of completed run ids.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

from tanstack_workflow.core import create_workflow
from tanstack_workflow.runtime import define_workflow_runtime
from tanstack_workflow.store_d1 import create_cloudflare_d1_workflow_store, local_d1_database

T0 = 1_700_000_000_000


@create_workflow("nap").handler
async def nap(ctx):  # type: ignore[no-untyped-def]
    before = await ctx.step("before", lambda: os.getpid())
    await ctx.sleep(1_000, id="nap")
    after = await ctx.step("after", lambda: os.getpid())
    return {"started_in": before, "resumed_in": after}


async def main(command: str, path: str, arg: str) -> None:
    store = create_cloudflare_d1_workflow_store(db=local_d1_database(path))
    try:
        await store.ensure_schema()
        runtime = define_workflow_runtime(store=store, workflows={"nap": nap})
        if command == "start":
            result = await runtime.start_run(workflow_id="nap", run_id=arg, now=T0)
            print(json.dumps({"kind": result.kind}))
        else:
            swept = await runtime.sweep(now=int(arg))
            print(json.dumps([t.run_id for t in swept.timers if t.kind == "completed"]))
    finally:
        await store.close()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
