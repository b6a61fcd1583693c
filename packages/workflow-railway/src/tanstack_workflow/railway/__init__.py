"""tanstack-workflow on Railway: a cron service that sweeps once and exits.

``create_railway_workflow_cron_command(runtime=...)`` returns the async command; the
``tanstack-workflow-railway --runtime pkg.module:runtime`` console script runs it as a
service's start command.
"""

from tanstack_workflow.runtime import (
    HostSweepError,
    HostSweepOptions,
    MaterializedWorkflowSchedule,
    materialize_workflow_schedules,
)

from .__about__ import __version__
from ._command import RailwayCronCommand, create_railway_workflow_cron_command

__all__ = [
    "HostSweepError",
    "HostSweepOptions",
    "MaterializedWorkflowSchedule",
    "RailwayCronCommand",
    "__version__",
    "create_railway_workflow_cron_command",
    "materialize_workflow_schedules",
]
