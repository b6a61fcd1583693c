"""``materialize_workflow_schedules``: write each registered schedule's due bucket."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from tanstack_workflow.core import WorkflowValidationError

from ._models import ScheduleSpec
from ._schedules import DEFAULT_CRON_LOOKBACK_MS, latest_due_bucket, resolve_schedule_input
from ._validation import check_limit

if TYPE_CHECKING:
    from ._runtime import WorkflowRuntime


@dataclass(frozen=True)
class MaterializedWorkflowSchedule:
    """What materialization did for one schedule."""

    kind: Literal["materialized", "disabled", "not-due"]
    workflow_id: str
    schedule_id: str
    spec: ScheduleSpec
    fire_at: int | None = None
    bucket_id: str | None = None

    def to_wire(self) -> dict[str, Any]:
        """JSON-ready dict with camelCase keys."""
        data: dict[str, Any] = {
            "kind": self.kind,
            "workflowId": self.workflow_id,
            "scheduleId": self.schedule_id,
            "schedule": self.spec.to_wire(),
        }
        if self.fire_at is not None:
            data["fireAt"] = self.fire_at
            data["bucketId"] = self.bucket_id
        return data


async def materialize_workflow_schedules(
    runtime: WorkflowRuntime,
    *,
    now: int | None = None,
    cron_lookback_ms: int = DEFAULT_CRON_LOOKBACK_MS,
) -> list[MaterializedWorkflowSchedule]:
    """Upsert every registered schedule with its newest due bucket (if any).

    A later ``sweep`` claims the bucket and starts its run (deterministic run id per
    bucket, so materializing twice never starts twice). Ticks older than
    ``cron_lookback_ms`` are not started.
    """
    check_limit(cron_lookback_ms, "cron_lookback_ms")
    at = runtime.clock() if now is None else now
    results: list[MaterializedWorkflowSchedule] = []
    for workflow_id, registration in runtime.catalog.registrations.items():
        for index, schedule in enumerate(registration.schedules):
            schedule_id = schedule.id or f"{workflow_id}:{index}"
            due = (
                latest_due_bucket(schedule.spec, at, cron_lookback_ms) if schedule.enabled else None
            )
            if schedule.enabled and due is None:
                results.append(
                    MaterializedWorkflowSchedule("not-due", workflow_id, schedule_id, schedule.spec)
                )
                continue
            schedule_input = await resolve_schedule_input(schedule.input) if due else None
            try:
                await runtime.store.upsert_schedule(
                    schedule_id=schedule_id,
                    workflow_id=workflow_id,
                    workflow_version=registration.version,
                    spec=schedule.spec,
                    overlap_policy=schedule.overlap_policy,
                    input=schedule_input,
                    next_fire_at=due[0] if due else None,
                    next_bucket_id=due[1] if due else None,
                    enabled=schedule.enabled,
                    now=at,
                )
            except WorkflowValidationError as exc:
                raise WorkflowValidationError(
                    f"schedule {schedule_id!r} input", exc.detail
                ) from exc
            if due is None:
                results.append(
                    MaterializedWorkflowSchedule(
                        "disabled", workflow_id, schedule_id, schedule.spec
                    )
                )
            else:
                results.append(
                    MaterializedWorkflowSchedule(
                        "materialized",
                        workflow_id,
                        schedule_id,
                        schedule.spec,
                        fire_at=due[0],
                        bucket_id=due[1],
                    )
                )
    return results
