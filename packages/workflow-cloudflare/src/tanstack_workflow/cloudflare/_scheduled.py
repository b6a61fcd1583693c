"""``create_cloudflare_workflow_scheduled_handler``: a Worker's ``scheduled()`` as one sweep."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Awaitable, Callable
from typing import Any, Unpack

from tanstack_workflow.runtime import (
    HostSweepKwargs,
    HostSweepOptions,
    RuntimeOrFactory,
    run_host_sweep,
)

CloudflareScheduledHandler = Callable[[Any, Any, Any], Awaitable[dict[str, Any]]]
"""``async (controller, env, ctx) -> summary``, the shape of a Worker's ``scheduled()``."""


def scheduled_time_ms(controller: Any) -> int | None:
    """``controller.scheduledTime`` as integer epoch ms (a JavaScript number arrives as float)."""
    value = getattr(controller, "scheduledTime", None)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TypeError(f"controller.scheduledTime must be epoch milliseconds, not {value!r}")
    return int(value)


def create_cloudflare_workflow_scheduled_handler(
    *, runtime: RuntimeOrFactory, **options: Unpack[HostSweepKwargs]
) -> CloudflareScheduledHandler:
    """A ``scheduled(controller, env, ctx)`` handler that runs one bounded sweep.

    ``runtime`` is a ``WorkflowRuntime`` or a (sync or async) factory called with
    ``(controller, env, ctx)`` on every tick, typically building a D1 store from
    ``env.DB``. ``now`` defaults to ``controller.scheduledTime``, so a late tick still
    materializes the bucket it was scheduled for. The handler awaits the sweep and returns
    the compact summary; a failure raises ``HostSweepError`` (no payloads), which marks
    the Cron event failed. The other options are ``HostSweepOptions``.
    """
    base = HostSweepOptions(**options)

    async def scheduled(controller: Any, env: Any, ctx: Any) -> dict[str, Any]:
        sweep_options = base
        if base.now is None:
            sweep_options = dataclasses.replace(base, now=scheduled_time_ms(controller))
        return await run_host_sweep(
            runtime, sweep_options, host="cloudflare", context=(controller, env, ctx)
        )

    return scheduled
