"""The Vercel sweep handler behind a real uvicorn server, called over HTTP with httpx.

What Vercel itself does is simulated by the client: a Cron Job is a ``GET`` to the
path with ``Authorization: Bearer $CRON_SECRET`` and ``user-agent: vercel-cron/1.0``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from vercel_uvicorn import serve

from tanstack_workflow.core import create_workflow
from tanstack_workflow.runtime import (
    InMemoryWorkflowExecutionStore,
    WorkflowRuntime,
    define_workflow_runtime,
    every,
    in_memory_workflow_execution_store,
)
from tanstack_workflow.vercel import (
    HostSweepApp,
    create_vercel_workflow_sweep_handler,
    materialize_workflow_schedules,
)

SECRET = "cron-secret-0123456789abcdef"
PAYLOAD = "customer-email@example.com"
T0 = 900_000
PATH = "/api/workflow/sweep"
KEYS = {
    "ok",
    "now",
    "leaseOwner",
    "materialized",
    "summary",
    "deadlineReached",
    "remainingMayExist",
}


@create_workflow("intent-process").handler
async def intent_process(ctx: Any) -> dict[str, Any]:
    await ctx.step("process", lambda: len(ctx.input["email"]))
    return {"input": ctx.input}


def runtime_over(store: InMemoryWorkflowExecutionStore) -> WorkflowRuntime:
    schedule = {"id": "every-15m", "spec": every.minutes(15), "input": {"email": PAYLOAD}}
    workflows = {"intent-process": {"load": intent_process, "schedules": [schedule]}}
    return define_workflow_runtime(store=store, workflows=workflows)


def cron_headers(secret: str = SECRET) -> dict[str, str]:
    return {"authorization": f"Bearer {secret}", "user-agent": "vercel-cron/1.0"}


async def request(app: HostSweepApp, method: str, **kwargs: Any) -> httpx.Response:
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as client:
        return await client.request(method, PATH, **kwargs)


async def test_a_cron_get_sweeps_and_answers_the_compact_summary() -> None:
    store = in_memory_workflow_execution_store()
    app = create_vercel_workflow_sweep_handler(
        runtime=runtime_over(store), cron_secret=SECRET, now=T0
    )
    response = await request(app, "GET", headers=cron_headers())
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == KEYS
    assert body["ok"] is True
    assert body["now"] == T0
    assert body["leaseOwner"].startswith("vercel:")
    assert body["materialized"] == 1
    assert body["summary"]["scheduled"] == {"completed": 1}
    assert body["summary"]["returnedEventCount"] == 0
    assert PAYLOAD not in response.text
    run = await store.load_run("intent-process:every-15m:900000")
    assert run is not None
    assert run.status == "finished"


async def test_post_is_accepted_too() -> None:
    app = create_vercel_workflow_sweep_handler(
        runtime=runtime_over(in_memory_workflow_execution_store()), cron_secret=SECRET, now=T0
    )
    response = await request(app, "POST", headers=cron_headers(), content=b'{"any": "body"}')
    assert response.status_code == 200
    assert response.json()["summary"]["scheduled"] == {"completed": 1}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"authorization": "Bearer wrong"},
        {"authorization": f"Bearer {SECRET}x"},
        {"authorization": f"bearer {SECRET}"},
        {"authorization": SECRET},
        {"authorization": f"Basic {SECRET}"},
    ],
)
async def test_a_missing_or_wrong_secret_is_401_and_sweeps_nothing(headers: dict[str, str]) -> None:
    store = in_memory_workflow_execution_store()
    app = create_vercel_workflow_sweep_handler(
        runtime=runtime_over(store), cron_secret=SECRET, now=T0
    )
    response = await request(app, "GET", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error": "Unauthorized"}
    assert await store.list_schedules() == []


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS"])
async def test_other_methods_are_405_with_allow(method: str) -> None:
    app = create_vercel_workflow_sweep_handler(
        runtime=runtime_over(in_memory_workflow_execution_store()), cron_secret=SECRET
    )
    response = await request(app, method, headers=cron_headers())
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert response.json() == {"ok": False, "error": "Method Not Allowed"}


async def test_the_full_sweep_result_can_be_included_for_debugging() -> None:
    app = create_vercel_workflow_sweep_handler(
        runtime=runtime_over(in_memory_workflow_execution_store()),
        cron_secret=SECRET,
        now=T0,
        lease_owner="vercel:test",
        include_events=True,
        include_sweep_result=True,
    )
    body = (await request(app, "GET", headers=cron_headers())).json()
    assert body["leaseOwner"] == "vercel:test"
    [run] = body["sweep"]["scheduled"]
    assert run["kind"] == "completed"
    assert "RUN_FINISHED" in [event["type"] for event in run["events"]]


async def test_a_failed_sweep_is_a_500_without_payloads() -> None:
    class Broken(InMemoryWorkflowExecutionStore):
        async def claim_due_timers(self, **kwargs: Any) -> Any:
            raise RuntimeError(f"could not wake {PAYLOAD}")

    app = create_vercel_workflow_sweep_handler(
        runtime=runtime_over(Broken()), cron_secret=SECRET, now=T0
    )
    response = await request(app, "GET", headers=cron_headers())
    assert response.status_code == 500
    assert response.json() == {
        "ok": False,
        "error": "workflow sweep failed during sweep: RuntimeError",
    }
    assert PAYLOAD not in response.text


async def test_a_runtime_factory_receives_the_request_scope() -> None:
    store = in_memory_workflow_execution_store()
    scopes: list[dict[str, Any]] = []

    async def factory(scope: dict[str, Any]) -> WorkflowRuntime:
        scopes.append(scope)
        return runtime_over(store)

    app = create_vercel_workflow_sweep_handler(runtime=factory, cron_secret=SECRET, now=T0)
    response = await request(app, "GET", headers=cron_headers())
    assert response.status_code == 200
    [scope] = scopes
    assert (scope["method"], scope["path"]) == ("GET", PATH)
    assert (b"user-agent", b"vercel-cron/1.0") in scope["headers"]


async def test_a_doubled_cron_invocation_starts_the_bucket_once() -> None:
    store = in_memory_workflow_execution_store()
    app = create_vercel_workflow_sweep_handler(
        runtime=runtime_over(store), cron_secret=SECRET, now=T0
    )
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as client:
        responses = await asyncio.gather(
            *(client.get(PATH, headers=cron_headers()) for _ in range(4))
        )
    assert [r.status_code for r in responses] == [200] * 4
    started = sum(r.json()["summary"]["scheduled"].get("completed", 0) for r in responses)
    assert started == 1
    page = await store.list_runs()
    assert [run.run_id for run in page.runs] == ["intent-process:every-15m:900000"]


def test_an_empty_cron_secret_is_refused() -> None:
    runtime = runtime_over(in_memory_workflow_execution_store())
    with pytest.raises(ValueError, match="non-empty secret"):
        create_vercel_workflow_sweep_handler(runtime=runtime, cron_secret="")


async def test_materialize_is_re_exported() -> None:
    runtime = runtime_over(in_memory_workflow_execution_store())
    [done] = await materialize_workflow_schedules(runtime, now=T0)
    assert (done.workflow_id, done.schedule_id, done.fire_at) == ("intent-process", "every-15m", T0)
