"""Middleware: code around every invocation of a handler that adds typed ctx fields."""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from tanstack_workflow.core import (
    WorkflowContext,
    create_middleware,
    create_workflow,
    in_memory_run_store,
    run_workflow,
)

Next = Callable[..., Awaitable[Any]]  # next(**fields) continues the chain


@dataclass
class Tenant:
    tenant_id: str
    plan: str


@dataclass
class TenantFields:
    tenant: Tenant


async def load_tenant(ctx: WorkflowContext[Any, Any], next: Next) -> Any:
    # Runs on every invocation, replays included: load, do not create.
    tenant = Tenant(tenant_id=ctx.input["tenant_id"], plan="pro")
    return await next(tenant=tenant)


with_tenant = create_middleware(TenantFields).server(load_tenant)

log: list[str] = []


async def timing(ctx: WorkflowContext[Any, Any], next: Next) -> Any:
    log.append(f"start {ctx.run_id}")
    try:
        return await next()
    finally:
        log.append(f"end {ctx.run_id}")


with_timing = create_middleware().server(timing)


@create_workflow("report").middleware([with_timing, with_tenant]).handler
async def report(ctx: WorkflowContext[dict[str, str], dict[str, object]]) -> str:
    fields = with_tenant.context(ctx)  # a TenantFields instance, typed
    assert fields.tenant is ctx.tenant  # also readable as a ctx attribute
    return await ctx.step(
        "build", lambda: f"report for {fields.tenant.tenant_id} ({fields.tenant.plan})"
    )


async def main() -> None:
    outcome = await run_workflow(
        workflow=report,
        run_store=in_memory_run_store(),
        input={"tenant_id": "acme"},
        run_id="rep-1",
    ).result()
    print(outcome.output, log)
    assert outcome.output == "report for acme (pro)"
    assert log == ["start rep-1", "end rep-1"]


if __name__ == "__main__":
    asyncio.run(main())
