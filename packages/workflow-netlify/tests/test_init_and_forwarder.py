"""``tanstack-workflow-netlify init`` (the real console script) and the forwarder it writes,
run in Node.js against the Python endpoint served by uvicorn."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from netlify_forwarder import forward_tick
from netlify_uvicorn import serve

from tanstack_workflow.core import create_workflow
from tanstack_workflow.netlify import create_netlify_workflow_sweep_handler
from tanstack_workflow.netlify.cli import render_function
from tanstack_workflow.runtime import (
    define_workflow_runtime,
    every,
    in_memory_workflow_execution_store,
)

SECRET = "forwarded-secret-0123456789"
FUNCTION = Path("netlify") / "functions" / "workflow-sweep.mts"


def init(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    script = shutil.which("tanstack-workflow-netlify", path=str(Path(sys.executable).parent))
    assert script, "the tanstack-workflow-netlify console script is not installed"
    return subprocess.run(
        [script, "init", "--dir", str(site), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_init_writes_the_function_and_netlify_toml(tmp_path: Path) -> None:
    done = init(tmp_path, "--endpoint", "https://app.example.com/sweep", "--schedule", "@hourly")
    assert done.returncode == 0, done.stderr
    source = (tmp_path / FUNCTION).read_text()
    assert 'const DEFAULT_ENDPOINT: string = "https://app.example.com/sweep"' in source
    config = tomllib.loads((tmp_path / "netlify.toml").read_text())
    assert config == {"functions": {"workflow-sweep": {"schedule": "@hourly"}}}
    assert "netlify env:set WORKFLOW_SWEEP_SECRET" in done.stdout
    assert "cannot" in done.stdout  # says plainly that Netlify Functions cannot run Python


def test_init_never_rewrites_an_existing_netlify_toml(tmp_path: Path) -> None:
    existing = '[build]\n  publish = "dist"\n'
    (tmp_path / "netlify.toml").write_text(existing)
    done = init(tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "netlify.toml").read_text() == existing
    assert '[functions."workflow-sweep"]\n  schedule = "*/5 * * * *"' in done.stdout


def test_init_refuses_to_overwrite_the_function_without_force(tmp_path: Path) -> None:
    assert init(tmp_path).returncode == 0
    (tmp_path / FUNCTION).write_text("// edited")
    again = init(tmp_path)
    assert again.returncode == 1
    assert "--force" in again.stderr
    assert (tmp_path / FUNCTION).read_text() == "// edited"
    assert init(tmp_path, "--force").returncode == 0
    assert (tmp_path / FUNCTION).read_text() == render_function(None)


@pytest.mark.parametrize(
    "args",
    [
        ["--schedule", "every five minutes"],
        ["--schedule", "0 */5 * * * *"],
        ["--schedule", "61 * * * *"],
        ["--endpoint", "app.example.com/sweep"],
        ["--endpoint", "ftp://app.example.com/sweep"],
    ],
)
def test_init_usage_errors_exit_2(tmp_path: Path, args: list[str]) -> None:
    done = init(tmp_path, *args)
    assert done.returncode == 2
    assert not (tmp_path / FUNCTION).exists()


def test_init_needs_an_existing_directory(tmp_path: Path) -> None:
    done = init(tmp_path / "missing")
    assert done.returncode == 2
    assert "is not a directory" in done.stderr


@create_workflow("cleanup").handler
async def cleanup(ctx: Any) -> dict[str, int]:
    return {"removed": await ctx.step("remove-expired", lambda: 3)}


async def test_the_forwarder_carries_a_tick_to_the_python_endpoint(tmp_path: Path) -> None:
    store = in_memory_workflow_execution_store()
    runtime = define_workflow_runtime(
        store=store,
        workflows={"cleanup": {"load": cleanup, "schedules": [{"spec": every.minutes(5)}]}},
    )
    app = create_netlify_workflow_sweep_handler(runtime=runtime, secret=SECRET)
    site = tmp_path / "site"
    site.mkdir()
    async with serve(app) as url:
        assert init(site, "--endpoint", f"{url}/workflow/sweep").returncode == 0
        tick = json.dumps({"next_run": "2030-01-01T00:05:00.000Z"})
        forwarded = await forward_tick(
            site / FUNCTION, tmp_path, tick, WORKFLOW_SWEEP_SECRET=SECRET
        )
        wrong = await forward_tick(site / FUNCTION, tmp_path, tick, WORKFLOW_SWEEP_SECRET="nope")
        unset = await forward_tick(site / FUNCTION, tmp_path, tick)

    assert forwarded.status == 200
    summary = json.loads(forwarded.body)
    assert summary["summary"]["scheduled"] == {"completed": 1}
    [log] = forwarded.logs
    assert log.startswith("workflow-sweep: 200 {")
    page = await store.list_runs()
    assert [run.status for run in page.runs] == ["finished"]

    assert (wrong.status, json.loads(wrong.body)) == (401, {"ok": False, "error": "Unauthorized"})
    assert unset.status == 500
    assert "WORKFLOW_SWEEP_SECRET" in unset.logs[0]
