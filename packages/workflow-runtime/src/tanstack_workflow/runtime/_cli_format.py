"""Human-readable output of the ``tanstack-workflow`` CLI: tables, timelines, summaries."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from tanstack_workflow.core import ApprovalAwaitable, SignalAwaitable

from ._driver import WorkflowRunResult
from ._models import RunPage, RunTimeline, ScheduleRecord, ScheduleSpec, StoredWorkflowEvent
from ._registrations import WorkflowRegistration

DETAIL_WIDTH = 60


def dump_json(value: Any) -> str:
    """Compact, key-stable JSON for ``--json`` output."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)


def format_time(ms: int | None) -> str:
    """Epoch ms as ``2024-05-01 12:00:00.000Z``; ``-`` for none."""
    if ms is None:
        return "-"
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{ms % 1000:03d}Z"


def shorten(text: str, width: int = DETAIL_WIDTH) -> str:
    """One line of at most ``width`` characters."""
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 3] + "..."


def _compact(value: Any) -> str:
    return shorten(json.dumps(value, separators=(",", ":"), default=str))


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns separated by two spaces; the last column is not padded."""
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    lines = []
    for row in [list(headers), *rows]:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])] + [row[-1]]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def describe_awaiting(awaiting: Sequence[Any] | None) -> str:
    """What a paused run waits for, e.g. ``signal "paid"`` or ``approval "ship?"``."""
    parts = []
    for item in awaiting or ():
        if isinstance(item, SignalAwaitable):
            if item.signal_name == "__timer":
                parts.append(f"timer until {format_time(item.deadline)}")
            else:
                until = f" until {format_time(item.deadline)}" if item.deadline else ""
                parts.append(f'signal "{item.signal_name}"{until}')
        elif isinstance(item, ApprovalAwaitable):
            parts.append(f'approval {item.approval_id} "{item.title}"')
    return "; ".join(parts) or "-"


def format_run_page(page: RunPage) -> str:
    """``runs list`` as a table, with the next page's ``--cursor`` when there is one."""
    if not page.runs:
        return "no runs"
    rows = [
        [
            run.run_id,
            run.workflow_id,
            run.status if run.error_code is None else f"{run.status} ({run.error_code})",
            format_time(run.updated_at),
            describe_awaiting(run.awaiting) if run.status == "paused" else "-",
        ]
        for run in page.runs
    ]
    text = table(["RUN ID", "WORKFLOW", "STATUS", "UPDATED", "WAITING FOR"], rows)
    if page.next_cursor:
        text += f"\n\nmore runs: --cursor {page.next_cursor}"
    return text


def describe_event(stored: StoredWorkflowEvent) -> str:
    """A short detail for one log entry."""
    event = stored.event.to_wire()
    kind = stored.event_type
    if kind == "STEP_FINISHED":
        return f"result {_compact(event.get('result'))}"
    if kind in ("STEP_FAILED", "RUN_ERRORED"):
        error = event.get("error") or {}
        code = f"[{event['code']}] " if event.get("code") else ""
        return shorten(f"{code}{error.get('name', 'Error')}: {error.get('message', '')}")
    if kind == "SIGNAL_AWAITED":
        if event.get("name") == "__timer":
            return f"sleep until {format_time(event.get('deadline'))}"
        until = f" until {format_time(event['deadline'])}" if event.get("deadline") else ""
        return f'wait for "{event.get("name")}"{until}'
    if kind == "SIGNAL_RESOLVED":
        if event.get("name") == "__timer":
            return "timer fired"
        if event.get("timedOut"):
            return f'"{event.get("name")}" timed out'
        return shorten(
            f'"{event.get("name")}" id={event.get("signalId")} payload {_compact(event.get("payload"))}'
        )
    if kind == "APPROVAL_REQUESTED":
        return shorten(f'{event.get("approvalId")} "{event.get("title")}"')
    if kind == "APPROVAL_RESOLVED":
        verdict = (
            "timed out"
            if event.get("timedOut")
            else ("approved" if event.get("approved") else "rejected")
        )
        feedback = f": {event['feedback']}" if event.get("feedback") else ""
        return shorten(f"{verdict}{feedback}")
    if kind in ("NOW_RECORDED", "UUID_RECORDED"):
        return str(event.get("value"))
    if kind == "RUN_FINISHED":
        return f"output {_compact(event.get('output'))}"
    return ""


def format_timeline(timeline: RunTimeline) -> str:
    """``runs show``: the run's header, then one line per log entry."""
    run = timeline.run
    status = run.status if run.error_code is None else f"{run.status} ({run.error_code})"
    header = [
        ("run", run.run_id),
        (
            "workflow",
            run.workflow_id
            + (f" (version {run.workflow_version})" if run.workflow_version else ""),
        ),
        ("status", status),
        ("created", format_time(run.created_at)),
        ("updated", format_time(run.updated_at)),
    ]
    if run.status == "paused":
        header.append(("waiting for", describe_awaiting(run.awaiting)))
    if run.wake_at is not None:
        header.append(("wakes at", format_time(run.wake_at)))
    if run.error is not None:
        header.append(("error", shorten(f"{run.error.name}: {run.error.message}")))
    width = max(len(label) for label, _ in header)
    lines = [f"{label.ljust(width)}  {value}" for label, value in header]
    if not timeline.events:
        return "\n".join([*lines, "", "no events"])
    rows = [
        [
            str(stored.event_index),
            format_time(stored.created_at),
            stored.event_type,
            stored.step_id or "-",
            describe_event(stored),
        ]
        for stored in timeline.events
    ]
    return "\n".join([*lines, "", table(["#", "TIME", "TYPE", "STEP", "DETAIL"], rows)])


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items())) or "none"


def format_sweep_summary(summary: dict[str, Any]) -> str:
    """The compact host-sweep summary as a few readable lines."""
    inner = summary["summary"]
    return "\n".join(
        [
            f"swept at {format_time(summary['now'])} as {summary['leaseOwner']}",
            f"materialized schedules  {summary['materialized']}",
            f"recovered runs          {_counts(inner['recovered'])}",
            f"scheduled runs          {_counts(inner['scheduled'])}",
            f"timers                  {_counts(inner['timers'])}",
            f"events                  {inner['eventCount']}",
            f"deadline reached        {'yes' if summary['deadlineReached'] else 'no'}",
            f"more work may remain    {'yes' if summary['remainingMayExist'] else 'no'}",
        ]
    )


def format_result(result: WorkflowRunResult) -> str:
    """What a signal, approval or cancel did to the run."""
    parts = [f"{result.kind}: run {result.run_id}"]
    if result.run is not None:
        parts.append(f"status {result.run.status}")
        if result.run.status == "paused":
            parts.append(f"waiting for {describe_awaiting(result.run.awaiting)}")
    if result.detail and result.detail != result.kind:
        parts.append(result.detail)
    return ", ".join(parts)


def describe_spec(spec: ScheduleSpec) -> str:
    """``cron "0 9 * * *" Europe/Paris`` or ``every 15m``."""
    if spec.kind == "cron":
        return f'cron "{spec.expression}" {spec.timezone}'
    every_ms = spec.every_ms or 0
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if every_ms % size == 0:
            return f"every {every_ms // size}{unit}"
    return f"every {every_ms}ms"


def schedule_rows(
    registrations: dict[str, WorkflowRegistration], stored: Sequence[ScheduleRecord]
) -> list[dict[str, Any]]:
    """Registered schedules joined with the store's records (JSON-ready, camelCase)."""
    by_id = {record.schedule_id: record for record in stored}
    rows: list[dict[str, Any]] = []
    for workflow_id, registration in registrations.items():
        for index, schedule in enumerate(registration.schedules):
            schedule_id = schedule.id or f"{workflow_id}:{index}"
            record = by_id.pop(schedule_id, None)
            rows.append(
                _schedule_row(
                    schedule_id, workflow_id, schedule.spec, schedule.enabled, record, True
                )
            )
    for record in by_id.values():
        rows.append(
            _schedule_row(
                record.schedule_id, record.workflow_id, record.spec, record.enabled, record, False
            )
        )
    return rows


def _schedule_row(
    schedule_id: str,
    workflow_id: str,
    spec: ScheduleSpec,
    enabled: bool,
    record: ScheduleRecord | None,
    registered: bool,
) -> dict[str, Any]:
    return {
        "scheduleId": schedule_id,
        "workflowId": workflow_id,
        "schedule": spec.to_wire(),
        "enabled": enabled,
        "registered": registered,
        "stored": record is not None,
        "overlapPolicy": record.overlap_policy if record else None,
        "nextFireAt": record.next_fire_at if record else None,
        "lastRunId": record.last_run_id if record else None,
        "updatedAt": record.updated_at if record else None,
    }


def format_schedules(rows: Sequence[dict[str, Any]]) -> str:
    """``schedules list`` as a table."""
    if not rows:
        return "no schedules"

    def note(row: dict[str, Any]) -> str:
        if not row["registered"]:
            return "stored only (not registered in this runtime)"
        if not row["stored"]:
            return "not materialized yet (runs on the next sweep)"
        return "" if row["enabled"] else "disabled"

    table_rows = [
        [
            row["scheduleId"],
            row["workflowId"],
            describe_spec(ScheduleSpec.model_validate(row["schedule"])),
            format_time(row["nextFireAt"]),
            row["lastRunId"] or "-",
            note(row) or "-",
        ]
        for row in rows
    ]
    return table(["SCHEDULE", "WORKFLOW", "WHEN", "LAST BUCKET", "LAST RUN", "NOTE"], table_rows)
