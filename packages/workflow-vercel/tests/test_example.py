"""examples/vercel served the way Vercel serves a Python ASGI function: uvicorn, in its own
process, importing ``api/workflow/sweep.py`` from the project root, over real Postgres.

Not simulated here: Vercel's router, its cron scheduler and its limits.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "vercel"
SECRET = "example-cron-secret-0123456789"


def test_vercel_json_schedules_the_route_and_bounds_its_duration() -> None:
    config = json.loads((EXAMPLE / "vercel.json").read_text())
    [job] = config["crons"]
    assert job["path"] == "/api/workflow/sweep"
    assert len(job["schedule"].split()) == 5
    route_file = job["path"].lstrip("/") + ".py"
    assert (EXAMPLE / route_file).is_file()
    max_duration_s = config["functions"][route_file]["maxDuration"]
    assert "max_duration_ms=50_000" in (EXAMPLE / route_file).read_text()
    assert max_duration_s * 1000 > 50_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
async def postgres_env() -> AsyncIterator[dict[str, str]]:
    pytest.importorskip("tanstack_workflow.store_postgres")
    from tanstack_workflow.store_postgres.testing import postgres_url, temporary_store

    try:
        url = postgres_url()
    except RuntimeError as exc:
        pytest.skip(f"no Postgres server for the Vercel example: {exc}")
    async with temporary_store(url) as store:
        yield {"DATABASE_URL": url, "WORKFLOW_SCHEMA": store.schema}


@pytest.fixture
async def example_url(postgres_env: dict[str, str]) -> AsyncIterator[str]:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "uvicorn", "api.workflow.sweep:app"],
        *["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=EXAMPLE,
        env={**os.environ, **postgres_env, "CRON_SECRET": SECRET},
        stderr=asyncio.subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(300):
                if process.returncode is not None:
                    assert process.stderr is not None
                    raise RuntimeError((await process.stderr.read()).decode())
                try:
                    await client.get(url)
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
        yield url
    finally:
        if process.returncode is None:
            process.terminate()
        await process.wait()


async def test_the_example_route_sweeps_for_vercel_cron_only(example_url: str) -> None:
    async with httpx.AsyncClient(base_url=example_url) as client:
        anonymous = await client.get("/api/workflow/sweep")
        cron = {"authorization": f"Bearer {SECRET}", "user-agent": "vercel-cron/1.0"}
        first = await client.get("/api/workflow/sweep", headers=cron)
        second = await client.get("/api/workflow/sweep", headers=cron)
    assert anonymous.status_code == 401
    assert first.status_code == 200, first.text
    assert second.status_code == 200, second.text
    body = first.json()
    assert body["ok"] is True
    assert body["materialized"] == 1
    started = body["summary"]["scheduled"].get("completed", 0)
    started += second.json()["summary"]["scheduled"].get("completed", 0)
    # The hourly bucket starts once, however many ticks fall inside the hour (a tick that
    # straddles the hour boundary may start the next bucket as well).
    assert 1 <= started <= 2
