"""tanstack-workflow on Vercel: a Cron Job calls an ASGI route that runs one bounded sweep.

``create_vercel_workflow_sweep_handler(runtime=..., cron_secret=...)`` returns the ASGI
``app`` for ``api/workflow/sweep.py``.
"""

from tanstack_workflow.runtime import (
    HostSweepApp,
    HostSweepError,
    HostSweepOptions,
    MaterializedWorkflowSchedule,
    materialize_workflow_schedules,
)

from .__about__ import __version__
from ._handler import create_vercel_workflow_sweep_handler

__all__ = [
    "HostSweepApp",
    "HostSweepError",
    "HostSweepOptions",
    "MaterializedWorkflowSchedule",
    "__version__",
    "create_vercel_workflow_sweep_handler",
    "materialize_workflow_schedules",
]
