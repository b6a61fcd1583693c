"""Fixtures for the Cloudflare adapter tests: real D1 (workerd via miniflare), a fake Worker shell.

Python Workers run on Pyodide inside workerd, which cannot start offline here, so the
handler runs on CPython. ``env.DB`` is the D1 store package's HTTP binding talking to
workerd's real D1 through the D1 package's miniflare harness, wrapped exactly as a
Worker wraps its binding (``WorkersD1Database(env.DB)``): real SQL, only the Worker
shell (controller, env, ctx, the JS/Python boundary) is simulated.
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

# Helper modules live beside the tests; importlib import mode does not put this
# directory on sys.path by itself.
sys.path.insert(0, str(Path(__file__).parent))

REPO = Path(__file__).resolve().parents[3]
HARNESS = REPO / "packages" / "workflow-store-d1" / "tests" / "d1_miniflare.py"
_table_sets = itertools.count()


def _load_harness() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cloudflare_tests_d1_miniflare", HARNESS)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def miniflare() -> Iterator[Any]:
    """One workerd + D1 per test module (tests isolate themselves with their own tables)."""
    if not HARNESS.is_file():
        pytest.skip(f"the D1 miniflare harness is missing ({HARNESS})")
    harness = _load_harness()
    try:
        harness.node_executable()
    except harness.MiniflareUnavailable as exc:
        pytest.skip(str(exc))
    with harness.running_miniflare() as running:
        yield running


@pytest.fixture
def tables() -> dict[str, str]:
    """Table names no other test in the module uses."""
    n = next(_table_sets)
    return {
        "runs": f"t{n}_runs",
        "events": f"t{n}_events",
        "schedules": f"t{n}_schedules",
        "schedule_buckets": f"t{n}_buckets",
    }


@pytest.fixture
async def env(miniflare: Any, tables: dict[str, str]) -> AsyncIterator[SimpleNamespace]:
    """A Worker ``env``: ``DB`` is a D1 binding; ``TABLES`` keeps tests apart."""
    db = miniflare.database()
    try:
        yield SimpleNamespace(DB=db, TABLES=tables)
    finally:
        await db.close()
