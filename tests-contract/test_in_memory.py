"""The contract suite against the in-memory store."""

from __future__ import annotations

from tanstack_workflow.runtime import (
    InMemoryWorkflowExecutionStore,
    in_memory_workflow_execution_store,
)
from tanstack_workflow.runtime.contract import AllContracts, StoreFixtures


class InMemoryFixtures(StoreFixtures):
    supports_subscribe = True

    @classmethod
    def make_store(cls) -> InMemoryWorkflowExecutionStore:
        return in_memory_workflow_execution_store()


class TestInMemory(AllContracts, InMemoryFixtures):
    pass
