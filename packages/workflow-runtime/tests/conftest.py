"""Shared fixtures for the workflow-runtime tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# Helper modules live beside the tests; importlib import mode does not put this
# directory on sys.path by itself.
sys.path.insert(0, str(Path(__file__).parent))

from tanstack_workflow.runtime import (
    InMemoryWorkflowExecutionStore,
    in_memory_workflow_execution_store,
)


@pytest.fixture
def store() -> InMemoryWorkflowExecutionStore:
    return in_memory_workflow_execution_store()
