"""The contract suite against the D1 store on the local SQLite binding (a fresh file per store)."""

from __future__ import annotations

import itertools
import tempfile

from tanstack_workflow.runtime.contract import AllContracts, StoreFixtures
from tanstack_workflow.store_d1 import (
    CloudflareD1WorkflowStore,
    create_cloudflare_d1_workflow_store,
    local_d1_database,
)

# Removed when the interpreter exits; every store gets its own file inside.
_FILES = tempfile.TemporaryDirectory(prefix="tanstack-workflow-d1-contract-")
_COUNTER = itertools.count()


class LocalD1Fixtures(StoreFixtures):
    @classmethod
    async def make_store(cls) -> CloudflareD1WorkflowStore:
        db = local_d1_database(f"{_FILES.name}/store-{next(_COUNTER)}.sqlite")
        store = create_cloudflare_d1_workflow_store(db=db)
        await store.ensure_schema()
        return store


class TestLocalD1(AllContracts, LocalD1Fixtures):
    pass
