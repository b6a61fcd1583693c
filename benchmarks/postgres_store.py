"""Round trips of the Postgres store: statements, commits and time per store operation.

Run through ``python benchmarks/run.py --operations`` (which also runs the workloads), or
alone: ``python benchmarks/postgres_store.py [--ops 300] [--embedded]``. Counting is the
same as for the workloads (``counting.py``): each operation is measured in its own window.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from counting import (
    DEFAULT_URL,
    PostgresServer,
    PostgresTarget,
    start_embedded_with_stat_statements,
)

from tanstack_workflow.core import SignalAwaitable, SignalAwaited, SignalDelivery, StepFinished
from tanstack_workflow.runtime import RunTransition, split_awaiting

NOW = 1_800_000_000_000

Row = tuple[str, int, float, float | None, float]


def pause_on(name: str, step_id: str) -> RunTransition:
    wait = SignalAwaitable(step_id=step_id, signal_name=name)
    waiting_for, _ = split_awaiting([wait])
    return RunTransition(status="paused", awaiting=[wait], waiting_for=waiting_for)


async def store_operations(target: PostgresTarget, n: int) -> list[Row]:
    """One row per store operation: n calls, each on its own run where it matters."""
    await target.reset()
    ev = [StepFinished(ts=NOW, step_id="s", result={"ok": True})]
    ops: list[tuple[str, int, Callable[[Any, int], Awaitable[Any]]]] = [
        (
            "create_run",
            n,
            lambda s, i: s.create_run(
                run_id=f"r{i}", workflow_id="w", workflow_version=None, input={"i": i}, now=NOW
            ),
        ),
        (
            "append_events (1 event)",
            n,
            lambda s, i: s.append_events(run_id=f"r{i}", expected_next_index=0, events=ev, now=NOW),
        ),
        (
            "claim_run (with events)",
            n,
            lambda s, i: s.claim_run(
                run_id=f"r{i}", lease_owner="b", lease_ms=60_000, now=NOW, with_events=True
            ),
        ),
        (
            "heartbeat_run_lease",
            n,
            lambda s, i: s.heartbeat_run_lease(
                run_id=f"r{i}", lease_owner="b", lease_ms=60_000, now=NOW
            ),
        ),
        (
            "append_events + pause transition",
            n,
            lambda s, i: s.append_events(
                run_id=f"r{i}",
                expected_next_index=1,
                events=[SignalAwaited(ts=NOW, step_id="wait", name="go")],
                now=NOW,
                transition=pause_on("go", "wait"),
            ),
        ),
        (
            "deliver_signal",
            n,
            lambda s, i: s.deliver_signal(
                run_id=f"r{i}",
                delivery=SignalDelivery(signal_id=f"sig{i}", name="go", payload=i),
                now=NOW,
            ),
        ),
        ("load_execution (3 events)", n, lambda s, i: s.load_execution(f"r{i}")),
        (
            "mark_run_paused (arm timer)",
            n,
            lambda s, i: s.mark_run_paused(run_id=f"r{i}", awaiting=None, wake_at=NOW + i, now=NOW),
        ),
        (
            "claim_due_timers (batches of 100), per batch",
            max(n // 100, 1),
            lambda s, i: s.claim_due_timers(
                now=NOW + n, limit=100, lease_owner="t", lease_ms=60_000
            ),
        ),
    ]
    rows: list[Row] = []
    for label, count, op in ops:
        async with target.window() as window:
            store = await window.store()
            start = time.perf_counter()
            for i in range(count):
                await op(store, i)
            seconds = time.perf_counter() - start
        commits = None if window.commits is None else window.commits / count
        rows.append((label, count, window.statements / count, commits, seconds * 1000 / count))
    return rows


def print_operations(rows: list[Row]) -> None:
    print("| operation | n | statements/op | commits/op | ms/op |")
    print("|---|---|---|---|---|")
    for label, n, statements, commits, ms in rows:
        shown = "-" if commits is None else f"{commits:.2f}"
        print(f"| {label} | {n} | {statements:.2f} | {shown} | {ms:.3f} |")


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_URL))
    parser.add_argument(
        "--embedded", action="store_true", help="a throwaway server with pg_stat_statements"
    )
    parser.add_argument("--ops", type=int, default=300, help="calls per operation")
    args = parser.parse_args(argv)
    embedded = None
    url = args.database_url
    if args.embedded:
        url, embedded = start_embedded_with_stat_statements()
    server = PostgresServer(url)
    try:
        await server.setup()
        target = PostgresTarget(server)
        try:
            rows = await store_operations(target, args.ops)
        finally:
            await target.close()
    finally:
        await server.close()
        if embedded is not None:
            embedded.cleanup()
    print_operations(rows)
    print(f"\n{server.footnote()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
