"""The Netlify sweep endpoint behind a real uvicorn server, called over HTTP with httpx.

The client plays the packaged scheduled function: a ``POST`` with Netlify's tick body
``{"next_run": ...}`` and ``Authorization: Bearer <secret>``.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from netlify_uvicorn import serve

from tanstack_workflow.core import create_workflow
from tanstack_workflow.netlify import (
    HostSweepApp,
    check_tick_body,
    create_netlify_workflow_sweep_handler,
)
from tanstack_workflow.runtime import (
    InMemoryWorkflowExecutionStore,
    WorkflowRuntime,
    define_workflow_runtime,
    every,
    in_memory_workflow_execution_store,
)

SECRET = "netlify-sweep-secret-0123456789"
PAYLOAD = "private-note-42"
T0 = 900_000
TICK = json.dumps({"next_run": "1970-01-01T00:20:00.000Z"})


@create_workflow("cleanup").handler
async def cleanup(ctx: Any) -> dict[str, Any]:
    removed = await ctx.step("remove-expired", lambda: 3)
    return {"removed": removed, "note": ctx.input}


def runtime_over(store: InMemoryWorkflowExecutionStore) -> WorkflowRuntime:
    schedule = {"id": "cleanup-5m", "spec": every.minutes(5), "input": PAYLOAD}
    return define_workflow_runtime(
        store=store, workflows={"cleanup": {"load": cleanup, "schedules": [schedule]}}
    )


def app_over(store: InMemoryWorkflowExecutionStore, **options: Any) -> HostSweepApp:
    return create_netlify_workflow_sweep_handler(
        runtime=runtime_over(store), secret=SECRET, now=T0, **options
    )


async def post(app: HostSweepApp, content: str | bytes, **headers: str) -> httpx.Response:
    auth = {"authorization": f"Bearer {SECRET}", "content-type": "application/json"}
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as client:
        return await client.post("/workflow/sweep", content=content, headers={**auth, **headers})


async def test_a_forwarded_tick_sweeps_and_answers_the_summary() -> None:
    store = in_memory_workflow_execution_store()
    response = await post(app_over(store), TICK)
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["leaseOwner"].startswith("netlify:")
    assert body["summary"]["scheduled"] == {"completed": 1}
    assert PAYLOAD not in response.text
    run = await store.load_run("cleanup:cleanup-5m:900000")
    assert run is not None
    assert run.output == {"removed": 3, "note": PAYLOAD}


async def test_an_empty_body_counts_as_a_manual_tick() -> None:
    response = await post(app_over(in_memory_workflow_execution_store()), b"")
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", 'body must be JSON like {"next_run": "..."}'),
        ("[1, 2]", 'body must be a JSON object like {"next_run": "..."}'),
        ('{"next_run": 5}', "next_run must be a string"),
        (b"\xff\xfe", 'body must be JSON like {"next_run": "..."}'),
    ],
)
async def test_a_body_that_is_not_a_tick_is_400(content: str | bytes, reason: str) -> None:
    store = in_memory_workflow_execution_store()
    response = await post(app_over(store), content)
    assert response.status_code == 400
    assert response.json() == {"ok": False, "error": f"Bad Request: {reason}"}
    assert await store.list_schedules() == []


@pytest.mark.parametrize("authorization", ["", "Bearer nope", f"Bearer {SECRET[:-1]}", SECRET])
async def test_a_wrong_secret_is_401(authorization: str) -> None:
    store = in_memory_workflow_execution_store()
    response = await post(app_over(store), TICK, authorization=authorization)
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error": "Unauthorized"}
    assert await store.list_schedules() == []


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_only_post_is_allowed(method: str) -> None:
    app = app_over(in_memory_workflow_execution_store())
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as client:
        response = await client.request(
            method, "/workflow/sweep", headers={"authorization": f"Bearer {SECRET}"}
        )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


async def test_a_failed_sweep_is_a_500_without_payloads() -> None:
    class Broken(InMemoryWorkflowExecutionStore):
        async def upsert_schedule(self, **kwargs: Any) -> Any:
            raise ValueError(f"bad input {PAYLOAD}")

    response = await post(app_over(Broken()), TICK)
    assert response.status_code == 500
    assert response.json() == {
        "ok": False,
        "error": "workflow sweep failed during materialize: ValueError",
    }
    assert PAYLOAD not in response.text


def test_check_tick_body_accepts_netlify_ticks() -> None:
    assert check_tick_body(TICK.encode()) is None
    assert check_tick_body(b'{"next_run": null, "other": 1}') is None
    assert check_tick_body(b"  \n") is None


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="non-empty secret"):
        create_netlify_workflow_sweep_handler(
            runtime=runtime_over(in_memory_workflow_execution_store()), secret=""
        )
