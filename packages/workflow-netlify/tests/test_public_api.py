"""The public surface of tanstack_workflow.netlify: changing it must be deliberate."""

from __future__ import annotations

import importlib

import tanstack_workflow.netlify as adapter
from tanstack_workflow import runtime

EXPECTED_ALL = [
    "HostSweepApp",
    "HostSweepError",
    "HostSweepOptions",
    "MaterializedWorkflowSchedule",
    "__version__",
    "check_tick_body",
    "create_netlify_workflow_sweep_handler",
    "materialize_workflow_schedules",
]


def test_public_names_are_pinned_and_sorted() -> None:
    assert adapter.__all__ == EXPECTED_ALL == sorted(EXPECTED_ALL)
    for name in adapter.__all__:
        assert hasattr(adapter, name), name


def test_the_runtime_helpers_are_re_exported_not_copied() -> None:
    assert adapter.materialize_workflow_schedules is runtime.materialize_workflow_schedules
    assert adapter.MaterializedWorkflowSchedule is runtime.MaterializedWorkflowSchedule
    assert adapter.HostSweepOptions is runtime.HostSweepOptions
    assert adapter.HostSweepError is runtime.HostSweepError
    assert callable(importlib.import_module("tanstack_workflow.netlify.cli").main)
