"""The contract suite against real D1 semantics: workerd's D1 (through miniflare) over HTTP.

The harness lives with the D1 package's tests (``packages/workflow-store-d1/tests/``);
it starts once per session and every store gets its own tables in the one database.
Skipped only where Node.js is absent.
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import ClassVar

import pytest

from tanstack_workflow.runtime.contract import AllContracts, StoreFixtures
from tanstack_workflow.store_d1 import (
    CloudflareD1WorkflowStore,
    create_cloudflare_d1_workflow_store,
)

_HARNESS_PATH = (
    Path(__file__).resolve().parent.parent / "packages/workflow-store-d1/tests/d1_miniflare.py"
)


def _load_harness() -> ModuleType:
    cached = sys.modules.get("d1_miniflare")
    if cached is not None:
        return cached
    spec = importlib.util.spec_from_file_location("d1_miniflare", _HARNESS_PATH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["d1_miniflare"] = module
    spec.loader.exec_module(module)
    return module


harness = _load_harness()
_COUNTER = itertools.count()


@pytest.fixture(scope="module", autouse=True)
def _miniflare() -> Iterator[None]:
    try:
        harness.node_executable()
    except harness.MiniflareUnavailable as exc:
        pytest.skip(str(exc))
    with harness.running_miniflare() as running:
        MiniflareD1Fixtures.harness = running
        try:
            yield
        finally:
            MiniflareD1Fixtures.harness = None


class MiniflareD1Fixtures(StoreFixtures):
    harness: ClassVar[object | None] = None

    # Every store call is an HTTP round trip into workerd (a few ms each), so the state
    # machine runs fewer random sequences here than on the local binding.
    state_machine_max_examples: ClassVar[int] = 25

    @classmethod
    async def make_store(cls) -> CloudflareD1WorkflowStore:
        assert cls.harness is not None, "the miniflare harness is not running"
        prefix = f"c{next(_COUNTER)}"
        tables = {
            "runs": f"{prefix}_runs",
            "events": f"{prefix}_events",
            "schedules": f"{prefix}_schedules",
            "schedule_buckets": f"{prefix}_schedule_buckets",
        }
        store = create_cloudflare_d1_workflow_store(db=cls.harness.database(), tables=tables)  # type: ignore[attr-defined]
        await store.ensure_schema()
        return store


class TestMiniflareD1(AllContracts, MiniflareD1Fixtures):
    @pytest.mark.timeout(600)
    def test_state_machine(self) -> None:
        super().test_state_machine()
