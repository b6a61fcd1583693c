"""Workflow definitions: ``create_workflow(...)`` and its builder."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar, overload

from pydantic import TypeAdapter

from ._context import WorkflowContext
from ._errors import WorkflowDefinitionError
from ._middleware import Middleware
from ._retry import RetryLike, RetryPolicy, coerce_retry
from ._serialize import type_adapter

InputT = TypeVar("InputT")
OutputT = TypeVar("OutputT")
StateT = TypeVar("StateT")

Handler = Callable[[WorkflowContext[InputT, StateT]], Awaitable[OutputT]]


@dataclass(frozen=True, eq=False)
class WorkflowDefinition(Generic[InputT, OutputT, StateT]):
    """A finished workflow: identity, declared types, middleware and handler."""

    id: str
    handler: Callable[[WorkflowContext[Any, Any]], Awaitable[Any]]
    version: str | None = None
    description: str | None = None
    input_type: Any = None
    output_type: Any = None
    state_type: Any = None
    initial_state: Callable[[Any], Any] | None = None
    default_retry: RetryPolicy | None = None
    middlewares: tuple[Middleware[Any], ...] = ()
    previous_versions: tuple[WorkflowDefinition[Any, Any, Any], ...] = field(default=())

    @property
    def input_adapter(self) -> TypeAdapter[Any] | None:
        """Validator for the declared input type (``None`` when undeclared)."""
        return None if self.input_type is None else type_adapter(self.input_type)

    @property
    def output_adapter(self) -> TypeAdapter[Any] | None:
        """Validator for the declared output type (``None`` when undeclared)."""
        return None if self.output_type is None else type_adapter(self.output_type)

    @property
    def state_adapter(self) -> TypeAdapter[Any] | None:
        """Validator for the declared state type (``None`` when undeclared)."""
        return None if self.state_type is None else type_adapter(self.state_type)

    def for_version(self, version: str | None) -> WorkflowDefinition[Any, Any, Any] | None:
        """This definition or the previous version registered as ``version``."""
        if self.version == version:
            return self
        for previous in self.previous_versions:
            if previous.version == version:
                return previous
        return None

    def all_versions(self) -> tuple[WorkflowDefinition[Any, Any, Any], ...]:
        """The current definition followed by every previous version."""
        return (self, *self.previous_versions)

    def __repr__(self) -> str:
        return f"<WorkflowDefinition id={self.id!r} version={self.version!r}>"


@dataclass(frozen=True)
class _Config:
    id: str
    version: str | None
    description: str | None
    input_type: Any
    output_type: Any
    state_type: Any
    initial_state: Callable[[Any], Any] | None
    default_retry: RetryPolicy | None
    middlewares: tuple[Middleware[Any], ...] = ()
    previous_versions: tuple[WorkflowDefinition[Any, Any, Any], ...] = ()


class WorkflowBuilder(Generic[InputT, OutputT, StateT]):
    """Returned by ``create_workflow``; each method returns a new builder."""

    def __init__(self, config: _Config) -> None:
        self._config = config

    def middleware(
        self, middlewares: Sequence[Middleware[Any]]
    ) -> WorkflowBuilder[InputT, OutputT, StateT]:
        """Run ``middlewares`` (first outermost) around the handler."""
        for m in middlewares:
            if not isinstance(m, Middleware):
                raise WorkflowDefinitionError(
                    f"{m!r} is not a middleware; build one with create_middleware().server(fn)"
                )
        return WorkflowBuilder(
            replace(self._config, middlewares=(*self._config.middlewares, *middlewares))
        )

    def previous_versions(
        self, versions: Sequence[WorkflowDefinition[Any, Any, Any]]
    ) -> WorkflowBuilder[InputT, OutputT, StateT]:
        """Older definitions that paused runs may still need to resume on."""
        seen = {self._config.version}
        for previous in versions:
            if not isinstance(previous, WorkflowDefinition):
                raise WorkflowDefinitionError(f"{previous!r} is not a workflow definition")
            if previous.id != self._config.id:
                raise WorkflowDefinitionError(
                    f"previous version of {self._config.id!r} has a different id {previous.id!r}"
                )
            if previous.version in seen:
                raise WorkflowDefinitionError(
                    f"workflow {self._config.id!r} lists version {previous.version!r} twice"
                )
            seen.add(previous.version)
        return WorkflowBuilder(replace(self._config, previous_versions=tuple(versions)))

    @overload
    def handler(
        self, fn: Handler[InputT, StateT, OutputT]
    ) -> WorkflowDefinition[InputT, OutputT, StateT]: ...
    @overload
    def handler(
        self, fn: Callable[[WorkflowContext[InputT, StateT]], Awaitable[Any]]
    ) -> WorkflowDefinition[InputT, Any, StateT]: ...
    def handler(
        self, fn: Callable[[WorkflowContext[InputT, StateT]], Awaitable[Any]]
    ) -> WorkflowDefinition[InputT, Any, StateT]:
        """Finish the definition with ``async def fn(ctx)``; usable as a decorator."""
        if not inspect.iscoroutinefunction(fn):
            raise WorkflowDefinitionError(
                f"workflow {self._config.id!r} handler must be an async function (async def)"
            )
        c = self._config
        return WorkflowDefinition(
            id=c.id,
            handler=fn,
            version=c.version,
            description=c.description,
            input_type=c.input_type,
            output_type=c.output_type,
            state_type=c.state_type,
            initial_state=c.initial_state,
            default_retry=c.default_retry,
            middlewares=c.middlewares,
            previous_versions=c.previous_versions,
        )


def create_workflow(
    id: str,
    *,
    version: str | None = None,
    input: type[InputT] | Any = None,
    output: type[OutputT] | Any = None,
    state: type[StateT] | Any = None,
    description: str | None = None,
    initial_state: Callable[[Any], Any] | None = None,
    default_retry: RetryLike | None = None,
) -> WorkflowBuilder[InputT, OutputT, StateT]:
    """Start defining a workflow.

    ``input``/``output``/``state`` take any type pydantic can validate. ``initial_state``
    maps the validated input to the initial ``ctx.state`` (default: the state type built
    from ``{}``). ``default_retry`` applies to steps without their own ``retry``.
    """
    if not isinstance(id, str) or not id.strip():
        raise WorkflowDefinitionError("workflow id must be a non-empty string")
    if version is not None and (not isinstance(version, str) or not version):
        raise WorkflowDefinitionError("workflow version must be a non-empty string or None")
    for label, tp in (("input", input), ("output", output), ("state", state)):
        if tp is not None:
            try:
                type_adapter(tp)
            except Exception as exc:
                raise WorkflowDefinitionError(
                    f"workflow {id!r} {label} type {tp!r} is not a type pydantic can validate: {exc}"
                ) from exc
    return WorkflowBuilder(
        _Config(
            id=id,
            version=version,
            description=description,
            input_type=input,
            output_type=output,
            state_type=state,
            initial_state=initial_state,
            default_retry=coerce_retry(default_retry),
        )
    )
