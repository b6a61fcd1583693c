"""The public surface of tanstack_workflow.core: changing it must be deliberate."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import tanstack_workflow
import tanstack_workflow.core as core

EXPECTED_ALL = [
    "ApprovalAwaitable",
    "ApprovalRequested",
    "ApprovalResolved",
    "ApprovalResult",
    "ApprovalTimeoutError",
    "CHECKPOINT_TYPES",
    "COORDINATION_TYPES",
    "CancellationSignal",
    "Clock",
    "CustomEvent",
    "DeleteReason",
    "EMIT_ONLY_TYPES",
    "InMemoryRunStore",
    "LogConflictError",
    "Middleware",
    "NondeterminismError",
    "NowRecorded",
    "PERSISTED_TYPES",
    "PendingApproval",
    "Publish",
    "RetryPolicy",
    "RunAwaitable",
    "RunErrored",
    "RunFinished",
    "RunStarted",
    "RunState",
    "RunStatus",
    "RunStore",
    "RuntimeBudget",
    "SerializedError",
    "SignalAwaitable",
    "SignalAwaited",
    "SignalDelivery",
    "SignalResolved",
    "StateDelta",
    "StepAttempt",
    "StepContext",
    "StepFailed",
    "StepFailedError",
    "StepFinished",
    "StepStarted",
    "StepTimeoutError",
    "SubscribableRunStore",
    "SuspendedWorkflow",
    "TIMER_SIGNAL",
    "TransitionRunStore",
    "UuidRecorded",
    "WaitTimeoutError",
    "WaitingFor",
    "WireModel",
    "WorkflowBuilder",
    "WorkflowCancelled",
    "WorkflowContext",
    "WorkflowDefinition",
    "WorkflowDefinitionError",
    "WorkflowError",
    "WorkflowEvent",
    "WorkflowInterrupt",
    "WorkflowOutcome",
    "WorkflowPaused",
    "WorkflowRegistry",
    "WorkflowRequest",
    "WorkflowRequestParseError",
    "WorkflowRun",
    "WorkflowRuntime",
    "WorkflowValidationError",
    "__version__",
    "apply_patch",
    "create_middleware",
    "create_workflow",
    "create_workflow_registry",
    "diff_state",
    "drive_workflow",
    "event_to_json",
    "event_to_wire",
    "fail",
    "handle_workflow_webhook",
    "in_memory_run_store",
    "new_run_id",
    "parse_event",
    "parse_workflow_request",
    "resume_workflow",
    "run_workflow",
    "select_workflow_version",
    "succeed",
    "system_clock",
    "validate_input",
]


def test_all_is_pinned() -> None:
    # Update EXPECTED_ALL (and the changelog) when the public API changes on purpose.
    # (ruff's RUF022 keeps __all__ itself in isort order: constants, classes, functions.)
    assert sorted(core.__all__) == EXPECTED_ALL
    assert len(set(core.__all__)) == len(core.__all__)


def test_every_exported_name_exists() -> None:
    for name in core.__all__:
        assert hasattr(core, name), name


def test_public_objects_come_from_private_modules() -> None:
    for name in core.__all__:
        module = getattr(getattr(core, name), "__module__", None)
        if isinstance(module, str) and module.startswith("tanstack_workflow.core."):
            assert module.split(".")[-1].startswith("_"), (name, module)


def test_tanstack_workflow_is_a_namespace_package() -> None:
    assert getattr(tanstack_workflow, "__file__", None) is None
    for location in tanstack_workflow.__path__:
        assert not (Path(location) / "__init__.py").exists()
    spec = importlib.util.find_spec("tanstack_workflow")
    assert spec is not None
    assert spec.origin in (None, "namespace")


def test_package_ships_type_information_and_a_version() -> None:
    package_dir = Path(core.__file__).parent
    assert (package_dir / "py.typed").is_file()
    assert re.fullmatch(r"\d+\.\d+\.\d+([a-z]+\d+)?", core.__version__)
