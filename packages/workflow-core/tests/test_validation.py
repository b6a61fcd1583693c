"""Typed input, output and state: validation at the edges."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from pydantic import BaseModel
from typing_extensions import TypedDict  # pydantic needs this one on Python < 3.12
from workflow_core_helpers import collect, first, types

from tanstack_workflow.core import (
    ApprovalResult,
    InMemoryRunStore,
    WorkflowContext,
    WorkflowDefinitionError,
    WorkflowValidationError,
    create_workflow,
    run_workflow,
)


class CountModel(BaseModel):
    count: int = 1


class CountDict(TypedDict):
    count: int


@dataclasses.dataclass
class CountData:
    count: int = 1


async def test_invalid_input_raises_at_call_time_and_creates_nothing(
    store: InMemoryRunStore,
) -> None:
    ran = False

    @create_workflow("input-validation", input=CountModel).handler
    async def wf(ctx: WorkflowContext[CountModel, Any]) -> None:
        nonlocal ran
        ran = True

    with pytest.raises(WorkflowValidationError) as info:
        run_workflow(workflow=wf, run_store=store, input={"count": "not-a-number"}, run_id="r")
    assert "workflow 'input-validation' input failed validation" in str(info.value)
    assert "count" in str(info.value)
    assert info.value.errors[0]["loc"] == ("count",)
    assert not ran
    assert await store.get_run_state("r") is None
    assert await store.get_events("r") == []


@pytest.mark.parametrize("input_type", [CountModel, CountDict, CountData, dict[str, int]])
async def test_input_types(store: InMemoryRunStore, input_type: Any) -> None:
    seen: list[Any] = []

    @create_workflow("typed-input", input=input_type).handler
    async def wf(ctx: WorkflowContext[Any, Any]) -> None:
        seen.append(ctx.input)
        await ctx.approve(title="go?", id="gate")

    await run_workflow(workflow=wf, run_store=store, input={"count": "3"}, run_id="r").result()
    state = await store.get_run_state("r")
    assert state is not None
    assert state.input == {"count": 3}  # stored as validated JSON
    await run_workflow(
        workflow=wf, run_store=store, run_id="r", approval=ApprovalResult(True, "r:gate")
    ).result()
    expected = input_type(count=3) if input_type in (CountModel, CountData) else {"count": 3}
    assert seen == [expected, expected]
    assert type(seen[0]) is type(seen[1])


@pytest.mark.parametrize("input_type", [CountModel, CountDict, CountData, dict[str, int]])
def test_invalid_input_for_each_type(store: InMemoryRunStore, input_type: Any) -> None:
    @create_workflow("typed-input", input=input_type).handler
    async def wf(ctx: WorkflowContext[Any, Any]) -> None:
        return None

    with pytest.raises(WorkflowValidationError):
        run_workflow(workflow=wf, run_store=store, input={"count": "many"})


async def test_input_defaults_are_applied(store: InMemoryRunStore) -> None:
    @create_workflow("input-default", input=CountModel).handler
    async def wf(ctx: WorkflowContext[CountModel, Any]) -> int:
        return ctx.input.count

    outcome = await run_workflow(workflow=wf, run_store=store, input={}).result()
    assert outcome.output == 1


async def test_model_instances_are_accepted_as_input(store: InMemoryRunStore) -> None:
    @create_workflow("input-instance", input=CountModel).handler
    async def wf(ctx: WorkflowContext[CountModel, Any]) -> int:
        return ctx.input.count * 2

    outcome = await run_workflow(workflow=wf, run_store=store, input=CountModel(count=4)).result()
    assert outcome.output == 8


async def test_undeclared_input_must_still_be_json(store: InMemoryRunStore) -> None:
    @create_workflow("any-input").handler
    async def wf(ctx: WorkflowContext[Any, Any]) -> Any:
        return ctx.input

    with pytest.raises(WorkflowValidationError):
        run_workflow(workflow=wf, run_store=store, input={"x": object()})
    outcome = await run_workflow(workflow=wf, run_store=store, input={"x": (1, 2)}).result()
    assert outcome.output == {"x": [1, 2]}


@pytest.mark.parametrize("output_type", [CountModel, CountDict, CountData, dict[str, int]])
async def test_output_types(store: InMemoryRunStore, output_type: Any) -> None:
    @create_workflow("typed-output", output=output_type).handler
    async def wf(ctx: WorkflowContext[Any, Any]) -> Any:
        return {"count": "5"}

    outcome = await run_workflow(workflow=wf, run_store=store).result()
    assert outcome.kind == "finished"
    assert outcome.output == {"count": 5}


async def test_invalid_output_errors_the_run(store: InMemoryRunStore) -> None:
    @create_workflow("output-validation", output=CountModel).handler
    async def wf(ctx: WorkflowContext[Any, Any]) -> Any:
        return {"count": "nope"}

    events, outcome = await collect(run_workflow(workflow=wf, run_store=store))
    assert "RUN_FINISHED" not in types(events)
    errored = first(events, "RUN_ERRORED")
    assert errored.code == "validation_error"
    assert "workflow 'output-validation' output failed validation" in errored.error.message
    assert outcome.code == "validation_error"
    state = await store.get_run_state(outcome.run_id)
    assert state is not None
    assert state.status == "errored"


@pytest.mark.parametrize("state_type", [CountModel, CountDict, CountData, dict[str, int]])
async def test_state_types(store: InMemoryRunStore, state_type: Any) -> None:
    def bump(state: Any) -> None:
        if isinstance(state, dict):
            state["count"] = state.get("count", 1) + 1
        else:
            state.count += 1

    def read(state: Any) -> int:
        return int(state["count"] if isinstance(state, dict) else state.count)

    @create_workflow(
        "typed-state", state=state_type, initial_state=lambda _input: {"count": 1}
    ).handler
    async def wf(ctx: WorkflowContext[Any, Any]) -> int:
        bump(ctx.state)
        await ctx.step("s", lambda: None)
        bump(ctx.state)
        return read(ctx.state)

    events, outcome = await collect(run_workflow(workflow=wf, run_store=store))
    assert outcome.output == 3
    deltas = [e.delta for e in events if e.type == "STATE_DELTA"]
    assert deltas == [
        [{"op": "replace", "path": "/count", "value": 2}],
        [{"op": "replace", "path": "/count", "value": 3}],
    ]


async def test_state_defaults_to_the_state_type_built_from_an_empty_dict(
    store: InMemoryRunStore,
) -> None:
    @create_workflow("default-state", state=CountModel).handler
    async def wf(ctx: WorkflowContext[Any, CountModel]) -> int:
        return ctx.state.count

    outcome = await run_workflow(workflow=wf, run_store=store).result()
    assert outcome.output == 1


async def test_untyped_state_defaults_to_an_empty_dict(store: InMemoryRunStore) -> None:
    @create_workflow("untyped-state").handler
    async def wf(ctx: WorkflowContext[Any, Any]) -> Any:
        return ctx.state

    outcome = await run_workflow(workflow=wf, run_store=store).result()
    assert outcome.output == {}


async def test_invalid_initial_state_is_raised_before_the_run_exists(
    store: InMemoryRunStore,
) -> None:
    @create_workflow(
        "bad-initial", state=CountModel, initial_state=lambda _i: {"count": "x"}
    ).handler
    async def wf(ctx: WorkflowContext[Any, Any]) -> None:
        return None

    with pytest.raises(WorkflowValidationError, match="state"):
        await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    assert await store.get_run_state("r") is None


async def test_state_that_stops_fitting_its_type_errors_the_run(store: InMemoryRunStore) -> None:
    @create_workflow("broken-state", state=dict[str, int]).handler
    async def wf(ctx: WorkflowContext[Any, dict[str, Any]]) -> None:
        ctx.state["count"] = "not an int"
        await ctx.step("s", lambda: None)

    outcome = await run_workflow(workflow=wf, run_store=store).result()
    assert outcome.code == "validation_error"
    assert outcome.error is not None
    assert "state" in outcome.error.message


def test_handler_must_be_async() -> None:
    with pytest.raises(WorkflowDefinitionError, match="async"):
        create_workflow("sync").handler(lambda ctx: None)  # type: ignore[arg-type,return-value]


@pytest.mark.parametrize(
    "make",
    [
        lambda: create_workflow(""),
        lambda: create_workflow("   "),
        lambda: create_workflow("w", version=""),
        lambda: create_workflow("w", input=object()),
    ],
)
def test_invalid_definitions(make: Any) -> None:
    with pytest.raises(WorkflowDefinitionError):
        make()


def test_definition_is_a_decorator_and_keeps_its_settings() -> None:
    @create_workflow("decorated", version="2", description="does things", input=CountModel).handler
    async def wf(ctx: WorkflowContext[CountModel, Any]) -> None:
        return None

    assert (wf.id, wf.version, wf.description) == ("decorated", "2", "does things")
    assert wf.input_type is CountModel
    assert wf.input_adapter is not None
    assert wf.output_adapter is None
    assert repr(wf) == "<WorkflowDefinition id='decorated' version='2'>"
