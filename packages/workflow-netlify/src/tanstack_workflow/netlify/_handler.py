"""``create_netlify_workflow_sweep_handler``: the Python end of a Netlify scheduled function.

Netlify Functions run JavaScript/TypeScript and Go, not Python. The packaged
``workflow-sweep.mts`` scheduled function forwards each tick (``{"next_run": ...}``) to
this ASGI app, hosted wherever your Python app runs.
"""

from __future__ import annotations

import json
from typing import Unpack

from tanstack_workflow.runtime import (
    HostSweepApp,
    HostSweepKwargs,
    HostSweepOptions,
    RuntimeOrFactory,
    create_host_sweep_asgi_app,
)


def check_tick_body(body: bytes) -> str | None:
    """Why ``body`` is not a scheduled-function tick, or ``None`` when it is one.

    A tick is a JSON object whose optional ``next_run`` is a string; an empty body
    (a manual ``curl -X POST``) counts as ``{}``.
    """
    if not body.strip():
        return None
    try:
        tick = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return 'body must be JSON like {"next_run": "..."}'
    if not isinstance(tick, dict):
        return 'body must be a JSON object like {"next_run": "..."}'
    next_run = tick.get("next_run")
    if next_run is not None and not isinstance(next_run, str):
        return "next_run must be a string"
    return None


def create_netlify_workflow_sweep_handler(
    *, runtime: RuntimeOrFactory, secret: str, **options: Unpack[HostSweepKwargs]
) -> HostSweepApp:
    """An ASGI app that sweeps once per forwarded Netlify tick.

    Accepts ``POST`` with ``Authorization: Bearer <secret>`` (constant-time compare) and
    a tick body. Answers 200 with the compact summary; 401 for a wrong or missing secret,
    405 for other methods, 400 for a body that is not a tick, 500 with an error naming
    only the failed phase. ``secret`` must be non-empty. A ``runtime`` factory is called
    with the ASGI scope. The other options are ``HostSweepOptions``; keep
    ``max_duration_ms`` under the forwarder's 25-second timeout.
    """
    return create_host_sweep_asgi_app(
        runtime=runtime,
        options=HostSweepOptions(**options),
        secret=secret,
        host="netlify",
        methods=("POST",),
        check_body=check_tick_body,
    )
