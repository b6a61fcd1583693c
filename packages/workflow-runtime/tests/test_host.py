"""The shared host-sweep helper every host adapter calls."""

from __future__ import annotations

from typing import Any

import pytest
from runtime_helpers import T0, runtime_for

from tanstack_workflow.core import create_workflow
from tanstack_workflow.runtime import (
    HostSweepError,
    HostSweepOptions,
    InMemoryWorkflowExecutionStore,
    WorkflowRuntime,
    every,
    resolve_runtime,
    run_host_sweep,
)

KEYS = {
    "ok",
    "now",
    "leaseOwner",
    "materialized",
    "summary",
    "deadlineReached",
    "remainingMayExist",
}
SECRET = "sk_live_do_not_leak_123"


@create_workflow("tick").handler
async def tick(ctx):  # type: ignore[no-untyped-def]
    await ctx.sleep_until(T0 + 1_000)
    return {"token": ctx.input}


def scheduled(store: InMemoryWorkflowExecutionStore) -> WorkflowRuntime:
    return runtime_for(
        store,
        {"tick": {"load": tick, "schedules": [{"spec": every.minutes(1), "input": SECRET}]}},
    )


async def test_summary_has_exactly_the_compact_keys(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    runtime = scheduled(store)
    summary = await run_host_sweep(runtime, HostSweepOptions(now=T0, lease_owner="cron-1"))
    assert set(summary) == KEYS
    assert summary["ok"] is True
    assert summary["now"] == T0
    assert summary["leaseOwner"] == "cron-1"
    assert summary["materialized"] == 1
    assert summary["summary"]["scheduled"] == {"paused": 1}
    assert summary["summary"]["returnedEventCount"] == 0  # events are off by default
    assert summary["deadlineReached"] is False
    assert summary["remainingMayExist"] is False
    later = await run_host_sweep(runtime, HostSweepOptions(now=T0 + 1_000))
    assert later["summary"]["timers"] == {"completed": 1}
    assert SECRET not in repr(later)  # the compact summary never carries payloads


async def test_include_sweep_result_adds_the_sweep(store: InMemoryWorkflowExecutionStore) -> None:
    runtime = scheduled(store)
    summary = await run_host_sweep(
        runtime, HostSweepOptions(now=T0, include_sweep_result=True, materialize_schedules=True)
    )
    assert set(summary) == KEYS | {"sweep"}
    assert summary["sweep"]["summary"] == summary["summary"]
    assert [r["kind"] for r in summary["sweep"]["scheduled"]] == ["paused"]


async def test_materialize_can_be_turned_off(store: InMemoryWorkflowExecutionStore) -> None:
    runtime = scheduled(store)
    summary = await run_host_sweep(runtime, HostSweepOptions(now=T0, materialize_schedules=False))
    assert summary["materialized"] == 0
    assert summary["summary"]["scheduled"] == {}


async def test_lease_owner_forms(store: InMemoryWorkflowExecutionStore) -> None:
    runtime = scheduled(store)
    named = await run_host_sweep(runtime, HostSweepOptions(now=T0, lease_owner=lambda: "fn-7"))
    assert named["leaseOwner"] == "fn-7"
    generated = await run_host_sweep(runtime, HostSweepOptions(now=T0), host="railway")
    assert generated["leaseOwner"].startswith("railway:")
    other = await run_host_sweep(runtime, HostSweepOptions(now=T0), host="railway")
    assert other["leaseOwner"] != generated["leaseOwner"]


async def test_limits_pass_through(store: InMemoryWorkflowExecutionStore) -> None:
    runtime = runtime_for(store, {"tick": tick})
    for i in range(3):
        await runtime.start_run(workflow_id="tick", run_id=f"t{i}", now=T0)
    summary = await run_host_sweep(runtime, HostSweepOptions(now=T0 + 1_000, max_timers=2))
    assert summary["summary"]["timers"] == {"completed": 2}
    assert summary["remainingMayExist"] is True


class LeakyStore(InMemoryWorkflowExecutionStore):
    """A store whose failures carry secrets in their messages."""

    def __init__(self, fail_in: str) -> None:
        super().__init__()
        self.fail_in = fail_in

    async def upsert_schedule(self, **kwargs: Any) -> None:
        if self.fail_in == "materialize":
            raise RuntimeError(f"connection to postgres://admin:{SECRET}@db failed")
        await super().upsert_schedule(**kwargs)

    async def claim_due_timers(self, **kwargs: Any) -> Any:
        if self.fail_in == "sweep":
            raise RuntimeError(f"payload {SECRET} rejected")
        return await super().claim_due_timers(**kwargs)


@pytest.mark.parametrize("phase", ["materialize", "sweep"])
async def test_failures_raise_without_payloads(phase: str) -> None:
    runtime = scheduled(LeakyStore(fail_in=phase))
    with pytest.raises(HostSweepError) as info:
        await run_host_sweep(runtime, HostSweepOptions(now=T0))
    message = str(info.value)
    assert phase in message
    assert "RuntimeError" in message
    assert SECRET not in message
    assert all(SECRET not in str(arg) for arg in info.value.args)
    assert isinstance(info.value.__cause__, RuntimeError)  # kept for local debugging


async def test_resolve_runtime(store: InMemoryWorkflowExecutionStore) -> None:
    runtime = scheduled(store)
    assert await resolve_runtime(runtime) is runtime

    def sync_factory(env: dict[str, str]) -> WorkflowRuntime:
        assert env == {"DB": "x"}
        return runtime

    async def async_factory(env: dict[str, str], ctx: object) -> WorkflowRuntime:
        assert ctx == "ctx"
        return runtime

    assert await resolve_runtime(sync_factory, {"DB": "x"}) is runtime
    assert await resolve_runtime(async_factory, {"DB": "x"}, "ctx") is runtime
    with pytest.raises(TypeError, match="not a WorkflowRuntime"):
        await resolve_runtime(lambda: object())
