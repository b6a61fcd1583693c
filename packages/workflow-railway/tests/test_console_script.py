"""The ``tanstack-workflow-railway`` console script, run as Railway runs a cron service.

Each tick is a fresh process running the real console script against a durable store:
a real Postgres server (``DATABASE_URL``, else the Postgres store's throwaway server)
migrated with the documented pre-deploy command, and a local D1 file. The process must
print one JSON line, close the store and exit, or Railway skips the next tick.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tanstack_workflow.runtime import WorkflowExecutionStore

T0 = 1_700_000_100_000  # a multiple of 5 minutes, in epoch ms
SECRET = "sk_live_do_not_log_me"

APP = textwrap.dedent(
    f'''
    import os
    from pathlib import Path

    from tanstack_workflow.core import create_workflow
    from tanstack_workflow.runtime import (
        InMemoryWorkflowExecutionStore,
        define_workflow_runtime,
        every,
    )


    @create_workflow("nap").handler
    async def nap(ctx):
        await ctx.step("start", lambda: "started")
        await ctx.sleep(60_000)
        return {{"done": True}}


    WORKFLOWS = {{
        "nap": {{
            "load": nap,
            "schedules": [{{"id": "nap-5m", "spec": every.minutes(5), "input": "{SECRET}"}}],
        }}
    }}


    async def postgres():
        from tanstack_workflow.store_postgres import create_postgres_workflow_store

        store = create_postgres_workflow_store(
            os.environ["DATABASE_URL"], schema=os.environ["WORKFLOW_SCHEMA"]
        )
        return define_workflow_runtime(store=store, workflows=WORKFLOWS)


    async def d1_file():
        from tanstack_workflow.store_d1 import (
            create_cloudflare_d1_workflow_store,
            local_d1_database,
        )

        store = create_cloudflare_d1_workflow_store(db=local_d1_database(os.environ["WORKFLOW_DB"]))
        if os.environ.get("MIGRATE") == "1":
            await store.ensure_schema()
        return define_workflow_runtime(store=store, workflows=WORKFLOWS)


    class MarksClose(InMemoryWorkflowExecutionStore):
        async def close(self):
            Path(os.environ["CLOSED_MARKER"]).write_text("closed")


    def in_memory():
        return define_workflow_runtime(store=MarksClose(), workflows=WORKFLOWS)
    '''
)


@dataclass
class Tick:
    code: int
    out: str
    err: str

    @property
    def summary(self) -> dict[str, Any]:
        [line] = self.out.splitlines()
        parsed: dict[str, Any] = json.loads(line)
        return parsed


@dataclass
class Railway:
    """Runs the console script in ``cwd`` the way a Railway cron service starts it."""

    cwd: Path
    env: dict[str, str]

    def __call__(self, *args: str, **env: str) -> Tick:
        script = shutil.which("tanstack-workflow-railway", path=str(Path(sys.executable).parent))
        assert script, "the tanstack-workflow-railway console script is not installed"
        done = subprocess.run(
            [script, *args],
            cwd=self.cwd,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=120,
        )
        return Tick(done.returncode, done.stdout, done.stderr)


@dataclass
class Backend:
    """One durable store: the runtime spec, its env, and a store to inspect it with."""

    spec: str
    env: dict[str, str]
    open_store: Callable[[], WorkflowExecutionStore]


@pytest.fixture
def railway(tmp_path: Path) -> Railway:
    (tmp_path / "sweeper.py").write_text(APP)
    env = {k: v for k, v in os.environ.items() if k != "TANSTACK_WORKFLOW_RUNTIME"}
    return Railway(tmp_path, env)


async def postgres_backend(tmp_path: Path) -> AsyncIterator[Backend]:
    pytest.importorskip("tanstack_workflow.store_postgres")
    from tanstack_workflow.store_postgres import create_postgres_workflow_store
    from tanstack_workflow.store_postgres.testing import (
        drop_schema,
        postgres_url,
        random_schema_name,
    )

    try:
        url = postgres_url()
    except RuntimeError as exc:
        pytest.skip(f"no Postgres server for the Railway test: {exc}")
    schema = random_schema_name("tw_railway")
    # The pre-deploy command the docs give for railway.toml.
    migrate = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "tanstack_workflow.store_postgres", "migrate", "--schema", schema],
        env={**os.environ, "DATABASE_URL": url},
        stderr=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
    )
    _, stderr = await asyncio.wait_for(migrate.communicate(), timeout=120)
    assert migrate.returncode == 0, stderr.decode()
    try:
        yield Backend(
            "sweeper:postgres",
            {"DATABASE_URL": url, "WORKFLOW_SCHEMA": schema},
            lambda: create_postgres_workflow_store(url, schema=schema),
        )
    finally:
        await drop_schema(url, schema)


async def d1_backend(tmp_path: Path) -> AsyncIterator[Backend]:
    pytest.importorskip("tanstack_workflow.store_d1")
    from tanstack_workflow.store_d1 import create_cloudflare_d1_workflow_store, local_d1_database

    path = tmp_path / "workflows.sqlite"
    yield Backend(
        "sweeper:d1_file",
        {"WORKFLOW_DB": str(path), "MIGRATE": "1"},
        lambda: create_cloudflare_d1_workflow_store(db=local_d1_database(path)),
    )


@pytest.fixture(params=["postgres", "d1-file"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    make = postgres_backend if request.param == "postgres" else d1_backend
    async for value in make(tmp_path):
        yield value


async def test_each_tick_is_one_process_that_sweeps_logs_one_line_and_exits(
    railway: Railway, backend: Backend
) -> None:
    first = railway("--runtime", backend.spec, "--now", str(T0), **backend.env)
    assert first.code == 0, first.err
    assert first.err == ""
    assert first.summary["now"] == T0
    assert first.summary["leaseOwner"].startswith("railway:")
    assert first.summary["materialized"] == 1
    assert first.summary["summary"]["scheduled"] == {"paused": 1}
    assert SECRET not in first.out

    # The sleep's clock is the tick's `now` plus the time the first tick took, so the
    # next tick comes comfortably after its minute.
    second = railway(
        "--runtime", backend.spec, "--now", str(T0 + 120_000), "--max-timers", "5", **backend.env
    )
    assert second.code == 0, second.err
    assert second.summary["summary"]["timers"] == {"completed": 1}

    store = backend.open_store()
    try:
        run = await store.load_run(f"nap:nap-5m:{T0}")
    finally:
        close = getattr(store, "close", None)
        if close is not None:
            await close()
    assert run is not None
    assert run.status == "finished"
    assert run.lease_owner is None  # released: nothing holds the run between ticks


async def test_a_store_failure_exits_1_with_a_short_error_and_no_summary(
    railway: Railway, tmp_path: Path
) -> None:
    pytest.importorskip("tanstack_workflow.store_d1")
    # A D1 file whose migrations were never applied: every query fails.
    env = {"WORKFLOW_DB": str(tmp_path / "empty.sqlite"), "MIGRATE": "0"}
    tick = railway("--runtime", "sweeper:d1_file", **env)
    assert tick.code == 1
    assert tick.out == ""
    assert "tanstack-workflow-railway: error: workflow sweep failed during materialize" in tick.err
    assert "Traceback" not in tick.err
    assert SECRET not in tick.err
    assert len(tick.err.splitlines()) <= 2


def test_the_runtime_is_closed_before_exit(railway: Railway, tmp_path: Path) -> None:
    marker = tmp_path / "closed"
    tick = railway("--runtime", "sweeper:in_memory", CLOSED_MARKER=str(marker))
    assert tick.code == 0, tick.err
    assert marker.read_text() == "closed"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--runtime", "sweeper"], "must look like 'package.module:attribute'"),
        (["--runtime", "sweeper:nothing"], "has no attribute 'nothing'"),
        ([], "no runtime"),
        (["--runtime", "sweeper:in_memory", "--limit", "-3"], "limit"),
    ],
)
def test_usage_errors_exit_2(railway: Railway, args: list[str], message: str) -> None:
    tick = railway(*args)
    assert tick.code == 2
    assert message in tick.err


def test_the_runtime_may_come_from_the_environment(railway: Railway, tmp_path: Path) -> None:
    tick = railway(
        TANSTACK_WORKFLOW_RUNTIME="sweeper:in_memory", CLOSED_MARKER=str(tmp_path / "closed")
    )
    assert tick.code == 0, tick.err
    assert tick.summary["ok"] is True
