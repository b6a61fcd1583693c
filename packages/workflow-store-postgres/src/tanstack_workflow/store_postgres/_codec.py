"""Python values to statement parameters and result rows back to runtime models.

Input checks reuse the runtime's validators (``check_storable`` and friends) so bad input
fails exactly as in the in-memory store. Where that store accepts a value Postgres cannot
hold (a NUL character in a text column, an integer beyond 64 bits) the same
``WorkflowValidationError`` is raised before anything is sent.
"""

from __future__ import annotations

import base64
import sys
from collections.abc import Sequence
from typing import Any

from pydantic import TypeAdapter

from tanstack_workflow.core import WorkflowEvent, WorkflowValidationError
from tanstack_workflow.runtime import (
    RunSummary,
    RunTransition,
    StoredWorkflowEvent,
    WorkflowExecution,
    check_storable,
)

from ._statements import RUN_COLUMNS

_EVENT_LIST = TypeAdapter(list[StoredWorkflowEvent])
_BIGINT_MIN = -(2**63)
_BIGINT_MAX = 2**63 - 1


def text(value: Any, what: str) -> Any:
    """A text parameter: ``None`` or a string without NUL characters."""
    if isinstance(value, str) and "\x00" in value:
        raise WorkflowValidationError(what, "strings must not contain NUL (\\u0000) characters")
    return value


def bigint(value: Any, what: str) -> Any:
    """An integer parameter that fits Postgres' ``bigint`` (or ``None``)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise WorkflowValidationError(what, f"{value!r} is not an integer")
    if not _BIGINT_MIN <= value <= _BIGINT_MAX:
        raise WorkflowValidationError(what, f"{value} does not fit in 64 bits")
    return value


def json_text(value: Any, what: str, *, limited: bool = True) -> str | None:
    """Compact JSON text for a ``json`` column (SQL NULL for ``None``).

    ``limited`` applies the runtime's size limit; values the in-memory store does not
    size-check (waits, metadata, errors) are only checked for being storable JSON.
    """
    if value is None:
        return None
    if limited:
        return check_storable(value, what)
    return check_storable(value, what, max_bytes=sys.maxsize)


def wire(model: Any) -> Any:
    """The wire form of a pydantic model (``None`` stays ``None``)."""
    if model is None:
        return None
    return model.to_wire()


def wire_list(models: Sequence[Any] | None) -> list[Any] | None:
    """The wire form of a list of models."""
    if models is None:
        return None
    return [wire(model) for model in models]


def event_json(event: WorkflowEvent) -> str:
    """One event's JSON text, validated like the in-memory store validates it.

    The python-mode dump keeps the caller's values, so a set or bytes is refused instead
    of silently becoming JSON it never was.
    """
    return check_storable(event.model_dump(by_alias=True, exclude_none=True), f"{event.type} event")


def event_columns(event: WorkflowEvent) -> tuple[Any, Any, str]:
    """``(type, stepId, JSON text)`` of one event: what the statements would read from
    the JSON (``event ->> 'type'``, ``event ->> 'stepId'``), taken from the same dump."""
    data = event.model_dump(by_alias=True, exclude_none=True)
    text_ = check_storable(data, f"{event.type} event")
    return data.get("type"), data.get("stepId"), text_


def transition_params(t: RunTransition, now: int) -> dict[str, Any]:
    """Parameters of ``TRANSITION_SET``: the same field rules as the in-memory store."""
    armed = t.wake_at is not None
    return {
        "t_status": t.status,
        "t_awaiting": json_text(wire_list(t.awaiting), "awaiting", limited=False),
        "t_waiting_for": json_text(wire(t.waiting_for), "waiting_for", limited=False),
        "t_pending_approval": json_text(
            wire(t.pending_approval), "pending approval", limited=False
        ),
        "t_wake_at": bigint(t.wake_at, "wake_at"),
        "t_wake_kind": t.wake_kind if armed else None,
        "t_wake_step_id": text(t.wake_step_id, "wake step id") if armed else None,
        "t_set_output": t.status == "finished",
        "t_output": json_text(t.output, "run output"),
        "t_set_error": t.status in ("errored", "aborted"),
        "t_error": json_text(wire(t.error), "run error", limited=False),
        "t_error_code": text(t.error_code, "error code"),
        "t_release": t.releases_lease,
        "now": bigint(now, "now"),
    }


def run_from_row(row: dict[str, Any]) -> WorkflowExecution:
    """A ``WorkflowExecution`` from a row holding the run columns."""
    return WorkflowExecution.model_validate({column: row[column] for column in RUN_COLUMNS})


def summary_from_row(row: dict[str, Any]) -> RunSummary:
    """A ``RunSummary`` from a ``list_runs`` row."""
    return RunSummary.model_validate(row)


def events_from_text(text_: str | None) -> list[StoredWorkflowEvent]:
    """Log entries from the JSON text of the statements' event list (``None``: no events)."""
    return _EVENT_LIST.validate_json(text_) if text_ else []


def encode_cursor(created_at: int, run_id: str) -> str:
    """Opaque keyset cursor for ``list_runs``."""
    return base64.urlsafe_b64encode(f"{created_at}|{run_id}".encode()).decode()


def decode_cursor(cursor: Any) -> tuple[int, str]:
    """Inverse of ``encode_cursor``; ``ValueError`` for a malformed cursor."""
    try:
        raw = base64.urlsafe_b64decode(cursor.encode()).decode()
        created, _, run_id = raw.partition("|")
        return bigint(int(created), "cursor"), text(run_id, "cursor")
    except Exception as exc:
        raise ValueError(f"invalid list_runs cursor {cursor!r}") from exc
