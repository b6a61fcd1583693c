"""Run the benchmark workloads against every available store and print one table.

    python benchmarks/run.py                      # in-memory + every store that imports
    python benchmarks/run.py --stores memory --quick

Postgres uses DATABASE_URL (default postgresql://root@127.0.0.1:5432/test) and a fresh
schema per workload. Store operations per unit are counted at the driver; each is one
SQL statement (or one D1 batch) in the first-party SQL stores.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from workloads import Measurement, StoreFactory, w1, w2, w3, w4

from tanstack_workflow.runtime import in_memory_workflow_execution_store


async def _memory() -> Any:
    return in_memory_workflow_execution_store()


def _postgres_factory() -> StoreFactory | None:
    try:
        from tanstack_workflow.store_postgres import create_postgres_workflow_store
    except ImportError:
        return None
    url = os.environ.get("DATABASE_URL", "postgresql://root@127.0.0.1:5432/test")

    async def make() -> Any:
        store = create_postgres_workflow_store(url, schema=f"bench_{uuid.uuid4().hex[:8]}")
        await store.ensure_schema()
        return store

    return make


def _d1_local_factory() -> StoreFactory | None:
    try:
        from tanstack_workflow.store_d1 import (
            create_cloudflare_d1_workflow_store,
            local_d1_database,
        )
    except ImportError:
        return None
    folder = Path(tempfile.mkdtemp(prefix="bench-d1-"))

    async def make() -> Any:
        store = create_cloudflare_d1_workflow_store(
            db=local_d1_database(folder / f"{uuid.uuid4().hex}.sqlite")
        )
        await store.ensure_schema()
        return store

    return make


FACTORIES: dict[str, Callable[[], StoreFactory | None]] = {
    "memory": lambda: _memory,
    "postgres": _postgres_factory,
    "d1-local": _d1_local_factory,
}


async def run_store(name: str, factory: StoreFactory, quick: bool) -> list[Measurement]:
    scale = 10 if quick else 1
    results = [
        await w1(factory, steps=1_000 // scale),
        await w2(factory, runs=1_000 // scale, drivers=1),
        await w2(factory, runs=1_000 // scale, drivers=8),
        await w3(factory, runs=5_000 // scale),
    ]
    for n in (100, 200, 400, 800):
        results.append(await w4(factory, waits=n // scale))
    return results


def print_table(rows: list[tuple[str, Measurement]]) -> None:
    header = "| store | workload | units | ms/unit | store ops/unit | other |"
    print(header)
    print("|---|---|---|---|---|---|")
    for store, m in rows:
        other = ", ".join(
            f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in m.extra.items()
        )
        print(
            f"| {store} | {m.workload} | {m.units} {m.unit}s | {m.ms_per_unit:.3f} | {m.ops_per_unit:.2f} | {other} |"
        )


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--stores", default=",".join(FACTORIES), help="comma-separated: " + ", ".join(FACTORIES)
    )
    parser.add_argument("--quick", action="store_true", help="one tenth of every workload")
    args = parser.parse_args(argv)
    rows: list[tuple[str, Measurement]] = []
    for name in args.stores.split(","):
        factory = FACTORIES[name]()
        if factory is None:
            print(f"(skipping {name}: package not installed)", file=sys.stderr)
            continue
        for measurement in await run_store(name, factory, args.quick):
            rows.append((name, measurement))
    print_table(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
