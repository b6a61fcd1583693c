"""Workflow registries and version selection for persisted runs."""

from __future__ import annotations

from typing import Any

import pytest

from tanstack_workflow.core import (
    InMemoryRunStore,
    WorkflowContext,
    WorkflowDefinition,
    WorkflowDefinitionError,
    create_workflow,
    create_workflow_registry,
    run_workflow,
    select_workflow_version,
)


def make(version: str | None, wid: str = "pipeline") -> WorkflowDefinition[Any, Any, Any]:
    @create_workflow(wid, version=version).handler
    async def wf(ctx: WorkflowContext[Any, Any]) -> None:
        await ctx.approve(title="go?")

    return wf


async def start(store: InMemoryRunStore, wf: Any) -> str:
    outcome = await run_workflow(workflow=wf, run_store=store).result()
    return outcome.run_id


async def test_select_workflow_version_matches_the_persisted_version(
    store: InMemoryRunStore,
) -> None:
    v1, v2 = make("v1"), make("v2")
    run_id = await start(store, v1)
    assert await select_workflow_version([v2, v1], run_id, store) is v1


async def test_select_workflow_version_returns_none_without_a_match(
    store: InMemoryRunStore,
) -> None:
    run_id = await start(store, make("v1"))
    assert await select_workflow_version([], run_id, store) is None
    assert await select_workflow_version([make(None)], run_id, store) is None
    assert await select_workflow_version([make("v1", wid="other")], run_id, store) is None
    assert await select_workflow_version([make("v1")], "no-such-run", store) is None


def test_duplicate_id_and_version_is_rejected() -> None:
    registry = create_workflow_registry()
    registry.add(make("v1"))
    with pytest.raises(WorkflowDefinitionError, match="already registered"):
        registry.add(make("v1"))


def test_registering_the_same_definition_twice_is_fine() -> None:
    v1 = make("v1")
    registry = create_workflow_registry([v1])
    registry.add(v1)
    assert registry.all() == [v1]


def test_previous_versions_are_registered_too() -> None:
    v1 = make("v1")
    v2 = create_workflow("pipeline", version="v2").previous_versions([v1]).handler(v1.handler)
    registry = create_workflow_registry([v2, make("v1", wid="other")])
    assert registry.get("pipeline", "v2") is v2
    assert registry.get("pipeline", "v1") is v1
    assert registry.get("pipeline", "v3") is None
    assert registry.get("other", "v1") is not None
    assert [(w.id, w.version) for w in registry.all()] == [
        ("pipeline", "v2"),
        ("pipeline", "v1"),
        ("other", "v1"),
    ]


async def test_for_run_routes_back_to_the_starting_version(store: InMemoryRunStore) -> None:
    v1, v2 = make("v1"), make("v2")
    registry = create_workflow_registry([v1, v2], default=v2)
    run_id = await start(store, v1)
    assert await registry.for_run(run_id, store) is v1


async def test_for_run_falls_back_to_the_default(store: InMemoryRunStore) -> None:
    v1, v3 = make("v1"), make("v3")
    run_id = await start(store, v1)
    with_default = create_workflow_registry([v3], default=v3)
    assert await with_default.for_run(run_id, store) is v3
    without_default = create_workflow_registry([v3])
    assert await without_default.for_run(run_id, store) is None
