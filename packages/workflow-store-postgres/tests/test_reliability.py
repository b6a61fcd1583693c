"""Reliability on a real Postgres with real processes: concurrency, kill -9, lost connections.

Eight worker processes (``postgres_reliability_worker.py``) sweep and drive the same runs:
a step, a 100 ms sleep, a step, a wait for signal ``go``, a step. Afterwards the database
must satisfy the invariants: every run finished, gapless logs with ``next_index`` equal to
the log length, no checkpoint written twice, and no step executed again after its
checkpoint was committed (exactly once per step when no process dies).

``TW_RELIABILITY_RUNS`` sets the number of runs (default 400; the issue's full size is 2000)
and ``TW_RELIABILITY_SECONDS`` the time the runs get to finish (default 45).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tanstack_workflow.store_postgres import PostgresWorkflowExecutionStore
from tanstack_workflow.store_postgres.testing import temporary_store

WORKER = Path(__file__).with_name("postgres_reliability_worker.py")
RUNS = int(os.environ.get("TW_RELIABILITY_RUNS", "400"))
WORKERS = 8
# Long enough for 400 runs on a busy 2-CPU CI box; raise it with the run count.
TIME_LIMIT_S = float(os.environ.get("TW_RELIABILITY_SECONDS", "45"))
CHECKPOINTS = (
    "STEP_FINISHED",
    "STEP_FAILED",
    "SIGNAL_RESOLVED",
    "APPROVAL_RESOLVED",
    "NOW_RECORDED",
    "UUID_RECORDED",
    "RUN_FINISHED",
    "RUN_ERRORED",
)

pytestmark = pytest.mark.timeout(TIME_LIMIT_S + 75)


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[PostgresWorkflowExecutionStore]:
    """A migrated schema with RUNS unleased ``running`` runs and the executions side table."""
    async with temporary_store(database_url) as store:
        async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
            await conn.execute(
                f'CREATE TABLE "{store.schema}".step_executions '
                "(run_id text, step_id text, pid int, at_ms bigint)"
            )
        now = int(time.time() * 1000)
        for start in range(0, RUNS, 50):
            await asyncio.gather(
                *(
                    store.create_run(
                        run_id=f"run-{i:05d}",
                        workflow_id="reliability",
                        workflow_version=None,
                        input={"i": i},
                        now=now,
                    )
                    for i in range(start, min(start + 50, RUNS))
                )
            )
        yield store


class Workers:
    """The worker processes of one test; replacements are started on demand."""

    def __init__(self, url: str, schema: str, tmp: Path, lease_ms: int, app: str) -> None:
        self.url, self.schema, self.tmp, self.lease_ms, self.app = url, schema, tmp, lease_ms, app
        self.procs: list[subprocess.Popen[bytes]] = []
        self.killed: set[int] = set()

    def start(self) -> subprocess.Popen[bytes]:
        n = len(self.procs)
        cmd = [
            sys.executable,
            str(WORKER),
            self.url,
            self.schema,
            f"--lease-ms={self.lease_ms}",
            f"--seed={n}",
            f"--max-seconds={TIME_LIMIT_S}",
            f"--application-name={self.app}",
        ]
        with (self.tmp / f"worker-{n}.log").open("wb") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def live(self) -> list[subprocess.Popen[bytes]]:
        return [p for p in self.procs if p.poll() is None]

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        self.killed.add(proc.pid)

    def logs(self) -> str:
        return "\n".join(
            p.read_text(errors="replace")[-2000:] for p in sorted(self.tmp.glob("worker-*.log"))
        )


@contextmanager
def workers(
    store: PostgresWorkflowExecutionStore, url: str, tmp: Path, lease_ms: int
) -> Iterator[Workers]:
    group = Workers(url, store.schema, tmp, lease_ms, f"tw_rel_{store.schema[-16:]}")
    try:
        for _ in range(WORKERS):
            group.start()
        yield group
    finally:
        for proc in group.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()


async def _query(url: str, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        cur = await conn.execute(sql, params)
        return await cur.fetchall()


async def _wait_until_all_ended(url: str, schema: str, group: Workers, during: Any = None) -> None:
    started = time.monotonic()
    while time.monotonic() - started < TIME_LIMIT_S:
        rows = await _query(
            url,
            f"SELECT count(*) FROM \"{schema}\".workflow_runs WHERE status NOT IN ('finished', 'errored', 'aborted')",
        )
        if rows[0][0] == 0:
            return
        if during is not None:
            await during()
        await asyncio.sleep(0.2)
    raise AssertionError(
        f"runs still unfinished after {TIME_LIMIT_S}s; worker logs:\n{group.logs()}"
    )


async def _check_invariants(url: str, schema: str) -> dict[str, Any]:
    s = f'"{schema}"'
    statuses = await _query(url, f"SELECT status, count(*) FROM {s}.workflow_runs GROUP BY 1")
    if statuses != [("finished", RUNS)]:
        errors = await _query(
            url,
            f"SELECT error_code, error::text, count(*) FROM {s}.workflow_runs"
            " WHERE status <> 'finished' GROUP BY 1, 2 LIMIT 5",
        )
        raise AssertionError(f"not all runs finished: {statuses}; errors: {errors}")
    gaps = await _query(
        url,
        f"""SELECT r.run_id, r.next_index, e.n, e.lo, e.hi FROM {s}.workflow_runs r
        LEFT JOIN (SELECT run_id, count(*) n, min(event_index) lo, max(event_index) hi
                   FROM {s}.workflow_events GROUP BY run_id) e USING (run_id)
        WHERE r.next_index <> coalesce(e.n, 0) OR e.lo <> 0 OR e.hi <> e.n - 1""",
    )
    assert gaps == [], f"logs with gaps or a wrong next_index: {gaps[:5]}"
    twice = await _query(
        url,
        f"""SELECT run_id, event_type, step_id, count(*) FROM {s}.workflow_events
        WHERE event_type = ANY(%s) GROUP BY 1, 2, 3 HAVING count(*) > 1""",
        [list(CHECKPOINTS)],
    )
    assert twice == [], f"checkpoints written twice: {twice[:5]}"
    wrong_outputs = await _query(
        url,
        f"""SELECT run_id, output FROM {s}.workflow_runs
        WHERE (output ->> 'a', output ->> 'b', output ->> 'go', output ->> 'c')
            IS DISTINCT FROM ('a', 'b', run_id, 'c') LIMIT 5""",
    )
    assert wrong_outputs == [], wrong_outputs
    # A step may run again only while its first execution was in flight: never after the
    # checkpoint (STEP_FINISHED) that recorded its result was committed.
    late = await _query(
        url,
        f"""SELECT x.run_id, x.step_id, x.at_ms, e.created_at FROM {s}.step_executions x
        JOIN {s}.workflow_events e ON e.run_id = x.run_id AND e.step_id = x.step_id
            AND e.event_type = 'STEP_FINISHED'
        WHERE x.at_ms > e.created_at""",
    )
    assert late == [], f"completed steps executed again: {late[:5]}"
    per_step = await _query(
        url,
        f"""SELECT n, count(*) FROM (
            SELECT r.run_id, s.step_id, count(x.*) n FROM {s}.workflow_runs r
            CROSS JOIN (VALUES ('a'), ('b'), ('c')) s(step_id)
            LEFT JOIN {s}.step_executions x ON x.run_id = r.run_id AND x.step_id = s.step_id
            GROUP BY 1, 2) t GROUP BY n ORDER BY n""",
    )
    return {"executions_per_step": dict(per_step)}


async def test_eight_workers_drive_every_run_exactly_once(
    world: PostgresWorkflowExecutionStore, database_url: str, tmp_path: Path
) -> None:
    with workers(world, database_url, tmp_path, lease_ms=10_000) as group:
        await _wait_until_all_ended(database_url, world.schema, group)
    result = await _check_invariants(database_url, world.schema)
    assert result["executions_per_step"] == {1: 3 * RUNS}, "a fresh step ran more than once"


async def test_kill_9_workers_mid_step_and_mid_sweep(
    world: PostgresWorkflowExecutionStore, database_url: str, tmp_path: Path
) -> None:
    rng = random.Random(4)
    kills_left = 6
    next_kill = time.monotonic() + rng.uniform(0.5, 1.5)
    with workers(world, database_url, tmp_path, lease_ms=1_000) as group:

        async def kill_some() -> None:
            nonlocal kills_left, next_kill
            live = group.live()
            if kills_left and live and time.monotonic() >= next_kill:
                group.kill(rng.choice(live))
                group.start()
                kills_left -= 1
                next_kill = time.monotonic() + rng.uniform(0.3, 1.2)

        await _wait_until_all_ended(database_url, world.schema, group, during=kill_some)
    assert group.killed, "the runs ended before any worker was killed: raise TW_RELIABILITY_RUNS"
    result = await _check_invariants(database_url, world.schema)
    assert min(result["executions_per_step"]) == 1


async def test_terminated_backends_during_sweeps(
    world: PostgresWorkflowExecutionStore, database_url: str, tmp_path: Path
) -> None:
    rng = random.Random(7)
    terminated = 0
    next_round = time.monotonic() + 0.5
    with workers(world, database_url, tmp_path, lease_ms=2_000) as group:

        async def terminate_store_connections() -> None:
            # Every ~0.5 s, drop a random half of the workers' store connections, busy
            # or idle: statements in flight fail, pooled connections turn out dead.
            nonlocal terminated, next_round
            if time.monotonic() < next_round:
                return
            next_round = time.monotonic() + rng.uniform(0.3, 0.7)
            rows = await _query(
                database_url,
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE application_name = %s AND random() < 0.5",
                [group.app],
            )
            terminated += rows[0][0]

        await _wait_until_all_ended(
            database_url, world.schema, group, during=terminate_store_connections
        )
    assert terminated > 0
    result = await _check_invariants(database_url, world.schema)
    assert min(result["executions_per_step"]) == 1
