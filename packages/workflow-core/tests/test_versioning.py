"""Versions: a paused run resumes on the code that started it."""

from __future__ import annotations

from typing import Any

import pytest
from workflow_core_helpers import collect, first

from tanstack_workflow.core import (
    ApprovalResult,
    InMemoryRunStore,
    WorkflowContext,
    WorkflowDefinition,
    WorkflowDefinitionError,
    create_workflow,
    run_workflow,
)

Ctx = WorkflowContext[Any, Any]


def gated(
    version: str | None, source: str, wid: str = "migrating"
) -> WorkflowDefinition[Any, Any, Any]:
    @create_workflow(wid, version=version).handler
    async def wf(ctx: Ctx) -> dict[str, str]:
        await ctx.approve(title="go?", id="gate")
        return {"source": source}

    return wf


async def approve(store: InMemoryRunStore, wf: Any) -> Any:
    return await collect(
        run_workflow(
            workflow=wf, run_store=store, run_id="r", approval=ApprovalResult(True, "r:gate")
        )
    )


async def test_new_runs_record_the_current_version(store: InMemoryRunStore) -> None:
    v1 = gated("v1", "v1")
    v2 = create_workflow("migrating", version="v2").previous_versions([v1]).handler(v1.handler)
    await run_workflow(workflow=v2, run_store=store, run_id="r").result()
    state = await store.get_run_state("r")
    assert state is not None
    assert (state.workflow_id, state.workflow_version) == ("migrating", "v2")


async def test_paused_run_resumes_on_its_previous_version(store: InMemoryRunStore) -> None:
    v1 = gated("v1", "v1")

    @create_workflow("migrating", version="v2").previous_versions([v1]).handler
    async def v2(ctx: Ctx) -> dict[str, str]:
        await ctx.step("new-step", lambda: 1)  # would be nondeterministic for v1 runs
        await ctx.approve(title="go?", id="gate")
        return {"source": "v2"}

    await run_workflow(workflow=v1, run_store=store, run_id="r").result()
    _, outcome = await approve(store, v2)
    assert outcome.kind == "finished"
    assert outcome.output == {"source": "v1"}


async def test_unknown_version_is_refused_and_the_run_is_unchanged(store: InMemoryRunStore) -> None:
    v1 = gated("v1", "v1")
    v2 = gated("v2", "v2")
    await run_workflow(workflow=v1, run_store=store, run_id="r").result()
    state_before = await store.get_run_state("r")
    log_before = list(await store.get_events("r"))

    events, outcome = await approve(store, v2)
    assert (outcome.kind, outcome.code, outcome.persisted) == (
        "errored",
        "workflow_version_mismatch",
        False,
    )
    errored = first(events, "RUN_ERRORED")
    assert errored.code == "workflow_version_mismatch"
    assert "'v1'" in errored.error.message
    assert "previous_versions" in errored.error.message
    assert await store.get_run_state("r") == state_before
    assert list(await store.get_events("r")) == log_before

    # the right code can still finish the run
    _, outcome = await approve(store, v1)
    assert outcome.output == {"source": "v1"}


async def test_versioned_run_does_not_fall_back_to_an_unversioned_definition(
    store: InMemoryRunStore,
) -> None:
    await run_workflow(workflow=gated("v1", "v1"), run_store=store, run_id="r").result()
    _, outcome = await approve(store, gated(None, "legacy"))
    assert outcome.code == "workflow_version_mismatch"


async def test_unversioned_run_resumes_on_the_current_definition(store: InMemoryRunStore) -> None:
    await run_workflow(workflow=gated(None, "legacy"), run_store=store, run_id="r").result()
    _, outcome = await approve(store, gated("v2", "v2"))
    assert outcome.output == {"source": "v2"}


async def test_unversioned_previous_version_is_preferred_for_unversioned_runs(
    store: InMemoryRunStore,
) -> None:
    legacy = gated(None, "legacy")
    current = (
        create_workflow("migrating", version="v2")
        .previous_versions([legacy])
        .handler(gated("v2", "v2").handler)
    )
    await run_workflow(workflow=legacy, run_store=store, run_id="r").result()
    _, outcome = await approve(store, current)
    assert outcome.output == {"source": "legacy"}


def test_for_version_and_all_versions() -> None:
    v1 = gated("v1", "v1")
    v2 = gated("v2", "v2")
    v3 = create_workflow("migrating", version="v3").previous_versions([v2, v1]).handler(v1.handler)
    assert v3.for_version("v3") is v3
    assert v3.for_version("v1") is v1
    assert v3.for_version("v9") is None
    assert v3.all_versions() == (v3, v2, v1)
    assert v3.previous_versions == (v2, v1)


@pytest.mark.parametrize(
    ("previous", "message"),
    [
        (lambda: [gated("v1", "x", wid="other")], "different id"),
        (lambda: [gated("v1", "x"), gated("v1", "y")], "twice"),
        (lambda: [gated("v2", "x")], "twice"),  # same as the current version
        (lambda: ["v1"], "not a workflow definition"),
    ],
)
def test_invalid_previous_versions(previous: Any, message: str) -> None:
    with pytest.raises(WorkflowDefinitionError, match=message):
        create_workflow("migrating", version="v2").previous_versions(previous())
