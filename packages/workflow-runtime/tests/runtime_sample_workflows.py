"""A tiny workflow module the registration tests load by import string."""

from __future__ import annotations

from typing import Any

from tanstack_workflow.core import WorkflowContext, create_workflow

LOADS = {"count": 0}


@create_workflow("sample", input=str).handler
async def workflow(ctx: WorkflowContext[str, Any]) -> str:
    return await ctx.step("greet", lambda: f"hello {ctx.input}")


class Holder:
    """An object exposing the definition as ``default``."""

    default = workflow


def build() -> Any:
    LOADS["count"] += 1
    return workflow
