"""A worker process for the reliability tests: sweeps and drives runs until all have ended.

Run as a script: ``python postgres_reliability_worker.py URL SCHEMA --lease-ms N``. Every
fresh execution of a step function is recorded (run, step, pid, epoch ms) in the side
table ``step_executions`` before the step returns, so the test can tell which step ran
how often and whether any ran again after its checkpoint was committed.

Signals are delivered both through the runtime (claim and drive) and through the store
(``deliver_signal``, which leaves the run for a later sweep to recover), with one
deterministic signal id per run so redeliveries are duplicates.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo

from tanstack_workflow.core import SignalDelivery, StepContext, create_workflow
from tanstack_workflow.runtime import define_workflow_runtime
from tanstack_workflow.store_postgres import create_postgres_workflow_store

WORKFLOW_ID = "reliability"
SLEEP_MS = 100
STEP_MAX_MS = 20
TERMINAL = "('finished', 'errored', 'aborted')"


def now_ms() -> int:
    return int(time.time() * 1000)


class Recorder:
    """Writes step executions to the side table on its own (reconnecting) connection."""

    def __init__(self, url: str, schema: str) -> None:
        self.url = make_conninfo(url, application_name="tw_rel_recorder")
        self.table = f'"{schema}".step_executions'
        self.runs = f'"{schema}".workflow_runs'
        self.conn: psycopg.AsyncConnection[Any] | None = None

    async def execute(self, query: str, params: Any = None) -> list[Any]:
        for attempt in range(20):
            try:
                if self.conn is None or self.conn.closed:
                    self.conn = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
                cur = await self.conn.execute(query, params)
                return await cur.fetchall() if cur.description else []
            except psycopg.OperationalError:
                self.conn = None
                await asyncio.sleep(0.01 * (attempt + 1))
        raise RuntimeError("recorder could not reach the database")

    async def record(self, step_ctx_id: str) -> None:
        run_id, _, step_id = step_ctx_id.rpartition(":")
        await self.execute(
            f"INSERT INTO {self.table} (run_id, step_id, pid, at_ms) VALUES (%s, %s, %s, %s)",
            [run_id, step_id, os.getpid(), now_ms()],
        )

    async def waiting_for_go(self, limit: int) -> list[str]:
        rows = await self.execute(
            f"SELECT run_id FROM {self.runs} WHERE status = 'paused'"
            " AND waiting_for ->> 'signalName' = 'go' ORDER BY random() LIMIT %s",
            [limit],
        )
        return [r[0] for r in rows]

    async def unfinished(self) -> int:
        rows = await self.execute(
            f"SELECT count(*) FROM {self.runs} WHERE status NOT IN {TERMINAL}"
        )
        return int(rows[0][0])


def build_workflow(recorder: Recorder, rng: random.Random) -> Any:
    def recorded(name: str) -> Any:
        async def step(step_ctx: StepContext) -> str:
            await recorder.record(step_ctx.id)
            await asyncio.sleep(rng.random() * STEP_MAX_MS / 1000)
            return name

        return step

    @create_workflow(WORKFLOW_ID).handler
    async def reliability(ctx: Any) -> dict[str, Any]:
        a = await ctx.step("a", recorded("a"))
        await ctx.sleep(SLEEP_MS, id="nap")
        b = await ctx.step("b", recorded("b"))
        go = await ctx.wait_for_event("go", id="go")
        c = await ctx.step("c", recorded("c"))
        return {"a": a, "b": b, "go": go, "c": c}

    return reliability


async def work(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    recorder = Recorder(args.url, args.schema)
    store_url = make_conninfo(args.url, application_name=args.application_name)
    store = create_postgres_workflow_store(store_url, schema=args.schema)
    runtime = define_workflow_runtime(
        store=store,
        workflows={WORKFLOW_ID: build_workflow(recorder, rng)},
        default_lease_ms=args.lease_ms,
    )
    stats = {"sweeps": 0, "errors": 0, "runtime_deliveries": 0, "store_deliveries": 0}
    deadline = time.monotonic() + args.max_seconds
    while time.monotonic() < deadline:
        try:
            await runtime.sweep(limit=args.batch, include_events=False, max_duration_ms=10_000)
            stats["sweeps"] += 1
            for run_id in await recorder.waiting_for_go(args.batch):
                delivery = {"signal_id": f"go:{run_id}", "name": "go", "payload": run_id}
                if rng.random() < 0.5:
                    await runtime.deliver_signal(run_id=run_id, include_events=False, **delivery)
                    stats["runtime_deliveries"] += 1
                else:
                    signal = SignalDelivery(**delivery)
                    await store.deliver_signal(run_id=run_id, delivery=signal, now=now_ms())
                    stats["store_deliveries"] += 1
            if await recorder.unfinished() == 0:
                break
        except Exception as exc:  # connection loss: this pass failed, the next one retries
            stats["errors"] += 1
            print(f"worker {os.getpid()}: {type(exc).__name__}: {exc}", file=sys.stderr)
            await asyncio.sleep(0.02)
        await asyncio.sleep(rng.random() * 0.01)
    await store.close()
    return stats


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("schema")
    parser.add_argument("--lease-ms", type=int, default=5_000)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-seconds", type=float, default=55)
    parser.add_argument("--application-name", default="tw_rel_store")
    args = parser.parse_args()
    stats = asyncio.run(work(args))
    print(json.dumps({"pid": os.getpid(), **stats}))


if __name__ == "__main__":
    main()
