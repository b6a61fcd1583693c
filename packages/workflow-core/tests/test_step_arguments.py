"""Which step functions receive a StepContext: exactly those with a required positional parameter."""

from __future__ import annotations

from typing import Any

from tanstack_workflow.core import StepContext, create_workflow, in_memory_run_store, run_workflow


async def test_loop_default_argument_lambdas_keep_their_defaults() -> None:
    @create_workflow("defaults").handler
    async def wf(ctx: Any) -> list[int]:
        return [await ctx.step(f"s{i}", lambda i=i: i * 10) for i in range(3)]

    outcome = await run_workflow(workflow=wf, run_store=in_memory_run_store()).result()
    assert outcome.kind == "finished"
    assert outcome.output == [0, 10, 20]


async def test_required_positional_parameter_receives_the_step_context() -> None:
    seen: list[StepContext] = []

    def record(step: StepContext) -> str:
        seen.append(step)
        return step.id

    async def async_record(step: StepContext) -> int:
        return step.attempt

    @create_workflow("ctx-arg").handler
    async def wf(ctx: Any) -> list[Any]:
        return [await ctx.step("sync", record), await ctx.step("async", async_record)]

    outcome = await run_workflow(workflow=wf, run_store=in_memory_run_store(), run_id="r1").result()
    assert outcome.output == ["r1:sync", 1]
    assert isinstance(seen[0], StepContext)


async def test_variadic_positional_receives_the_step_context() -> None:
    @create_workflow("varargs").handler
    async def wf(ctx: Any) -> int:
        return int(await ctx.step("v", lambda *args: len(args)))

    outcome = await run_workflow(workflow=wf, run_store=in_memory_run_store()).result()
    assert outcome.output == 1
