"""Row <-> model conversion. JSON values are TEXT columns, times INTEGER epoch ms."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from tanstack_workflow.core import event_to_json, parse_event
from tanstack_workflow.runtime import (
    RunSummary,
    RunTransition,
    ScheduleRecord,
    StoredWorkflowEvent,
    WorkflowExecution,
)

RUN_COLUMNS = (
    "run_id",
    "workflow_id",
    "workflow_version",
    "status",
    "input",
    "output",
    "error",
    "error_code",
    "awaiting",
    "waiting_for",
    "pending_approval",
    "wake_at",
    "wake_kind",
    "wake_step_id",
    "lease_owner",
    "lease_expires_at",
    "next_index",
    "created_at",
    "updated_at",
)
SUMMARY_COLUMNS = (
    "run_id",
    "workflow_id",
    "workflow_version",
    "status",
    "awaiting",
    "wake_at",
    "error_code",
    "created_at",
    "updated_at",
)
EVENT_COLUMNS = ("run_id", "event_index", "event_type", "step_id", "event", "created_at")
SCHEDULE_COLUMNS = (
    "schedule_id",
    "workflow_id",
    "workflow_version",
    "spec",
    "overlap_policy",
    "input",
    "next_fire_at",
    "next_bucket_id",
    "enabled",
    "last_run_id",
    "updated_at",
)
_JSON_RUN_COLUMNS = ("input", "output", "error", "awaiting", "waiting_for", "pending_approval")

TERMINAL_STATUSES = ("finished", "errored", "aborted")
TERMINAL_SQL = "('finished', 'errored', 'aborted')"


def column_list(columns: Sequence[str], prefix: str = "") -> str:
    """``"a", "b"`` (optionally ``p."a"``) for a SELECT or RETURNING clause."""
    return ", ".join(f'{prefix}"{c}"' for c in columns)


def dump_json(value: Any) -> str | None:
    """JSON text for a TEXT column (models in their wire shape); ``None`` stays NULL."""
    if value is None:
        return None
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json", by_alias=True)
    elif isinstance(value, list) and any(isinstance(v, BaseModel) for v in value):
        value = [
            v.model_dump(mode="json", by_alias=True) if isinstance(v, BaseModel) else v
            for v in value
        ]
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def load_json(text: Any) -> Any:
    """Inverse of ``dump_json``."""
    return None if text is None else json.loads(text)


def run_from_row(row: dict[str, Any]) -> WorkflowExecution:
    """A ``WorkflowExecution`` from a runs row."""
    data = {c: row.get(c) for c in RUN_COLUMNS}
    for column in _JSON_RUN_COLUMNS:
        data[column] = load_json(data[column])
    return WorkflowExecution.model_validate(data)


def summary_from_row(row: dict[str, Any]) -> RunSummary:
    """A ``RunSummary`` from a runs row with ``SUMMARY_COLUMNS``."""
    data = {c: row.get(c) for c in SUMMARY_COLUMNS}
    data["awaiting"] = load_json(data["awaiting"])
    return RunSummary.model_validate(data)


def event_from_row(row: dict[str, Any]) -> StoredWorkflowEvent:
    """A ``StoredWorkflowEvent`` from an events row."""
    return StoredWorkflowEvent(
        run_id=row["run_id"],
        event_index=row["event_index"],
        event_type=row["event_type"],
        step_id=row["step_id"],
        event=parse_event(row["event"]),
        created_at=row["created_at"],
    )


def event_json(event: Any) -> str:
    """The stored JSON text of an event (the reference's wire shape)."""
    return event_to_json(event)


def schedule_from_row(row: dict[str, Any]) -> ScheduleRecord:
    """A ``ScheduleRecord`` from a schedules row."""
    data = {c: row.get(c) for c in SCHEDULE_COLUMNS}
    data["spec"] = load_json(data["spec"])
    data["input"] = load_json(data["input"])
    data["enabled"] = bool(data["enabled"])
    return ScheduleRecord.model_validate(data)


def transition_columns(t: RunTransition, now: int) -> dict[str, Any]:
    """Column values a transition writes, exactly as the in-memory store applies them."""
    values: dict[str, Any] = {
        "status": t.status,
        "awaiting": dump_json(t.awaiting),
        "waiting_for": dump_json(t.waiting_for),
        "pending_approval": dump_json(t.pending_approval),
        "wake_at": t.wake_at,
        "wake_kind": t.wake_kind if t.wake_at is not None else None,
        "wake_step_id": t.wake_step_id if t.wake_at is not None else None,
        "updated_at": now,
    }
    if t.status == "finished":
        values["output"] = dump_json(t.output)
    if t.status in ("errored", "aborted"):
        values["error"] = dump_json(t.error)
        values["error_code"] = t.error_code
    if t.releases_lease:
        values["lease_owner"] = None
        values["lease_expires_at"] = None
    return values


INTEGER_COLUMNS = frozenset(
    {
        "wake_at",
        "lease_expires_at",
        "next_index",
        "created_at",
        "updated_at",
        "event_index",
        "next_fire_at",
        "enabled",
        "fire_at",
    }
)


def placeholder(column: str) -> str:
    """``?`` for a value of ``column``; integers are CAST, since D1 may bind them as REAL
    (Workers) or TEXT (REST params)."""
    return "CAST(? AS INTEGER)" if column in INTEGER_COLUMNS else "?"


def set_clause(values: dict[str, Any]) -> tuple[str, list[Any]]:
    """``"a" = ?, "b" = CAST(? AS INTEGER)`` and its parameters."""
    parts = [f'"{c}" = {placeholder(c)}' for c in values]
    return ", ".join(parts), list(values.values())


def encode_cursor(created_at: int, run_id: str) -> str:
    """Opaque keyset cursor for ``list_runs`` (same format as the in-memory store)."""
    return base64.urlsafe_b64encode(f"{created_at}|{run_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[int, str]:
    """Inverse of ``encode_cursor``; ``ValueError`` for a malformed cursor."""
    try:
        created, _, run_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return int(created), run_id
    except Exception as exc:
        raise ValueError(f"invalid list_runs cursor {cursor!r}") from exc
