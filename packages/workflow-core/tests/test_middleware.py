"""Middleware: typed ctx extensions, ordering and misuse."""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

import pytest
import typing_extensions
from pydantic import BaseModel
from typing_extensions import TypedDict

from tanstack_workflow.core import (
    ApprovalResult,
    InMemoryRunStore,
    Middleware,
    WorkflowContext,
    WorkflowDefinitionError,
    create_middleware,
    create_workflow,
    run_workflow,
)
from tanstack_workflow.core._middleware import NextFn

Ctx = WorkflowContext[Any, Any]


class UserFields(TypedDict):
    user: dict[str, str]


@dataclasses.dataclass
class TenantFields:
    tenant: str
    region: str = "eu"


class FlagFields(BaseModel):
    flags: list[str]


async def test_middleware_fields_are_readable_as_ctx_attributes(store: InMemoryRunStore) -> None:
    async def require_user(ctx: Ctx, next: NextFn) -> Any:
        return await next(user={"id": "u-1", "name": "Alice"})

    auth = create_middleware(UserFields).server(require_user)

    @create_workflow("mw-extends").middleware([auth]).handler
    async def wf(ctx: Ctx) -> dict[str, str]:
        return {"user_id": ctx.user["id"], "user_name": ctx.user["name"]}

    outcome = await run_workflow(workflow=wf, run_store=store).result()
    assert outcome.output == {"user_id": "u-1", "user_name": "Alice"}


async def test_middlewares_compose_in_order(store: InMemoryRunStore) -> None:
    async def add_a(ctx: Ctx, next: NextFn) -> Any:
        return await next(a=1)

    async def add_b(ctx: Ctx, next: NextFn) -> Any:
        return await next(b=ctx.a + 10)

    m1 = create_middleware(["a"]).server(add_a)
    m2 = create_middleware(["b"]).server(add_b)

    @create_workflow("mw-chain").middleware([m1]).middleware([m2]).handler
    async def wf(ctx: Ctx) -> int:
        return int(ctx.a + ctx.b)

    outcome = await run_workflow(workflow=wf, run_store=store).result()
    assert outcome.output == 12


async def test_middleware_wraps_the_handler(store: InMemoryRunStore) -> None:
    calls: list[str] = []

    def tracer(name: str) -> Middleware[Any]:
        async def trace(ctx: Ctx, next: NextFn) -> Any:
            calls.append(f"{name}-before")
            result = await next()
            calls.append(f"{name}-after")
            return result

        return create_middleware().server(trace)

    @create_workflow("mw-wrap").middleware([tracer("outer"), tracer("inner")]).handler
    async def wf(ctx: Ctx) -> None:
        calls.append("handler")

    await run_workflow(workflow=wf, run_store=store).result()
    assert calls == ["outer-before", "inner-before", "handler", "inner-after", "outer-after"]


async def test_middleware_runs_on_every_invocation(store: InMemoryRunStore) -> None:
    invocations = 0

    async def count(ctx: Ctx, next: NextFn) -> Any:
        nonlocal invocations
        invocations += 1
        return await next()

    @create_workflow("mw-replay").middleware([create_middleware().server(count)]).handler
    async def wf(ctx: Ctx) -> None:
        await ctx.approve(title="go?", id="gate")

    await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    await run_workflow(
        workflow=wf, run_store=store, run_id="r", approval=ApprovalResult(True, "r:gate")
    ).result()
    assert invocations == 2


async def test_calling_next_twice_errors_the_run(store: InMemoryRunStore) -> None:
    async def broken(ctx: Ctx, next: NextFn) -> Any:
        await next()
        return await next()

    @create_workflow("mw-broken").middleware([create_middleware().server(broken)]).handler
    async def wf(ctx: Ctx) -> None:
        return None

    outcome = await run_workflow(workflow=wf, run_store=store).result()
    assert outcome.kind == "errored"
    assert outcome.error is not None
    assert outcome.error.name == "WorkflowDefinitionError"
    assert "called next() more than once" in outcome.error.message


async def test_not_calling_next_errors_the_run(store: InMemoryRunStore) -> None:
    async def forgetful(ctx: Ctx, next: NextFn) -> Any:
        return None

    @create_workflow("mw-forgetful").middleware([create_middleware().server(forgetful)]).handler
    async def wf(ctx: Ctx) -> None:
        return None

    outcome = await run_workflow(workflow=wf, run_store=store).result()
    assert outcome.error is not None
    assert "returned without calling next()" in outcome.error.message


@pytest.mark.parametrize("reserved", ["step", "run_id", "state", "input", "approve", "emit"])
def test_provides_shadowing_a_reserved_field_fails_at_definition_time(reserved: str) -> None:
    shadowing_typeddict = TypedDict("Shadowing", {reserved: int})  # type: ignore[misc]
    with pytest.raises(WorkflowDefinitionError, match=reserved):
        create_middleware(shadowing_typeddict)
    shadowing_dataclass = dataclasses.make_dataclass("Shadowing", [(reserved, int)])
    with pytest.raises(WorkflowDefinitionError, match=reserved):
        create_middleware(shadowing_dataclass)
    with pytest.raises(WorkflowDefinitionError, match=reserved):
        create_middleware([reserved])


def test_private_field_names_are_rejected() -> None:
    with pytest.raises(WorkflowDefinitionError, match="_secret"):
        create_middleware(["_secret"])


def test_provides_must_describe_fields() -> None:
    with pytest.raises(WorkflowDefinitionError, match="provides"):
        create_middleware(42)  # type: ignore[arg-type]


async def test_adding_a_reserved_field_at_runtime_errors_the_run(store: InMemoryRunStore) -> None:
    async def sneaky(ctx: Ctx, next: NextFn) -> Any:
        return await next(step="gotcha")

    @create_workflow("mw-sneaky").middleware([create_middleware().server(sneaky)]).handler
    async def wf(ctx: Ctx) -> None:
        return None

    outcome = await run_workflow(workflow=wf, run_store=store).result()
    assert outcome.error is not None
    assert "reserved ctx field(s): step" in outcome.error.message


async def test_adding_an_undeclared_field_errors_the_run(store: InMemoryRunStore) -> None:
    async def extra(ctx: Ctx, next: NextFn) -> Any:
        return await next(tenant="acme", extra=1)

    mw = create_middleware(TenantFields).server(extra)

    @create_workflow("mw-extra").middleware([mw]).handler
    async def wf(ctx: Ctx) -> None:
        return None

    outcome = await run_workflow(workflow=wf, run_store=store).result()
    assert outcome.error is not None
    assert "undeclared field(s) ['extra']" in outcome.error.message


@pytest.mark.parametrize(
    ("provides", "fields", "expected"),
    [
        (TenantFields, {"tenant": "acme", "region": "us"}, TenantFields("acme", "us")),
        (FlagFields, {"flags": ["beta"]}, FlagFields(flags=["beta"])),
        (UserFields, {"user": {"id": "u"}}, {"user": {"id": "u"}}),
        (["a", "b"], {"a": 1, "b": 2}, {"a": 1, "b": 2}),
    ],
)
async def test_context_returns_a_typed_view(
    store: InMemoryRunStore, provides: Any, fields: dict[str, Any], expected: Any
) -> None:
    async def provide(ctx: Ctx, next: NextFn) -> Any:
        return await next(**fields)

    mw = create_middleware(provides).server(provide)
    views: list[Any] = []

    @create_workflow("mw-view").middleware([mw]).handler
    async def wf(ctx: Ctx) -> None:
        views.append(mw.context(ctx))

    outcome = await run_workflow(workflow=wf, run_store=store).result()
    assert outcome.kind == "finished", outcome.error
    assert views == [expected]


async def test_context_without_provides_is_an_error(store: InMemoryRunStore) -> None:
    async def provide(ctx: Ctx, next: NextFn) -> Any:
        return await next(x=1)

    mw = create_middleware().server(provide)

    @create_workflow("mw-no-provides").middleware([mw]).handler
    async def wf(ctx: Ctx) -> None:
        mw.context(ctx)

    outcome = await run_workflow(workflow=wf, run_store=store).result()
    assert outcome.error is not None
    assert "declared no provides" in outcome.error.message


async def test_missing_ctx_attribute_names_the_field(store: InMemoryRunStore) -> None:
    @create_workflow("mw-missing").handler
    async def wf(ctx: Ctx) -> None:
        _ = ctx.user

    outcome = await run_workflow(workflow=wf, run_store=store).result()
    assert outcome.error is not None
    assert outcome.error.name == "AttributeError"
    assert "ctx has no field 'user'" in outcome.error.message


def test_server_needs_an_async_function() -> None:
    with pytest.raises(WorkflowDefinitionError, match="async"):
        create_middleware().server(lambda ctx, next: None)  # type: ignore[arg-type,return-value]


def test_workflow_middleware_list_takes_only_middlewares() -> None:
    with pytest.raises(WorkflowDefinitionError, match="not a middleware"):
        create_workflow("w").middleware([lambda ctx, next: None])  # type: ignore[list-item]


class PlainWho(typing.TypedDict):
    who: str


class ExtendedWho(typing_extensions.TypedDict):
    who: str


def test_provides_accepts_both_typeddict_flavours() -> None:
    # Regression: typing_extensions.TypedDict (needed by pydantic on 3.11) was rejected.
    for provides in (PlainWho, ExtendedWho):
        assert create_middleware(provides).server(_noop).fields == ("who",)


async def _noop(ctx: Ctx, next: NextFn) -> Any:
    return await next()


async def test_primitives_called_from_middleware_are_recorded_and_replayed(
    store: InMemoryRunStore,
) -> None:
    async def stamp(ctx: Ctx, next: NextFn) -> Any:
        return await next(started_at=await ctx.now(id="mw-started"))

    mw = create_middleware(["started_at"]).server(stamp)
    seen: list[int] = []

    @create_workflow("mw-primitive").middleware([mw]).handler
    async def wf(ctx: Ctx) -> None:
        seen.append(ctx.started_at)
        await ctx.approve(title="go?", id="gate")

    await run_workflow(workflow=wf, run_store=store, run_id="r").result()
    outcome = await run_workflow(
        workflow=wf, run_store=store, run_id="r", approval=ApprovalResult(True, "r:gate")
    ).result()
    assert outcome.kind == "finished"
    assert len(seen) == 2
    assert seen[0] == seen[1]
    log = await store.get_events("r")
    assert log[0].type == "NOW_RECORDED"
