"""tanstack-workflow on Netlify: a scheduled function forwards its tick to a Python sweep.

Netlify Functions cannot run Python. ``create_netlify_workflow_sweep_handler(runtime=...,
secret=...)`` is the ASGI endpoint (hosted wherever your Python runs);
``tanstack-workflow-netlify init`` writes the TypeScript scheduled function that calls it.
"""

from tanstack_workflow.runtime import (
    HostSweepApp,
    HostSweepError,
    HostSweepOptions,
    MaterializedWorkflowSchedule,
    materialize_workflow_schedules,
)

from .__about__ import __version__
from ._handler import check_tick_body, create_netlify_workflow_sweep_handler

__all__ = [
    "HostSweepApp",
    "HostSweepError",
    "HostSweepOptions",
    "MaterializedWorkflowSchedule",
    "__version__",
    "check_tick_body",
    "create_netlify_workflow_sweep_handler",
    "materialize_workflow_schedules",
]
