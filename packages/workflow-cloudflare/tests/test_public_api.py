"""The public surface of tanstack_workflow.cloudflare: changing it must be deliberate."""

from __future__ import annotations

import tanstack_workflow.cloudflare as adapter
from tanstack_workflow import runtime

EXPECTED_ALL = [
    "CloudflareScheduledHandler",
    "HostSweepError",
    "HostSweepOptions",
    "MaterializedWorkflowSchedule",
    "__version__",
    "create_cloudflare_workflow_scheduled_handler",
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
