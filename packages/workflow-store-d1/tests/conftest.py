"""Shared fixtures for the workflow-store-d1 tests."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

# Helper modules live beside the tests; importlib import mode does not put this
# directory on sys.path by itself.
sys.path.insert(0, str(Path(__file__).parent))

from d1_miniflare import (
    MiniflareD1,
    MiniflareUnavailable,
    node_executable,
    running_miniflare,
)

from tanstack_workflow.store_d1 import (
    CloudflareD1WorkflowStore,
    LocalD1Database,
    create_cloudflare_d1_workflow_store,
    local_d1_database,
)


@pytest.fixture
async def local_db(tmp_path: Path) -> AsyncIterator[LocalD1Database]:
    """A fresh local D1 file, closed afterwards."""
    db = local_d1_database(tmp_path / "d1.sqlite")
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture
async def store(local_db: LocalD1Database) -> CloudflareD1WorkflowStore:
    """A migrated store on ``local_db``."""
    store = create_cloudflare_d1_workflow_store(db=local_db)
    await store.ensure_schema()
    return store


@pytest.fixture(scope="session")
def miniflare() -> Iterator[MiniflareD1]:
    """workerd's D1 behind the REST API shape, for the session; skipped without Node.js."""
    try:
        node_executable()
    except MiniflareUnavailable as exc:
        pytest.skip(str(exc))
    with running_miniflare() as running:
        yield running
