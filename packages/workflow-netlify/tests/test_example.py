"""examples/netlify end to end: the committed forwarder (in Node.js) calls the committed
Python endpoint (uvicorn, its own process) over real Postgres.

Not simulated here: Netlify's scheduler, its function runtime and its 30-second limit.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from netlify_forwarder import forward_tick

from tanstack_workflow.netlify.cli import DEFAULT_SCHEDULE, render_function

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "netlify"
FUNCTION = EXAMPLE / "netlify" / "functions" / "workflow-sweep.mts"
SECRET = "example-netlify-secret-0123456789"


def test_the_example_holds_exactly_what_init_writes() -> None:
    assert FUNCTION.read_text() == render_function(None)
    config = tomllib.loads((EXAMPLE / "netlify.toml").read_text())
    assert config["functions"]["workflow-sweep"]["schedule"] == DEFAULT_SCHEDULE


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
async def endpoint() -> AsyncIterator[str]:
    pytest.importorskip("tanstack_workflow.store_postgres")
    from tanstack_workflow.store_postgres.testing import postgres_url, temporary_store

    try:
        url = postgres_url()
    except RuntimeError as exc:
        pytest.skip(f"no Postgres server for the Netlify example: {exc}")
    port = free_port()
    async with temporary_store(url) as store:
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "WORKFLOW_SCHEMA": store.schema,
            "WORKFLOW_SWEEP_SECRET": SECRET,
        }
        process = await asyncio.create_subprocess_exec(
            *[sys.executable, "-m", "uvicorn", "sweep_app:app", "--port", str(port)],
            *["--host", "127.0.0.1", "--log-level", "warning"],
            cwd=EXAMPLE,
            env=env,
            stderr=asyncio.subprocess.PIPE,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            async with httpx.AsyncClient() as client:
                for _ in range(300):
                    if process.returncode is not None:
                        assert process.stderr is not None
                        raise RuntimeError((await process.stderr.read()).decode())
                    try:
                        await client.get(base)
                        break
                    except httpx.TransportError:
                        await asyncio.sleep(0.05)
            yield f"{base}/workflow/sweep"
        finally:
            if process.returncode is None:
                process.terminate()
            await process.wait()


async def test_a_tick_goes_through_the_forwarder_to_the_python_endpoint(
    endpoint: str, tmp_path: Path
) -> None:
    tick = json.dumps({"next_run": "2030-01-01T00:05:00.000Z"})
    forwarded = await forward_tick(
        FUNCTION, tmp_path, tick, WORKFLOW_SWEEP_URL=endpoint, WORKFLOW_SWEEP_SECRET=SECRET
    )
    assert forwarded.status == 200, forwarded.body
    summary = json.loads(forwarded.body)
    assert summary["ok"] is True
    assert summary["materialized"] == 1
