"""Workflow registrations: how a runtime finds (and lazily loads) its workflows."""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tanstack_workflow.core import WorkflowDefinition, WorkflowDefinitionError

from ._schedules import WorkflowSchedule, coerce_schedule

AnyWorkflow = WorkflowDefinition[Any, Any, Any]
WorkflowLoader = Any
"""A definition; a (sync or async) callable returning one; a module or object with a
``default`` or ``workflow`` attribute; or an import string ``"pkg.module:attr"``."""


class UnknownWorkflowError(WorkflowDefinitionError, LookupError):
    """No workflow is registered under that id."""


@dataclass(frozen=True)
class WorkflowRegistration:
    """How a runtime loads one workflow id, its older versions and its schedules."""

    load: WorkflowLoader
    version: str | None = None
    previous_versions: Mapping[str, WorkflowLoader] = field(default_factory=dict)
    schedules: Sequence[WorkflowSchedule] = ()


def coerce_registration(workflow_id: str, value: Any) -> WorkflowRegistration:
    """Accept a ``WorkflowRegistration``, a plain dict of its fields, or a bare loader."""
    if isinstance(value, WorkflowRegistration):
        registration = value
    elif isinstance(value, Mapping):
        data = dict(value)
        if "previousVersions" in data:
            data["previous_versions"] = data.pop("previousVersions")
        unknown = set(data) - {f.name for f in dataclasses.fields(WorkflowRegistration)}
        if unknown:
            raise WorkflowDefinitionError(
                f"registration {workflow_id!r} has unknown keys {sorted(unknown)}"
            )
        if "load" not in data:
            raise WorkflowDefinitionError(f"registration {workflow_id!r} needs 'load'")
        registration = WorkflowRegistration(**data)
    else:
        registration = WorkflowRegistration(load=value)
    schedules = tuple(coerce_schedule(s) for s in registration.schedules)
    return dataclasses.replace(registration, schedules=schedules)


async def _resolve(loader: WorkflowLoader, label: str) -> AnyWorkflow:
    value = loader
    if isinstance(value, str):
        module_name, _, attr = value.partition(":")
        if not module_name or not attr:
            raise WorkflowDefinitionError(
                f"{label}: import string must look like 'pkg.module:attr', not {value!r}"
            )
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise WorkflowDefinitionError(f"{label}: cannot import {module_name!r}: {exc}") from exc
        try:
            for part in attr.split("."):
                module = getattr(module, part)
        except AttributeError as exc:
            raise WorkflowDefinitionError(f"{label}: {value!r} has no attribute {attr!r}") from exc
        value = module
    if (
        not isinstance(value, WorkflowDefinition)
        and callable(value)
        and not inspect.ismodule(value)
    ):
        value = value()
        if inspect.isawaitable(value):
            value = await value
    if not isinstance(value, WorkflowDefinition):
        for attr in ("default", "workflow"):
            candidate = getattr(value, attr, None)
            if isinstance(candidate, WorkflowDefinition):
                value = candidate
                break
    if not isinstance(value, WorkflowDefinition):
        raise WorkflowDefinitionError(
            f"{label}: loader did not produce a workflow definition (got {value!r})"
        )
    return value


class WorkflowCatalog:
    """Resolves registrations to definitions once, lazily, and caches them."""

    def __init__(self, registrations: Mapping[str, Any]) -> None:
        self.registrations = {
            wid: coerce_registration(wid, reg) for wid, reg in registrations.items()
        }
        self._loaded: dict[str, AnyWorkflow] = {}
        self._lock = asyncio.Lock()

    def ids(self) -> list[str]:
        """Registered workflow ids."""
        return list(self.registrations)

    async def get(self, workflow_id: str) -> AnyWorkflow:
        """The current definition (with previous versions attached) for ``workflow_id``."""
        cached = self._loaded.get(workflow_id)
        if cached is not None:
            return cached
        registration = self.registrations.get(workflow_id)
        if registration is None:
            known = ", ".join(sorted(self.registrations)) or "none"
            raise UnknownWorkflowError(
                f"workflow {workflow_id!r} is not registered (registered: {known})"
            )
        async with self._lock:
            if workflow_id in self._loaded:
                return self._loaded[workflow_id]
            definition = await _resolve(registration.load, f"workflow {workflow_id!r}")
            if definition.id != workflow_id:
                raise WorkflowDefinitionError(
                    f"workflow registered as {workflow_id!r} defines id {definition.id!r}; use the same id"
                )
            previous = list(definition.previous_versions)
            for version, loader in registration.previous_versions.items():
                older = await _resolve(loader, f"workflow {workflow_id!r} version {version!r}")
                previous.append(dataclasses.replace(older, version=version))
            definition = dataclasses.replace(
                definition,
                version=registration.version or definition.version,
                previous_versions=tuple(previous),
            )
            self._loaded[workflow_id] = definition
            return definition
