"""The local binding is a durable default: processes share one SQLite file."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import two_process_app

from tanstack_workflow.store_d1 import create_cloudflare_d1_workflow_store, local_d1_database

APP = Path(__file__).parent / "two_process_app.py"
T0 = 1_700_000_000_000


async def run_app(*args: str) -> object:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(APP),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()
    return json.loads(stdout.decode().strip().splitlines()[-1])


async def test_one_process_pauses_a_run_and_another_resumes_it(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.sqlite")
    assert await run_app("start", path, "run-1") == {"kind": "paused"}
    assert await run_app("sweep", path, str(T0 + 500)) == []
    assert await run_app("sweep", path, str(T0 + 60_000)) == ["run-1"]

    store = create_cloudflare_d1_workflow_store(db=local_d1_database(path))
    try:
        run = await store.load_run("run-1")
        assert run is not None
        assert run.status == "finished"
        assert run.output["started_in"] != run.output["resumed_in"]  # two processes
        types = [s.event_type for s in await store.read_events("run-1")]
        assert types == [
            "STEP_FINISHED",
            "SIGNAL_AWAITED",
            "SIGNAL_RESOLVED",
            "STEP_FINISHED",
            "RUN_FINISHED",
        ]
    finally:
        await store.close()


async def test_concurrent_sweeps_in_two_processes_fire_each_timer_once(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.sqlite")
    run_ids = [f"run-{n}" for n in range(8)]
    for run_id in run_ids:  # started in this process
        await two_process_app.main("start", path, run_id)
    first, second = await asyncio.gather(
        run_app("sweep", path, str(T0 + 60_000)), run_app("sweep", path, str(T0 + 60_000))
    )
    assert isinstance(first, list)
    assert isinstance(second, list)
    assert sorted(first + second) == run_ids  # every run completed by exactly one sweep

    store = create_cloudflare_d1_workflow_store(db=local_d1_database(path))
    try:
        for run_id in run_ids:
            types = [s.event_type for s in await store.read_events(run_id)]
            assert types.count("RUN_FINISHED") == 1
            assert types.count("SIGNAL_RESOLVED") == 1
    finally:
        await store.close()
