"""tanstack-workflow on Cloudflare: a Python Worker's Cron Trigger runs one bounded sweep.

``create_cloudflare_workflow_scheduled_handler(runtime=...)`` returns the
``scheduled(controller, env, ctx)`` handler; the workflow state lives in the runtime's
store (usually D1), never in the Worker.
"""

from tanstack_workflow.runtime import (
    HostSweepError,
    HostSweepOptions,
    MaterializedWorkflowSchedule,
    materialize_workflow_schedules,
)

from .__about__ import __version__
from ._scheduled import CloudflareScheduledHandler, create_cloudflare_workflow_scheduled_handler

__all__ = [
    "CloudflareScheduledHandler",
    "HostSweepError",
    "HostSweepOptions",
    "MaterializedWorkflowSchedule",
    "__version__",
    "create_cloudflare_workflow_scheduled_handler",
    "materialize_workflow_schedules",
]
