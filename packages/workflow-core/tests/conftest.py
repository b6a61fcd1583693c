"""Shared fixtures for the workflow-core tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# Helper modules live beside the tests; importlib import mode does not put this
# directory on sys.path by itself.
sys.path.insert(0, str(Path(__file__).parent))

from tanstack_workflow.core import InMemoryRunStore, in_memory_run_store


@pytest.fixture
def store() -> InMemoryRunStore:
    return in_memory_run_store()
