"""create_railway_workflow_cron_command in-process, over the in-memory store."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tanstack_workflow.core import WorkflowValidationError, create_workflow
from tanstack_workflow.railway import (
    HostSweepError,
    create_railway_workflow_cron_command,
    materialize_workflow_schedules,
)
from tanstack_workflow.runtime import (
    InMemoryWorkflowExecutionStore,
    WorkflowRuntime,
    define_workflow_runtime,
    every,
    in_memory_workflow_execution_store,
)

T0 = 900_000


@create_workflow("report").handler
async def report(ctx: Any) -> dict[str, Any]:
    return {"rows": await ctx.step("count", lambda: 3)}


def runtime_with(store: InMemoryWorkflowExecutionStore | None = None) -> WorkflowRuntime:
    workflows = {"report": {"load": report, "schedules": [{"id": "r", "spec": every.minutes(15)}]}}
    return define_workflow_runtime(
        store=store or in_memory_workflow_execution_store(), workflows=workflows
    )


async def test_logs_one_json_line_and_returns_the_summary(
    capsys: pytest.CaptureFixture[str],
) -> None:
    command = create_railway_workflow_cron_command(
        runtime=runtime_with(), now=T0, lease_owner="railway:test"
    )
    summary = await command()
    [line] = capsys.readouterr().out.splitlines()
    assert json.loads(line) == summary
    assert summary["leaseOwner"] == "railway:test"
    assert summary["summary"]["scheduled"] == {"completed": 1}


async def test_log_summary_can_be_off_or_a_callable(capsys: pytest.CaptureFixture[str]) -> None:
    quiet = create_railway_workflow_cron_command(runtime=runtime_with(), now=T0, log_summary=False)
    await quiet()
    assert capsys.readouterr().out == ""
    logged: list[dict[str, Any]] = []
    custom = create_railway_workflow_cron_command(
        runtime=runtime_with(), now=T0, log_summary=logged.append
    )
    assert await custom() == logged[0]
    assert capsys.readouterr().out == ""


async def test_a_zero_argument_async_factory_is_called_per_run() -> None:
    store = in_memory_workflow_execution_store()
    calls = 0

    async def factory() -> WorkflowRuntime:
        nonlocal calls
        calls += 1
        return runtime_with(store)

    command = create_railway_workflow_cron_command(runtime=factory, now=T0, log_summary=False)
    await command()
    second = await command()
    assert calls == 2
    assert second["summary"]["scheduled"] == {}  # the same bucket never starts twice


async def test_a_store_failure_raises_without_payloads(capsys: pytest.CaptureFixture[str]) -> None:
    class Broken(InMemoryWorkflowExecutionStore):
        async def claim_stale_runs(self, **kwargs: Any) -> Any:
            raise RuntimeError("password=hunter2")

    command = create_railway_workflow_cron_command(runtime=runtime_with(Broken()), now=T0)
    with pytest.raises(HostSweepError) as caught:
        await command()
    assert str(caught.value) == "workflow sweep failed during sweep: RuntimeError"
    assert capsys.readouterr().out == ""  # no summary line for a failed sweep


def test_bad_options_fail_when_the_command_is_built() -> None:
    with pytest.raises(WorkflowValidationError):
        create_railway_workflow_cron_command(runtime=runtime_with(), max_duration_ms=0)
    assert callable(materialize_workflow_schedules)
