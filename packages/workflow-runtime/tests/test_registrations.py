"""Registrations: every accepted form, lazy loading, ids and versioning."""

from __future__ import annotations

import types as pytypes
from typing import Any

import pytest
import runtime_sample_workflows as sample
from runtime_helpers import T0, runtime_for

from tanstack_workflow.core import WorkflowDefinitionError, create_workflow
from tanstack_workflow.runtime import (
    InMemoryWorkflowExecutionStore,
    WorkflowRegistration,
    WorkflowRuntime,
    every,
)


async def greet(runtime: WorkflowRuntime, run_id: str = "r") -> Any:
    result = await runtime.start_run(workflow_id="sample", run_id=run_id, input="ada", now=T0)
    assert result.kind == "completed", result
    assert result.run is not None
    return result.run.output


def module_with_default() -> pytypes.ModuleType:
    module = pytypes.ModuleType("with_default")
    module.default = sample.workflow  # type: ignore[attr-defined]
    return module


async def async_loader() -> Any:
    return sample.workflow


@pytest.mark.parametrize(
    "registration",
    [
        pytest.param(sample.workflow, id="bare-definition"),
        pytest.param(WorkflowRegistration(load=sample.workflow), id="typed"),
        pytest.param({"load": sample.workflow}, id="dict"),
        pytest.param(lambda: sample.workflow, id="sync-callable"),
        pytest.param(async_loader, id="async-callable"),
        pytest.param(sample, id="module-with-workflow"),
        pytest.param(module_with_default(), id="module-with-default"),
        pytest.param(sample.Holder(), id="object-with-default"),
        pytest.param("runtime_sample_workflows:workflow", id="import-string"),
        pytest.param("runtime_sample_workflows:Holder.default", id="dotted-import-string"),
        pytest.param({"load": "runtime_sample_workflows:build"}, id="import-string-factory"),
    ],
)
async def test_registration_forms(store: InMemoryWorkflowExecutionStore, registration: Any) -> None:
    runtime = runtime_for(store, {"sample": registration})
    assert await greet(runtime) == "hello ada"


async def test_loaders_run_lazily_and_once(store: InMemoryWorkflowExecutionStore) -> None:
    before = sample.LOADS["count"]
    runtime = runtime_for(store, {"sample": sample.build})
    assert sample.LOADS["count"] == before  # nothing loaded at definition time
    await greet(runtime, "a")
    await greet(runtime, "b")
    assert sample.LOADS["count"] == before + 1


async def test_full_dict_registration(store: InMemoryWorkflowExecutionStore) -> None:
    runtime = runtime_for(
        store,
        {
            "sample": {
                "load": sample.workflow,
                "version": "3",
                "previous_versions": {"2": sample.workflow},
                "schedules": [every.hours(1)],
            }
        },
    )
    registration = runtime.workflows["sample"]
    assert isinstance(registration, WorkflowRegistration)
    assert registration.version == "3"
    assert len(registration.schedules) == 1
    definition = await runtime.catalog.get("sample")
    assert definition.version == "3"
    assert [p.version for p in definition.previous_versions] == ["2"]
    result = await runtime.start_run(workflow_id="sample", run_id="r", input="x", now=T0)
    assert result.run is not None
    assert result.run.workflow_version == "3"


async def test_camel_case_previous_versions_key(store: InMemoryWorkflowExecutionStore) -> None:
    runtime = runtime_for(
        store,
        {"sample": {"load": sample.workflow, "previousVersions": {"0": sample.workflow}}},
    )
    definition = await runtime.catalog.get("sample")
    assert [p.version for p in definition.previous_versions] == ["0"]


def test_bad_registration_dicts_fail_at_definition(store: InMemoryWorkflowExecutionStore) -> None:
    with pytest.raises(WorkflowDefinitionError, match="needs 'load'"):
        runtime_for(store, {"sample": {"version": "1"}})
    with pytest.raises(WorkflowDefinitionError, match="unknown keys"):
        runtime_for(store, {"sample": {"load": sample.workflow, "verison": "1"}})


@pytest.mark.parametrize(
    ("loader", "message"),
    [
        ("runtime_sample_workflows", "import string"),
        ("no_such_module_anywhere:workflow", "cannot import"),
        ("runtime_sample_workflows:missing", "no attribute"),
        (lambda: 42, "did not produce a workflow definition"),
        (pytypes.ModuleType("empty"), "did not produce a workflow definition"),
    ],
)
async def test_bad_loaders_fail_on_first_use(
    store: InMemoryWorkflowExecutionStore, loader: Any, message: str
) -> None:
    runtime = runtime_for(store, {"sample": loader})  # lazy: no error yet
    with pytest.raises(WorkflowDefinitionError, match=message):
        await greet(runtime)
    assert await store.load_run("r") is None


async def test_id_mismatch_is_an_error(store: InMemoryWorkflowExecutionStore) -> None:
    runtime = runtime_for(store, {"other": sample.workflow})
    with pytest.raises(WorkflowDefinitionError, match="defines id 'sample'"):
        await runtime.start_run(workflow_id="other", run_id="r", input="x", now=T0)
    assert await store.load_run("r") is None


def versioned(version: str, answer: str):  # type: ignore[no-untyped-def]
    @create_workflow("versioned", version=version).handler
    async def handler(ctx):  # type: ignore[no-untyped-def]
        payload = await ctx.wait_for_event("go")
        return {"answer": answer, "payload": payload}

    return handler


async def test_paused_run_resumes_on_its_version(store: InMemoryWorkflowExecutionStore) -> None:
    v1 = versioned("1", "from v1")
    v2 = versioned("2", "from v2")
    old = runtime_for(store, {"versioned": {"load": v1, "version": "1"}})
    started = await old.start_run(workflow_id="versioned", run_id="old-run", now=T0)
    assert started.run is not None
    assert started.run.workflow_version == "1"

    new = runtime_for(
        store,
        {"versioned": {"load": v2, "version": "2", "previous_versions": {"1": lambda: v1}}},
    )
    resumed = await new.deliver_signal(
        run_id="old-run", signal_id="s", name="go", payload=7, now=T0 + 1
    )
    assert resumed.kind == "completed"
    assert resumed.run is not None
    assert resumed.run.output == {"answer": "from v1", "payload": 7}
    assert resumed.run.workflow_version == "1"

    fresh = await new.start_run(workflow_id="versioned", run_id="new-run", now=T0 + 2)
    assert fresh.run is not None
    assert fresh.run.workflow_version == "2"
    done = await new.deliver_signal(run_id="new-run", signal_id="s", name="go", now=T0 + 3)
    assert done.run is not None
    assert done.run.output["answer"] == "from v2"


async def test_missing_old_version_leaves_the_run_untouched(
    store: InMemoryWorkflowExecutionStore,
) -> None:
    v1 = versioned("1", "from v1")
    v2 = versioned("2", "from v2")
    old = runtime_for(store, {"versioned": v1})
    await old.start_run(workflow_id="versioned", run_id="r", now=T0)
    length = len(await store.read_events("r"))
    new = runtime_for(store, {"versioned": v2})
    result = await new.deliver_signal(run_id="r", signal_id="s", name="go", now=T0 + 1)
    assert result.kind == "errored"
    assert result.detail == "workflow_version_mismatch"
    run = await store.load_run("r")
    assert run is not None
    assert run.status == "paused"
    assert run.lease_owner is None
    assert len(await store.read_events("r")) == length
