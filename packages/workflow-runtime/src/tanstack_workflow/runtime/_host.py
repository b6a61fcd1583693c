"""The host-sweep helper every host adapter calls: materialize, then one bounded sweep."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from tanstack_workflow.core import system_clock

from ._materialize import materialize_workflow_schedules
from ._runtime import WorkflowRuntime, new_lease_owner
from ._schedules import DEFAULT_CRON_LOOKBACK_MS

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
    runtime: WorkflowRuntime, options: HostSweepOptions, *, host: str = "host"
) -> dict[str, Any]:
    """Materialize schedules, run one bounded sweep, return the compact JSON summary.

    ``{ok, now, leaseOwner, materialized, summary, deadlineReached, remainingMayExist}``
    plus ``sweep`` when ``include_sweep_result``. Raises ``HostSweepError`` on failure
    with a message that names the failing phase but carries no payloads.
    """
    now = options.now if options.now is not None else system_clock()
    owner = options.lease_owner() if callable(options.lease_owner) else options.lease_owner
    owner = owner or new_lease_owner(host)
    phase = "materialize"
    try:
        materialized = 0
        if options.materialize_schedules:
            done = await materialize_workflow_schedules(
                runtime, now=now, cron_lookback_ms=options.cron_lookback_ms
            )
            materialized = sum(1 for m in done if m.kind == "materialized")
        phase = "sweep"
        result = await runtime.sweep(
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
