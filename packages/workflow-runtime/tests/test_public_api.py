"""The public surface of tanstack_workflow.runtime: changing it must be deliberate."""

from __future__ import annotations

import re
from pathlib import Path

import tanstack_workflow.runtime as runtime

EXPECTED_ALL = [
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
    "MAX_VALUE_BYTES",
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


def test_all_is_pinned() -> None:
    # Update EXPECTED_ALL (and the changelog) when the public API changes on purpose.
    # (ruff's RUF022 keeps __all__ itself in isort order: constants, classes, functions.)
    assert sorted(runtime.__all__) == EXPECTED_ALL
    assert len(set(runtime.__all__)) == len(runtime.__all__)


def test_every_exported_name_exists() -> None:
    for name in runtime.__all__:
        assert hasattr(runtime, name), name


def test_public_objects_come_from_private_modules() -> None:
    for name in runtime.__all__:
        module = getattr(getattr(runtime, name), "__module__", None)
        if isinstance(module, str) and module.startswith("tanstack_workflow.runtime."):
            assert module.split(".")[-1].startswith("_"), (name, module)


def test_package_ships_type_information_and_a_version() -> None:
    package_dir = Path(runtime.__file__).parent
    assert (package_dir / "py.typed").is_file()
    assert re.fullmatch(r"\d+\.\d+\.\d+([a-z]+\d+)?", runtime.__version__)
