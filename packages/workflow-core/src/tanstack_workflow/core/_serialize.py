"""JSON round trips, type adapters and error serialization shared by the engine."""

from __future__ import annotations

import functools
import inspect
import json
import math
import traceback
import typing
from collections.abc import Callable
from typing import Any

from pydantic import TypeAdapter, ValidationError
from pydantic_core import PydanticSerializationError, to_jsonable_python

from ._errors import WorkflowValidationError
from ._run_state import SerializedError

_NO_ANNOTATION = inspect.Signature.empty


@functools.lru_cache(maxsize=512)
def _cached_adapter(tp: Any) -> TypeAdapter[Any]:
    return TypeAdapter(tp)


def type_adapter(tp: Any) -> TypeAdapter[Any]:
    """A (cached when hashable) pydantic ``TypeAdapter`` for ``tp``."""
    try:
        return _cached_adapter(tp)
    except TypeError:  # unhashable annotation, e.g. a parametrized TypedDict alias
        return TypeAdapter(tp)


def _check_finite(value: Any) -> Any:
    # json.dumps would emit NaN/Infinity, which is not JSON; reject it up front.
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{value!r} is not representable in JSON")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"object key {key!r} is not a string")
            _check_finite(item)
    elif isinstance(value, list):
        for item in value:
            _check_finite(item)
    return value


def to_json_value(value: Any, adapter: TypeAdapter[Any] | None, what: str) -> Any:
    """Convert ``value`` to plain JSON data (dict/list/str/int/float/bool/None).

    Raises ``WorkflowValidationError`` naming ``what`` when the value cannot make
    the JSON round trip.
    """
    try:
        if adapter is not None:
            # Validate first: dumping a value of the wrong type only warns and would
            # record data that fails validation on replay.
            data = adapter.dump_python(adapter.validate_python(value), mode="json")
        else:
            data = to_jsonable_python(value)
        return _check_finite(data)
    except ValidationError as exc:
        raise WorkflowValidationError(what, _summarize(exc), errors=exc.errors()) from exc
    except (PydanticSerializationError, ValueError, TypeError) as exc:
        raise WorkflowValidationError(
            what, f"value of type {type(value).__name__} is not JSON-serializable ({exc})"
        ) from exc


def from_json_value(data: Any, adapter: TypeAdapter[Any] | None, what: str) -> Any:
    """Validate JSON ``data`` into the declared type (identity without an adapter)."""
    if adapter is None:
        return data
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        raise WorkflowValidationError(what, _summarize(exc), errors=exc.errors()) from exc


def validate_value(value: Any, adapter: TypeAdapter[Any] | None, what: str) -> tuple[Any, Any]:
    """Validate a caller-supplied value; return ``(python_value, json_value)``."""
    if adapter is None:
        data = to_json_value(value, None, what)
        return data, data
    try:
        parsed = adapter.validate_python(value)
    except ValidationError as exc:
        raise WorkflowValidationError(what, _summarize(exc), errors=exc.errors()) from exc
    return parsed, to_json_value(parsed, adapter, what)


def round_trip(value: Any, adapter: TypeAdapter[Any] | None, what: str) -> tuple[Any, Any]:
    """Send ``value`` through JSON and back: ``(value_as_replay_sees_it, json_value)``."""
    data = to_json_value(value, adapter, what)
    return from_json_value(data, adapter, what), data


def json_size(data: Any) -> int:
    """Length of the compact JSON encoding of ``data`` in bytes."""
    return len(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode())


def _summarize(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err.get("loc", ())) or "(root)"
        parts.append(f"{loc}: {err.get('msg')}")
    more = exc.error_count() - len(parts)
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


def _code_key(fn: Callable[..., Any]) -> Any:
    # Closures made by the same ``def`` share one code object and, in practice, one
    # signature: key caches on it so per-call lambdas do not defeat the cache.
    code = getattr(getattr(fn, "__func__", fn), "__code__", None)
    return (code, inspect.ismethod(fn)) if code is not None else None


_return_cache: dict[Any, Any] = {}


def _return_annotation(fn: Callable[..., Any]) -> Any:
    key = _code_key(fn)
    if key is not None and key in _return_cache:
        return _return_cache[key]
    try:
        hints = typing.get_type_hints(getattr(fn, "__func__", fn))
    except Exception:  # unresolvable forward references: treat as unannotated
        hints = {}
    ret = hints.get("return", _NO_ANNOTATION)
    if ret is type(None):
        ret = None
    if key is not None:
        _return_cache[key] = ret
    return ret


def return_adapter(fn: Callable[..., Any]) -> TypeAdapter[Any] | None:
    """The adapter for ``fn``'s return annotation, unwrapping ``Awaitable``/``Coroutine``."""
    ret = _return_annotation(fn)
    if ret is _NO_ANNOTATION or ret is Any:
        return None
    origin = typing.get_origin(ret)
    if origin is not None and getattr(origin, "__name__", "") in {"Awaitable", "Coroutine"}:
        args = typing.get_args(ret)
        ret = args[-1] if args else Any
        if ret is Any:
            return None
    return type_adapter(ret)


def serialize_error(exc: BaseException) -> SerializedError:
    """Wire-safe form of an exception: class name, message and traceback text."""
    from ._errors import StepFailedError

    if isinstance(exc, StepFailedError):
        return SerializedError(
            name=exc.error_name, message=exc.error_message, stack=exc.remote_traceback
        )
    stack = "".join(traceback.format_exception(exc)) if exc.__traceback__ else None
    return SerializedError(name=type(exc).__name__, message=str(exc), stack=stack)


_arity_cache: dict[Any, bool] = {}


def takes_argument(fn: Callable[..., Any]) -> bool:
    """True when ``fn`` has a required positional parameter (it receives a ``StepContext``)."""
    key = _code_key(fn)
    if key is not None and key in _arity_cache:
        return _arity_cache[key]
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    # Only a *required* positional parameter receives the StepContext, so the loop idiom
    # ``lambda i=i: work(i)`` keeps its default instead of being handed the context.
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    result = any(
        (p.kind in positional and p.default is inspect.Parameter.empty)
        or p.kind is inspect.Parameter.VAR_POSITIONAL
        for p in params
    )
    if key is not None:
        _arity_cache[key] = result
    return result
