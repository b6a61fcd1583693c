"""tanstack-workflow runtime: execution stores, leases, timers, schedules and sweeps."""

from .__about__ import __version__
from ._adapter import RunStoreAdapter, create_run_store_adapter
from ._driver import RunResultKind, SignalRejectedError, WorkflowRunResult
from ._host import (
    HostSweepError,
    HostSweepKwargs,
    HostSweepOptions,
    RuntimeOrFactory,
    resolve_runtime,
    run_host_sweep,
)
from ._host_asgi import HostSweepApp, create_host_sweep_asgi_app
from ._materialize import MaterializedWorkflowSchedule, materialize_workflow_schedules
from ._memory import (
    InMemoryWorkflowExecutionStore,
    bucket_run_id,
    in_memory_workflow_execution_store,
    timer_signal_id,
)
from ._models import (
    CancelRunResult,
    ClaimRunResult,
    CreateRunResult,
    DeliveryResult,
    LoadedExecution,
    OverlapPolicy,
    RunClaim,
    RunPage,
    RunSummary,
    RunTimeline,
    RunTransition,
    ScheduleBucket,
    ScheduleRecord,
    ScheduleSpec,
    StoredWorkflowEvent,
    TimerWakeup,
    WakeKind,
    WorkflowExecution,
    split_awaiting,
)
from ._registrations import UnknownWorkflowError, WorkflowCatalog, WorkflowRegistration
from ._resolutions import approval_resolution, same_decision, signal_resolution
from ._runtime import WorkflowRuntime, define_workflow_runtime, new_lease_owner
from ._schedules import WorkflowSchedule, cron, every, latest_due_bucket
from ._store import (
    RunNotFoundError,
    StoreSchemaError,
    SubscribableExecutionStore,
    WorkflowExecutionStore,
)
from ._sweep import SweepResult, SweepSummary
from ._validation import MAX_VALUE_BYTES, check_limit, check_run_id, check_storable

__all__ = [
    "MAX_VALUE_BYTES",
    "CancelRunResult",
    "ClaimRunResult",
    "CreateRunResult",
    "DeliveryResult",
    "HostSweepApp",
    "HostSweepError",
    "HostSweepKwargs",
    "HostSweepOptions",
    "InMemoryWorkflowExecutionStore",
    "LoadedExecution",
    "MaterializedWorkflowSchedule",
    "OverlapPolicy",
    "RunClaim",
    "RunNotFoundError",
    "RunPage",
    "RunResultKind",
    "RunStoreAdapter",
    "RunSummary",
    "RunTimeline",
    "RunTransition",
    "RuntimeOrFactory",
    "ScheduleBucket",
    "ScheduleRecord",
    "ScheduleSpec",
    "SignalRejectedError",
    "StoreSchemaError",
    "StoredWorkflowEvent",
    "SubscribableExecutionStore",
    "SweepResult",
    "SweepSummary",
    "TimerWakeup",
    "UnknownWorkflowError",
    "WakeKind",
    "WorkflowCatalog",
    "WorkflowExecution",
    "WorkflowExecutionStore",
    "WorkflowRegistration",
    "WorkflowRunResult",
    "WorkflowRuntime",
    "WorkflowSchedule",
    "__version__",
    "approval_resolution",
    "bucket_run_id",
    "check_limit",
    "check_run_id",
    "check_storable",
    "create_host_sweep_asgi_app",
    "create_run_store_adapter",
    "cron",
    "define_workflow_runtime",
    "every",
    "in_memory_workflow_execution_store",
    "latest_due_bucket",
    "materialize_workflow_schedules",
    "new_lease_owner",
    "resolve_runtime",
    "run_host_sweep",
    "same_decision",
    "signal_resolution",
    "split_awaiting",
    "timer_signal_id",
]
