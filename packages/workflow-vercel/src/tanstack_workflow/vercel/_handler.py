"""``create_vercel_workflow_sweep_handler``: a Vercel Cron Job route as one sweep."""

from __future__ import annotations

from typing import Unpack

from tanstack_workflow.runtime import (
    HostSweepApp,
    HostSweepKwargs,
    HostSweepOptions,
    RuntimeOrFactory,
    create_host_sweep_asgi_app,
)


def create_vercel_workflow_sweep_handler(
    *, runtime: RuntimeOrFactory, cron_secret: str, **options: Unpack[HostSweepKwargs]
) -> HostSweepApp:
    """An ASGI app for ``api/workflow/sweep.py`` (export it as ``app``).

    Vercel Cron calls the path with ``GET`` and ``Authorization: Bearer $CRON_SECRET``;
    ``POST`` is accepted too, for manual or external triggers. The header is compared
    with ``cron_secret`` in constant time: a wrong or missing one gets 401, other
    methods 405. A sweep answers 200 with the compact summary, or 500 with an error that
    names only the failed phase. ``cron_secret`` must be non-empty. A ``runtime``
    factory is called with the ASGI scope. The other options are ``HostSweepOptions``;
    keep ``max_duration_ms`` below the function's ``maxDuration``.
    """
    return create_host_sweep_asgi_app(
        runtime=runtime,
        options=HostSweepOptions(**options),
        secret=cron_secret,
        host="vercel",
        methods=("GET", "POST"),
    )
