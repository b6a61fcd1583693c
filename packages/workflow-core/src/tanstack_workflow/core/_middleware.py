"""Middleware: code that runs around the handler and adds typed fields to ``ctx``."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, Protocol, TypeVar, cast, overload

from pydantic import BaseModel

from ._context import RESERVED_CTX_FIELDS, WorkflowContext
from ._errors import WorkflowDefinitionError

ExtT = TypeVar("ExtT")


class NextFn(Protocol):
    """``next(**fields)``: continue the chain with ``fields`` added to ``ctx``."""

    def __call__(self, **fields: Any) -> Awaitable[Any]: ...


MiddlewareFn = Callable[[WorkflowContext[Any, Any], NextFn], Awaitable[Any]]


def _is_typeddict(tp: Any) -> bool:
    # typing.is_typeddict misses typing_extensions.TypedDict on Python < 3.12, which is
    # the TypedDict pydantic requires there; both kinds are dicts with ``__total__``.
    return isinstance(tp, type) and issubclass(tp, dict) and hasattr(tp, "__total__")


def _declared_fields(provides: Any) -> tuple[str, ...] | None:
    if provides is None:
        return None
    if isinstance(provides, str):
        return (provides,)
    if isinstance(provides, type) and issubclass(provides, BaseModel):
        return tuple(provides.model_fields)
    if dataclasses.is_dataclass(provides) and isinstance(provides, type):
        return tuple(f.name for f in dataclasses.fields(provides))
    if _is_typeddict(provides):
        return tuple(provides.__annotations__)
    if isinstance(provides, Sequence) and all(isinstance(p, str) for p in provides):
        return tuple(provides)
    raise WorkflowDefinitionError(
        "create_middleware(provides=...) takes a TypedDict, dataclass, pydantic model "
        "or a sequence of field names"
    )


def check_extension_fields(names: Sequence[str], where: str) -> None:
    """Raise ``WorkflowDefinitionError`` if any name shadows a reserved ctx field."""
    clash = sorted(set(names) & RESERVED_CTX_FIELDS)
    if clash:
        raise WorkflowDefinitionError(
            f"{where} may not shadow reserved ctx field(s): {', '.join(clash)}. "
            "Rename the field(s)."
        )
    private = sorted(n for n in names if n.startswith("_"))
    if private:
        raise WorkflowDefinitionError(f"{where} field names must not start with '_': {private}")


class Middleware(Generic[ExtT]):
    """A defined middleware. Build one with ``create_middleware().server(fn)``."""

    def __init__(self, fn: MiddlewareFn, provides: Any, fields: tuple[str, ...] | None) -> None:
        self.fn = fn
        self.provides = provides
        self.fields = fields
        self.name = getattr(fn, "__qualname__", repr(fn))

    def context(self, ctx: WorkflowContext[Any, Any]) -> ExtT:
        """The fields this middleware added to ``ctx``, as its declared ``provides`` type."""
        if self.fields is None:
            raise WorkflowDefinitionError(
                f"middleware {self.name} declared no provides=...; read fields as ctx attributes"
            )
        values = {name: getattr(ctx, name) for name in self.fields if name in ctx._extensions}
        provides = self.provides
        if isinstance(provides, type) and (
            issubclass(provides, BaseModel) or dataclasses.is_dataclass(provides)
        ):
            return cast(ExtT, provides(**values))
        return cast(ExtT, values)


class MiddlewareBuilder(Generic[ExtT]):
    """Returned by ``create_middleware``; finish it with ``.server(fn)``."""

    def __init__(self, provides: Any) -> None:
        self._provides = provides
        self._fields = _declared_fields(provides)
        if self._fields is not None:
            check_extension_fields(self._fields, "middleware provides=")

    def server(self, fn: MiddlewareFn) -> Middleware[ExtT]:
        """Define the middleware body: ``async def fn(ctx, next): return await next(**fields)``."""
        if not callable(fn) or not inspect.iscoroutinefunction(fn):
            raise WorkflowDefinitionError("middleware .server(fn) takes an async function")
        return Middleware(fn, self._provides, self._fields)


@overload
def create_middleware(provides: type[ExtT]) -> MiddlewareBuilder[ExtT]: ...
@overload
def create_middleware(
    provides: Sequence[str] | None = None,
) -> MiddlewareBuilder[dict[str, Any]]: ...
def create_middleware(provides: Any = None) -> MiddlewareBuilder[Any]:
    """Start a middleware definition.

    ``provides`` declares the fields the middleware adds to ``ctx`` (a TypedDict,
    dataclass, pydantic model or field names); names shadowing reserved ctx fields are
    rejected here, at definition time.
    """
    return MiddlewareBuilder(provides)


async def run_with_middleware(
    middlewares: Sequence[Middleware[Any]],
    ctx: WorkflowContext[Any, Any],
    handler: Callable[[WorkflowContext[Any, Any]], Awaitable[Any]],
) -> Any:
    """Call ``handler(ctx)`` inside the middleware chain (first middleware outermost)."""

    return await _call_from(0, middlewares, ctx, handler)


async def _call_from(
    index: int,
    middlewares: Sequence[Middleware[Any]],
    ctx: WorkflowContext[Any, Any],
    handler: Callable[[WorkflowContext[Any, Any]], Awaitable[Any]],
) -> Any:
    # A module-level function rather than a recursive closure: a closure referring to
    # itself is a reference cycle holding ``ctx`` until the cyclic collector runs.
    if index >= len(middlewares):
        return await handler(ctx)
    middleware = middlewares[index]
    advanced = False
    result: Any = None

    async def next_(**fields: Any) -> Any:
        nonlocal advanced, result
        if advanced:
            raise WorkflowDefinitionError(
                f"middleware {middleware.name} called next() more than once"
            )
        advanced = True
        check_extension_fields(list(fields), f"middleware {middleware.name}")
        if middleware.fields is not None:
            undeclared = sorted(set(fields) - set(middleware.fields))
            if undeclared:
                raise WorkflowDefinitionError(
                    f"middleware {middleware.name} added undeclared field(s) {undeclared}"
                )
        ctx._extend(fields)
        result = await _call_from(index + 1, middlewares, ctx, handler)
        return result

    await middleware.fn(ctx, next_)
    if not advanced:
        raise WorkflowDefinitionError(
            f"middleware {middleware.name} returned without calling next()"
        )
    return result
