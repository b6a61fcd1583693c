"""Recurring schedules: ``every`` / ``cron`` specs and which bucket is due when.

Cron expressions are matched against the schedule's local wall clock, so DST never
double-fires or loses a tick:

* a wall time that happens twice (the fall-back hour) is one bucket, named by the
  local time, and fires once, at its first occurrence;
* a wall time that does not exist (the spring-forward gap) fires once, shifted
  forward by the gap (02:30 in a 02:00 -> 03:00 gap fires at 03:30 local).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from tanstack_workflow.core import WorkflowDefinitionError

from ._models import OVERLAP_POLICIES, OverlapPolicy, ScheduleSpec

DEFAULT_CRON_LOOKBACK_MS = 32 * 24 * 60 * 60 * 1000


class _Every:
    """``every.minutes(5)``: fixed-interval schedules aligned to the Unix epoch."""

    @staticmethod
    def milliseconds(n: int) -> ScheduleSpec:
        """Every ``n`` milliseconds."""
        if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
            raise WorkflowDefinitionError(f"interval must be a positive integer, not {n!r}")
        return ScheduleSpec(kind="interval", every_ms=n)

    @classmethod
    def seconds(cls, n: int) -> ScheduleSpec:
        """Every ``n`` seconds."""
        return cls.milliseconds(_positive(n) * 1000)

    @classmethod
    def minutes(cls, n: int) -> ScheduleSpec:
        """Every ``n`` minutes."""
        return cls.milliseconds(_positive(n) * 60_000)

    @classmethod
    def hours(cls, n: int) -> ScheduleSpec:
        """Every ``n`` hours."""
        return cls.milliseconds(_positive(n) * 3_600_000)

    @classmethod
    def days(cls, n: int) -> ScheduleSpec:
        """Every ``n`` days (UTC-aligned; use ``cron`` for local midnight)."""
        return cls.milliseconds(_positive(n) * 86_400_000)


def _positive(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        raise WorkflowDefinitionError(f"interval must be a positive integer, not {n!r}")
    return n


every = _Every()


def _zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise WorkflowDefinitionError(f"unknown IANA timezone {timezone!r}") from exc


def cron(expression: str, timezone: str = "UTC") -> ScheduleSpec:
    """A cron schedule evaluated on ``timezone``'s wall clock (any IANA zone)."""
    if not isinstance(expression, str) or not croniter.is_valid(expression):
        raise WorkflowDefinitionError(f"invalid cron expression {expression!r}")
    if len(expression.split()) > 5:
        # croniter reads a sixth field as seconds; buckets are looked up at most an hour
        # of ticks ahead, so a per-second expression would silently never fire.
        raise WorkflowDefinitionError(
            f"cron expression {expression!r} has a seconds field; use five fields "
            "(minute hour day month weekday), or every.seconds(n) for sub-minute schedules"
        )
    _zone(timezone)
    return ScheduleSpec(kind="cron", expression=expression, timezone=timezone)


ScheduleInput = Any | Callable[[], Any] | Callable[[], Awaitable[Any]]


@dataclass(frozen=True)
class WorkflowSchedule:
    """A schedule attached to a registration. Each due tick starts a fresh run."""

    spec: ScheduleSpec
    id: str | None = None
    overlap_policy: OverlapPolicy = "skip"
    input: ScheduleInput = None
    enabled: bool = True
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.overlap_policy not in OVERLAP_POLICIES:
            raise WorkflowDefinitionError(
                f"overlap_policy must be one of {', '.join(OVERLAP_POLICIES)}, not {self.overlap_policy!r}"
            )


def coerce_schedule(value: Any) -> WorkflowSchedule:
    """Accept a ``WorkflowSchedule``, a bare ``ScheduleSpec`` or a dict of either."""
    if isinstance(value, WorkflowSchedule):
        return value
    if isinstance(value, ScheduleSpec):
        return WorkflowSchedule(spec=value)
    if isinstance(value, Mapping):
        data = dict(value)
        spec = data.pop("spec", None) or data.pop("schedule", None)
        if isinstance(spec, Mapping):
            spec = ScheduleSpec.model_validate(spec)
        if not isinstance(spec, ScheduleSpec):
            raise WorkflowDefinitionError("a schedule dict needs 'spec': every.*(...) or cron(...)")
        if "overlapPolicy" in data:
            data["overlap_policy"] = data.pop("overlapPolicy")
        try:
            return WorkflowSchedule(spec=spec, **data)
        except TypeError as exc:
            raise WorkflowDefinitionError(f"invalid schedule: {exc}") from exc
    raise WorkflowDefinitionError(f"{value!r} is not a schedule; use every.*(...) or cron(...)")


async def resolve_schedule_input(value: ScheduleInput) -> Any:
    """The schedule's input: the value, or what its (a)sync callable returns."""
    if callable(value):
        result = value()
        return await result if inspect.isawaitable(result) else result
    return value


def _instant(local: datetime, zone: ZoneInfo) -> datetime:
    """The instant of a naive local time: its first occurrence if the wall clock repeats
    it; shifted forward by the gap if the wall clock skips it (PEP 495, ``fold=0``)."""
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


def latest_due_bucket(
    spec: ScheduleSpec, now: int, lookback_ms: int = DEFAULT_CRON_LOOKBACK_MS
) -> tuple[int, str] | None:
    """``(fire_at_ms, bucket_id)`` of the newest tick at or before ``now``, if recent enough."""
    if spec.kind == "interval":
        every_ms = spec.every_ms or 0
        if every_ms <= 0:
            raise WorkflowDefinitionError("interval schedules need a positive every_ms")
        fire_at = (now // every_ms) * every_ms
        return fire_at, str(fire_at)
    zone = _zone(spec.timezone)
    now_local = datetime.fromtimestamp(now / 1000, UTC).astimezone(zone).replace(tzinfo=None)
    # Look one hour ahead in wall-clock terms: a tick in the fall-back hour can be local-later
    # than now's wall clock yet already past (second pass through the hour).
    iterator = croniter(spec.expression or "", now_local + timedelta(hours=1, seconds=1))
    for _ in range(1000):
        local = iterator.get_prev(datetime)
        fire = _instant(local, zone)
        fire_at = int(fire.timestamp() * 1000)
        if fire_at > now:
            continue
        if fire_at < now - lookback_ms:
            return None
        return fire_at, local.isoformat()
    return None
