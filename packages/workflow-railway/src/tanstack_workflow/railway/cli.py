"""``tanstack-workflow-railway``: the start command of a Railway cron service.

Sweeps once, prints one JSON summary line, closes the runtime's store connections and
exits: 0 on success, 1 when the sweep or the runtime failed (a short error on stderr;
a failed sweep names only its phase and exception type, never payloads), 2 for usage
errors such as a bad ``--runtime``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import sys
from collections.abc import Sequence

from tanstack_workflow.core import WorkflowValidationError
from tanstack_workflow.runtime import HostSweepError, HostSweepOptions
from tanstack_workflow.runtime.cli import (
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_USAGE,
    RUNTIME_ENV,
    RuntimeSpecError,
    add_runtime_argument,
    add_sweep_arguments,
    open_runtime,
    sweep_options_from_args,
)

from ._command import create_railway_workflow_cron_command

PROG = "tanstack-workflow-railway"


def _error(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr, flush=True)


async def _sweep_once(spec: str, options: HostSweepOptions) -> int:
    try:
        async with open_runtime(spec) as runtime:
            fields = {f.name: getattr(options, f.name) for f in dataclasses.fields(options)}
            await create_railway_workflow_cron_command(runtime=runtime, **fields)()
    except RuntimeSpecError as exc:
        _error(str(exc))
        return EXIT_USAGE
    except HostSweepError as exc:
        _error(str(exc))
        return EXIT_FAILURE
    except Exception as exc:
        # Importing, building or closing the runtime failed; no workflow data is involved.
        _error(f"could not load or close the runtime: {type(exc).__name__}: {exc}")
        return EXIT_FAILURE
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``tanstack-workflow-railway``."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Sweep due workflow work once and exit (a Railway cron service's start command).",
        epilog=f"example: {PROG} --runtime app.workflows:runtime --max-duration-ms 240000",
    )
    add_runtime_argument(parser)
    add_sweep_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    spec = args.runtime or os.environ.get(RUNTIME_ENV)
    if not spec:
        parser.error(f"no runtime: pass --runtime package.module:attribute or set ${RUNTIME_ENV}")
    try:
        options = sweep_options_from_args(args)
    except WorkflowValidationError as exc:
        parser.error(str(exc))
    return asyncio.run(_sweep_once(spec, options))
