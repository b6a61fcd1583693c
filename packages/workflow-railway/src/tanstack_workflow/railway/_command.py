"""``create_railway_workflow_cron_command``: one bounded sweep per Railway cron run."""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any, Unpack

from tanstack_workflow.runtime import (
    HostSweepKwargs,
    HostSweepOptions,
    RuntimeOrFactory,
    run_host_sweep,
)

RailwayCronCommand = Callable[[], Awaitable[dict[str, Any]]]
SummaryLogger = Callable[[dict[str, Any]], None]


def log_summary_line(summary: dict[str, Any]) -> None:
    """Print the summary as one JSON line on stdout (Railway keeps it in the run's logs)."""
    print(json.dumps(summary, separators=(",", ":")), file=sys.stdout, flush=True)


def create_railway_workflow_cron_command(
    *,
    runtime: RuntimeOrFactory,
    log_summary: bool | SummaryLogger = True,
    **options: Unpack[HostSweepKwargs],
) -> RailwayCronCommand:
    """An async command that materializes schedules, sweeps once and returns the summary.

    ``runtime`` is a ``WorkflowRuntime`` or a zero-argument (sync or async) factory.
    ``log_summary`` prints the summary as one JSON line (or passes it to your callable).
    A failure raises ``HostSweepError`` (no payloads). The command never closes the
    runtime: the console script does, or your own script should
    (``await runtime.close()``) before the process exits, because Railway skips the next
    tick while a run is still alive. The other options are ``HostSweepOptions``.
    """
    base = HostSweepOptions(**options)

    async def sweep() -> dict[str, Any]:
        summary = await run_host_sweep(runtime, base, host="railway")
        if callable(log_summary):
            log_summary(summary)
        elif log_summary:
            log_summary_line(summary)
        return summary

    return sweep
