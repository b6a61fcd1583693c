"""Choosing the workflow version a persisted run resumes on."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._definition import WorkflowDefinition
from ._errors import WorkflowDefinitionError
from ._run_store import RunStore

AnyWorkflow = WorkflowDefinition[Any, Any, Any]


async def select_workflow_version(
    versions: Iterable[AnyWorkflow], run_id: str, run_store: RunStore
) -> AnyWorkflow | None:
    """The definition among ``versions`` that started ``run_id`` (``None`` if none did)."""
    run = await run_store.get_run_state(run_id)
    if run is None:
        return None
    for candidate in versions:
        if candidate.id == run.workflow_id and candidate.version == run.workflow_version:
            return candidate
    return None


class WorkflowRegistry:
    """Workflow definitions addressable by ``(id, version)``."""

    def __init__(self, default: AnyWorkflow | None = None) -> None:
        self._entries: dict[tuple[str, str | None], AnyWorkflow] = {}
        self._default = default

    def add(self, workflow: AnyWorkflow) -> None:
        """Register ``workflow`` and its previous versions; a duplicate pair is an error."""
        for definition in workflow.all_versions():
            key = (definition.id, definition.version)
            if key in self._entries and self._entries[key] is not definition:
                raise WorkflowDefinitionError(
                    f"workflow {definition.id!r} version {definition.version!r} is already registered"
                )
            self._entries[key] = definition

    def get(self, workflow_id: str, version: str | None = None) -> AnyWorkflow | None:
        """The definition registered as ``(workflow_id, version)``."""
        return self._entries.get((workflow_id, version))

    async def for_run(self, run_id: str, run_store: RunStore) -> AnyWorkflow | None:
        """The definition a persisted run resumes on (or the registry's default)."""
        matched = await select_workflow_version(self._entries.values(), run_id, run_store)
        return matched or self._default

    def all(self) -> list[AnyWorkflow]:
        """Every registered definition, in registration order."""
        return list(self._entries.values())


def create_workflow_registry(
    workflows: Iterable[AnyWorkflow] = (), *, default: AnyWorkflow | None = None
) -> WorkflowRegistry:
    """A registry pre-filled with ``workflows`` (and their previous versions)."""
    registry = WorkflowRegistry(default)
    for workflow in workflows:
        registry.add(workflow)
    return registry
