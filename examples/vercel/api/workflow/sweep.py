"""Vercel Function at /api/workflow/sweep: the Cron Job's target, one bounded sweep per call.

Vercel sends ``Authorization: Bearer $CRON_SECRET`` with every cron invocation; set
``CRON_SECRET`` in the project's environment variables.
"""

from __future__ import annotations

import os

from workflows import runtime

from tanstack_workflow.vercel import create_vercel_workflow_sweep_handler

app = create_vercel_workflow_sweep_handler(
    runtime=runtime,
    cron_secret=os.environ["CRON_SECRET"],
    # Below functions.maxDuration (60 s in vercel.json): the sweep stops starting new
    # work in time to answer, and reports remainingMayExist for the next tick.
    max_duration_ms=50_000,
)
