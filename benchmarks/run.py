"""The benchmark: workloads W1-W4 on every available store, printed as one table.

    python benchmarks/run.py                          # memory, postgres, d1-local
    python benchmarks/run.py --stores memory,postgres --quick
    python benchmarks/run.py --operations             # also one row per Postgres store call
    python benchmarks/run.py --embedded               # a throwaway Postgres with pg_stat_statements

Postgres is DATABASE_URL (default postgresql://root@127.0.0.1:5432/test); the benchmark
works in a scratch database it creates and drops (or in the given database when it may
not create one), a fresh schema per workload. Statements come from pg_stat_statements when
the server loads it, otherwise from the driver; commits from pg_stat_database. pgbench (one
client, prepared, a one-row INSERT) runs just before and just after W1, and W1's time per
step is compared with the mean of the two. See counting.py for how each store is counted.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import platform
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from counting import (
    DEFAULT_URL,
    D1Target,
    MemoryTarget,
    PostgresServer,
    PostgresTarget,
    Target,
    find_pgbench,
    pgbench_insert_ms,
    start_embedded_with_stat_statements,
)
from workloads import Measurement, w1, w2, w3, w4

STORES = ("memory", "postgres", "d1-local")


async def run_target(
    target: Target,
    quick: bool,
    pgbench_seconds: float,
    notes: list[str],
    w3_options: dict[str, int] | None = None,
) -> list[Measurement]:
    scale = 10 if quick else 1
    server = target.server if isinstance(target, PostgresTarget) else None
    baseline: list[float | None] = []

    async def pgbench() -> None:
        assert server is not None
        baseline.append(pgbench_insert_ms(server.given_url, pgbench_seconds))

    results = [
        await w1(target, steps=1_000 // scale, repeats=5, between=pgbench if server else None)
    ]
    if server is not None:
        note_w1_ratio(results[0], baseline, pgbench_seconds, notes)
    results += [
        await w2(target, runs=1_000 // scale, drivers=1),
        await w2(target, runs=1_000 // scale, drivers=8),
        await w3(target, runs=5_000 // scale, sweep_limit=500 // scale, **(w3_options or {})),
    ]
    for n in (100, 200, 400, 800):
        results.append(await w4(target, waits=n // scale))
    return results


def note_w1_ratio(
    m: Measurement, baseline: list[float | None], seconds: float, notes: list[str]
) -> None:
    """W1 per step against pgbench: each W1 run against the mean of the pgbench runs
    just before and just after it; the median of those ratios."""
    if any(ms is None for ms in baseline):
        notes.append("pgbench: not found or failed, no INSERT-commit baseline.")
        return
    inserts = [ms for ms in baseline if ms is not None]
    ratios = [run_ms / ((inserts[k] + inserts[k + 1]) / 2) for k, run_ms in enumerate(m.per_run_ms)]
    ratio = statistics.median(ratios)
    m.extra["pgbench INSERT"] = f"{statistics.median(inserts):.3f} ms"
    m.extra["W1/pgbench"] = f"{ratio:.2f}x"
    notes.append(
        f"pgbench ({find_pgbench()}): one-row INSERT commit, 1 client, -M prepared, "
        f"{seconds:g} s before, between and after the W1 runs: "
        + ", ".join(f"{ms:.3f}" for ms in inserts)
        + " ms. W1 runs: "
        + ", ".join(f"{ms:.3f}" for ms in m.per_run_ms)
        + " ms per step. W1/pgbench, each run against the mean of its neighbours: "
        + ", ".join(f"{r:.2f}" for r in ratios)
        + f"; median {ratio:.2f}x (target <= 2x)."
    )


def print_table(rows: list[tuple[str, Measurement]]) -> None:
    print("| store | workload | units | ms/unit | statements/unit | commits/unit | other |")
    print("|---|---|---|---|---|---|---|")
    for store, m in rows:
        other = ", ".join(f"{k} {v}" for k, v in m.extra.items())
        commits = "-" if m.commits_per_unit is None else f"{m.commits_per_unit:.2f}"
        print(
            f"| {store} | {m.workload} | {m.units} {m.unit}s | {m.ms_per_unit:.3f} "
            f"| {m.statements_per_unit:.2f} | {commits} | {other} |"
        )


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--stores", default=",".join(STORES), help="comma-separated: " + ", ".join(STORES)
    )
    parser.add_argument("--quick", action="store_true", help="one tenth of every workload")
    parser.add_argument(
        "--operations", action="store_true", help="also time each Postgres store operation"
    )
    parser.add_argument("--ops", type=int, default=300, help="calls per operation (--operations)")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_URL))
    parser.add_argument(
        "--embedded", action="store_true", help="a throwaway Postgres with pg_stat_statements"
    )
    parser.add_argument("--pgbench-seconds", type=float, default=2)
    parser.add_argument(
        "--w3-concurrency",
        type=int,
        default=None,
        help="runs one W3 sweep drives at once (default: the runtime's default)",
    )
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.stores.split(",") if name.strip()]
    unknown = sorted(set(names) - set(STORES))
    if unknown:
        parser.error(f"unknown stores {unknown}; choose from {', '.join(STORES)}")

    embedded = server = None
    rows: list[tuple[str, Measurement]] = []
    notes: list[str] = []
    footnotes: list[str] = []
    operations = None
    try:
        for name in names:
            target: Target
            if name == "memory":
                target = MemoryTarget()
            elif name == "d1-local":
                if not _installed("tanstack_workflow.store_d1"):
                    print("(skipping d1-local: package not installed)", file=sys.stderr)
                    continue
                target = D1Target()
            else:
                if not _installed("tanstack_workflow.store_postgres"):
                    print("(skipping postgres: package not installed)", file=sys.stderr)
                    continue
                url = args.database_url
                if args.embedded:
                    url, embedded = start_embedded_with_stat_statements()
                server = PostgresServer(url)
                await server.setup()
                target = PostgresTarget(server)
            try:
                w3_options = (
                    {} if args.w3_concurrency is None else {"concurrency": args.w3_concurrency}
                )
                for measurement in await run_target(
                    target, args.quick, args.pgbench_seconds, notes, w3_options
                ):
                    rows.append((name, measurement))
                if args.operations and isinstance(target, PostgresTarget):
                    from postgres_store import store_operations

                    operations = await store_operations(target, args.ops)
            finally:
                await target.close()
            footnotes.append(target.footnote())
    finally:
        if server is not None:
            await server.close()
        if embedded is not None:
            embedded.cleanup()

    print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.system()}\n")
    print_table(rows)
    print()
    for note in footnotes + notes:
        print(f"- {note}")
    print("- Times are wall clock on this machine and vary with its load; counts do not.")
    if operations is not None:
        from postgres_store import print_operations

        print()
        print_operations(operations)
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
