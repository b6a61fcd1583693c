"""The host-sweep helper every host adapter calls: materialize, then one bounded sweep."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

from tanstack_workflow.core import WorkflowValidationError, system_clock

from ._materialize import materialize_workflow_schedules
from ._runtime import WorkflowRuntime, new_lease_owner
from ._schedules import DEFAULT_CRON_LOOKBACK_MS
from ._validation import check_limit

_log = logging.getLogger("tanstack_workflow.runtime.host")

RuntimeOrFactory = WorkflowRuntime | Callable[..., WorkflowRuntime | Awaitable[WorkflowRuntime]]
LeaseOwnerOption = str | Callable[[], str] | None


class HostSweepError(Exception):
    """A host sweep failed; the message names the phase, never payloads."""


@dataclass(frozen=True)
class HostSweepOptions:
    """Options every host adapter accepts (see the deployment docs)."""

    now: int | None = None
    lease_owner: LeaseOwnerOption = None
    limit: int | None = None
    max_scheduled_runs: int | None = None
    max_timers: int | None = None
    max_duration_ms: int | None = None
    lease_ms: int | None = None
    include_events: bool = False
    max_events: int | None = None
    include_sweep_result: bool = False
    materialize_schedules: bool = True
    cron_lookback_ms: int = DEFAULT_CRON_LOOKBACK_MS

    def __post_init__(self) -> None:
        # Checked when an adapter is created, so a bad option fails at import time
        # instead of on the first cron tick.
        for name in ("now", "limit", "max_scheduled_runs", "max_timers", "max_events"):
            value = getattr(self, name)
            if value is not None:
                check_limit(value, name)
        for name in ("max_duration_ms", "lease_ms"):
            value = getattr(self, name)
            if value is not None:
                check_limit(value, name, minimum=1)
        check_limit(self.cron_lookback_ms, "cron_lookback_ms")
        owner: object = self.lease_owner
        if owner is not None and not callable(owner) and not (isinstance(owner, str) and owner):
            raise WorkflowValidationError("lease_owner", "must be a non-empty string or a callable")


class HostSweepKwargs(TypedDict, total=False):
    """``HostSweepOptions`` as keyword arguments, for adapters' ``**options`` signatures.

    Lists the same names as ``HostSweepOptions`` (a test keeps the two in step).
    """

    now: int | None
    lease_owner: LeaseOwnerOption
    limit: int | None
    max_scheduled_runs: int | None
    max_timers: int | None
    max_duration_ms: int | None
    lease_ms: int | None
    include_events: bool
    max_events: int | None
    include_sweep_result: bool
    materialize_schedules: bool
    cron_lookback_ms: int


async def resolve_runtime(runtime: RuntimeOrFactory, *context: Any) -> WorkflowRuntime:
    """A runtime, or what a (sync or async) factory builds from the host's context."""
    if isinstance(runtime, WorkflowRuntime):
        return runtime
    built = runtime(*context)
    if inspect.isawaitable(built):
        built = await built
    if not isinstance(built, WorkflowRuntime):
        raise TypeError(f"runtime factory returned {type(built).__name__}, not a WorkflowRuntime")
    return built


async def run_host_sweep(
    runtime: RuntimeOrFactory,
    options: HostSweepOptions,
    *,
    host: str = "host",
    context: Sequence[Any] = (),
) -> dict[str, Any]:
    """Materialize schedules, run one bounded sweep, return the compact JSON summary.

    ``runtime`` may be a factory; it is called with ``context`` (the host's invocation
    arguments). Returns ``{ok, now, leaseOwner, materialized, summary, deadlineReached,
    remainingMayExist}`` plus ``sweep`` when ``include_sweep_result``. Raises
    ``HostSweepError`` on failure with a message that names the failing phase and the
    exception type but carries no payloads.
    """
    phase = "runtime"
    try:
        resolved = await resolve_runtime(runtime, *context)
        now = options.now if options.now is not None else system_clock()
        phase = "lease owner"
        owner = options.lease_owner() if callable(options.lease_owner) else options.lease_owner
        owner = owner or new_lease_owner(host)
        phase = "materialize"
        materialized = 0
        if options.materialize_schedules:
            done = await materialize_workflow_schedules(
                resolved, now=now, cron_lookback_ms=options.cron_lookback_ms
            )
            materialized = sum(1 for m in done if m.kind == "materialized")
        phase = "sweep"
        result = await resolved.sweep(
            now=now,
            limit=options.limit,
            max_scheduled_runs=options.max_scheduled_runs,
            max_timers=options.max_timers,
            max_duration_ms=options.max_duration_ms,
            lease_owner=owner,
            lease_ms=options.lease_ms,
            include_events=options.include_events,
            include_results=options.include_sweep_result,
            max_events=options.max_events,
        )
    except Exception as exc:
        _log.error("workflow %s sweep failed during %s: %s", host, phase, type(exc).__name__)
        raise HostSweepError(f"workflow sweep failed during {phase}: {type(exc).__name__}") from exc
    summary: dict[str, Any] = {
        "ok": True,
        "now": now,
        "leaseOwner": owner,
        "materialized": materialized,
        "summary": result.summary.to_wire(),
        "deadlineReached": result.deadline_reached,
        "remainingMayExist": result.remaining_may_exist,
    }
    if options.include_sweep_result:
        summary["sweep"] = result.to_wire()
    return summary
