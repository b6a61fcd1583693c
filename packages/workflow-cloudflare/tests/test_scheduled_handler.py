"""The Cloudflare scheduled handler against workerd's real D1 (miniflare).

Real SQL, only the Worker shell is simulated: the handler runs on CPython (Python
Workers need Pyodide inside workerd, which cannot start offline here) with ``env.DB``
a D1 binding over miniflare, wrapped in ``WorkersD1Database`` as a Worker wraps it.
"""

from __future__ import annotations

import json
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest
from cloudflare_worker_shell import ExecutionContext, controller

from tanstack_workflow.cloudflare import (
    HostSweepError,
    create_cloudflare_workflow_scheduled_handler,
    materialize_workflow_schedules,
)
from tanstack_workflow.core import create_workflow
from tanstack_workflow.runtime import WorkflowRuntime, define_workflow_runtime, every
from tanstack_workflow.store_d1 import (
    CloudflareD1WorkflowStore,
    WorkersD1Database,
    create_cloudflare_d1_workflow_store,
    get_cloudflare_d1_workflow_store_migrations,
)

T0 = 1_700_000_100_000  # a multiple of 5 minutes, in epoch ms
FIVE_MINUTES = 300_000
EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "cloudflare"


@create_workflow("nap").handler
async def nap(ctx: Any) -> dict[str, Any]:
    started = await ctx.step("start", lambda: "started")
    await ctx.sleep(60_000)
    return {"started": started, "input": ctx.input}


def store_for(env: Any) -> CloudflareD1WorkflowStore:
    return create_cloudflare_d1_workflow_store(db=WorkersD1Database(env.DB), tables=env.TABLES)


def runtime_for_env(controller: Any, env: Any, ctx: Any) -> WorkflowRuntime:
    workflows = {
        "nap": {"load": nap, "schedules": [{"id": "nap-5m", "spec": every.minutes(5), "input": 7}]}
    }
    return define_workflow_runtime(store=store_for(env), workflows=workflows)


@pytest.fixture
async def migrated(env: Any) -> Any:
    """``env`` after the store's migrations were applied (``wrangler d1 migrations apply``)."""
    await store_for(env).ensure_schema()
    return env


async def test_a_tick_starts_the_due_bucket_and_a_later_tick_resumes_its_timer(
    migrated: Any,
) -> None:
    scheduled = create_cloudflare_workflow_scheduled_handler(runtime=runtime_for_env)
    ctx = ExecutionContext()

    first = await scheduled(controller(float(T0)), migrated, ctx)
    assert first["ok"] is True
    assert first["now"] == T0
    assert isinstance(first["now"], int)
    assert first["leaseOwner"].startswith("cloudflare:")
    assert first["materialized"] == 1
    assert first["summary"]["scheduled"] == {"paused": 1}
    assert "sweep" not in first

    later = await scheduled(controller(float(T0 + FIVE_MINUTES)), migrated, ctx)
    assert later["summary"]["timers"] == {"completed": 1}
    # The next bucket is due too; its run is skipped (overlap policy "skip") because
    # the sweep claims buckets before timers, while the first run is still paused.
    assert later["summary"]["scheduled"] == {"skipped": 1}

    page = await store_for(migrated).list_runs(workflow_id="nap", limit=10)
    assert [(run.run_id, run.status) for run in page.runs] == [(f"nap:nap-5m:{T0}", "finished")]
    assert ctx.waited == []  # the handler awaits its sweep; nothing is left to waitUntil


async def test_the_same_tick_twice_starts_its_run_once(migrated: Any) -> None:
    scheduled = create_cloudflare_workflow_scheduled_handler(runtime=runtime_for_env)
    await scheduled(controller(float(T0)), migrated, ExecutionContext())
    again = await scheduled(controller(float(T0)), migrated, ExecutionContext())
    assert again["summary"]["scheduled"] == {}
    page = await store_for(migrated).list_runs(limit=10)
    assert [run.run_id for run in page.runs] == [f"nap:nap-5m:{T0}"]


async def test_the_factory_gets_controller_env_and_ctx_and_options_apply(migrated: Any) -> None:
    seen: list[tuple[Any, Any, Any]] = []

    async def factory(controller: Any, env: Any, ctx: Any) -> WorkflowRuntime:
        seen.append((controller, env, ctx))
        return runtime_for_env(controller, env, ctx)

    tick, ctx = controller(float(T0), cron="*/15 * * * *"), ExecutionContext()
    scheduled = create_cloudflare_workflow_scheduled_handler(
        runtime=factory,
        lease_owner=lambda: "cf:test",
        include_events=True,
        include_sweep_result=True,
    )
    summary = await scheduled(tick, migrated, ctx)
    assert seen == [(tick, migrated, ctx)]
    assert summary["leaseOwner"] == "cf:test"
    [run] = summary["sweep"]["scheduled"]
    assert run["kind"] == "paused"
    assert [e["type"] for e in run["events"]][:2] == ["RUN_STARTED", "STEP_STARTED"]
    json.dumps(summary)  # the whole summary is plain JSON


async def test_now_option_overrides_scheduled_time(migrated: Any) -> None:
    scheduled = create_cloudflare_workflow_scheduled_handler(
        runtime=runtime_for_env, now=T0 + FIVE_MINUTES, materialize_schedules=False
    )
    summary = await scheduled(controller(float(T0)), migrated, ExecutionContext())
    assert summary["now"] == T0 + FIVE_MINUTES
    assert summary["materialized"] == 0


async def test_unmigrated_database_fails_without_payloads(env: Any) -> None:
    scheduled = create_cloudflare_workflow_scheduled_handler(runtime=runtime_for_env)
    with pytest.raises(HostSweepError) as caught:
        await scheduled(controller(float(T0)), env, ExecutionContext())
    assert str(caught.value) == "workflow sweep failed during materialize: StoreSchemaError"


async def test_bad_scheduled_time_and_bad_options_are_refused(migrated: Any) -> None:
    scheduled = create_cloudflare_workflow_scheduled_handler(runtime=runtime_for_env)
    with pytest.raises(TypeError, match="scheduledTime"):
        await scheduled(controller(float("nan")), migrated, ExecutionContext())
    with pytest.raises(ValueError, match="limit"):
        create_cloudflare_workflow_scheduled_handler(runtime=runtime_for_env, limit=-1)


async def test_materialize_is_re_exported(migrated: Any) -> None:
    runtime = runtime_for_env(None, migrated, None)
    [done] = await materialize_workflow_schedules(runtime, now=T0)
    assert (done.kind, done.fire_at, done.bucket_id) == ("materialized", T0, str(T0))


# -- the example worker ------------------------------------------------------------------


def test_the_example_points_wrangler_at_the_packaged_migrations() -> None:
    config = tomllib.loads((EXAMPLE / "wrangler.toml").read_text())
    assert config["main"] == "src/entry.py"
    assert "python_workers" in config["compatibility_flags"]
    assert config["triggers"]["crons"]
    [database] = config["d1_databases"]
    assert database["binding"] == "DB"
    folder = (EXAMPLE / database["migrations_dir"]).resolve()
    on_disk = sorted((p.name, p.read_text()) for p in folder.glob("*.sql"))
    assert on_disk == get_cloudflare_d1_workflow_store_migrations()


@pytest.fixture
def example_entry(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """``examples/cloudflare/src/entry.py`` imported with a stand-in ``workers`` module."""

    class WorkerEntrypoint:
        def __init__(self, ctx: Any, env: Any) -> None:
            self.ctx, self.env = ctx, env

    monkeypatch.setitem(sys.modules, "workers", SimpleNamespace(WorkerEntrypoint=WorkerEntrypoint))
    monkeypatch.syspath_prepend(str(EXAMPLE / "src"))
    for name in ("entry", "workflows"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    import entry  # type: ignore[import-not-found]

    yield entry
    for name in ("entry", "workflows"):
        sys.modules.pop(name, None)


async def test_the_example_worker_sweeps_on_its_cron_trigger(
    env: Any, example_entry: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # The example uses the default table names (no other test in this module does).
    env = SimpleNamespace(DB=env.DB)
    await create_cloudflare_d1_workflow_store(db=WorkersD1Database(env.DB)).ensure_schema()
    ctx = ExecutionContext()
    worker = example_entry.Default(ctx, env)

    ten_minutes = 2 * FIVE_MINUTES
    start = (T0 // ten_minutes + 1) * ten_minutes
    await worker.scheduled(controller(float(start)), env, ctx)
    await worker.scheduled(controller(float(start + FIVE_MINUTES)), env, ctx)
    lines = capsys.readouterr().out.splitlines()
    first, second = (json.loads(line) for line in lines)
    assert first["summary"]["scheduled"] == {"paused": 1}
    assert second["summary"]["timers"] == {"completed": 1}
    store = create_cloudflare_d1_workflow_store(db=WorkersD1Database(env.DB))
    timeline = await store.get_run_timeline(f"trial-reminder:trial-reminder-every-10m:{start}")
    assert timeline is not None
    assert timeline.run.status == "finished"
    assert timeline.run.output == {"welcomed": True, "reminded": True}
