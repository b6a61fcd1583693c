"""The ``tanstack-workflow`` command line: sweep, inspect runs, deliver signals and approvals.

``--runtime pkg.module:attr`` (or ``TANSTACK_WORKFLOW_RUNTIME``) names a
``WorkflowRuntime`` or a zero-argument (sync or async) factory returning one; the
current directory is importable, as with uvicorn. The runtime is closed on exit.

Exit codes: 0 ok; 1 the runtime or store failed or refused the request; 2 usage error
(including a bad ``--runtime``); 3 run not found.

Host console scripts (``tanstack-workflow-railway``) reuse ``add_runtime_argument``,
``add_sweep_arguments``, ``sweep_options_from_args`` and ``open_runtime``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import inspect
import json
import os
import sys
from collections.abc import AsyncIterator, Sequence
from typing import Any, cast

from tanstack_workflow.core import WorkflowValidationError

from ._cli_format import (
    dump_json,
    format_result,
    format_run_page,
    format_schedules,
    format_sweep_summary,
    format_timeline,
    schedule_rows,
)
from ._driver import WorkflowRunResult
from ._host import HostSweepError, HostSweepOptions, RuntimeOrFactory, run_host_sweep
from ._runtime import WorkflowRuntime
from ._schedules import DEFAULT_CRON_LOOKBACK_MS

__all__ = [
    "EXIT_FAILURE",
    "EXIT_NOT_FOUND",
    "EXIT_OK",
    "EXIT_USAGE",
    "RUNTIME_ENV",
    "RuntimeSpecError",
    "add_runtime_argument",
    "add_sweep_arguments",
    "load_runtime_spec",
    "main",
    "open_runtime",
    "sweep_options_from_args",
]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
RUNTIME_ENV = "TANSTACK_WORKFLOW_RUNTIME"
PROG = "tanstack-workflow"


class RuntimeSpecError(Exception):
    """``--runtime`` does not name an importable runtime or zero-argument factory."""


class _CommandError(Exception):
    """A command failed in a way the user should read; carries its exit code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def _required_parameters(value: Any) -> list[str]:
    try:
        signature = inspect.signature(value)
    except (TypeError, ValueError):
        return []
    return [
        p.name
        for p in signature.parameters.values()
        if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]


def load_runtime_spec(spec: str) -> RuntimeOrFactory:
    """Import ``pkg.module:attr`` and return the runtime or factory it names."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise RuntimeSpecError(
            f"--runtime must look like 'package.module:attribute' (got {spec!r})"
        )
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        value: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if module_name == missing or module_name.startswith(missing + "."):
            raise RuntimeSpecError(f"cannot import module {module_name!r}: {exc}") from exc
        raise
    for part in attr.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            raise RuntimeSpecError(f"module {module_name!r} has no attribute {attr!r}") from None
    if isinstance(value, WorkflowRuntime):
        return value
    if callable(value):
        required = _required_parameters(value)
        if required:
            raise RuntimeSpecError(
                f"{spec!r} needs arguments ({', '.join(required)}); --runtime takes a "
                "WorkflowRuntime or a factory that takes none"
            )
        return cast(RuntimeOrFactory, value)
    raise RuntimeSpecError(
        f"{spec!r} is a {type(value).__name__}, not a WorkflowRuntime or a factory returning one"
    )


@contextlib.asynccontextmanager
async def open_runtime(spec: str) -> AsyncIterator[WorkflowRuntime]:
    """The runtime ``spec`` names (built by its factory if need be), closed on exit."""
    target = load_runtime_spec(spec)
    if isinstance(target, WorkflowRuntime):
        runtime = target
    else:
        built = target()
        if inspect.isawaitable(built):
            built = await built
        if not isinstance(built, WorkflowRuntime):
            raise RuntimeSpecError(
                f"{spec!r} returned {type(built).__name__}, not a WorkflowRuntime"
            )
        runtime = built
    try:
        yield runtime
    finally:
        await runtime.close()


def add_runtime_argument(parser: argparse.ArgumentParser, *, default: Any = None) -> None:
    """``--runtime pkg.module:attr`` (falls back to ``TANSTACK_WORKFLOW_RUNTIME``)."""
    parser.add_argument(
        "--runtime",
        metavar="MODULE:ATTR",
        default=default,
        help=f"the WorkflowRuntime or zero-argument factory to use (default: ${RUNTIME_ENV})",
    )


def add_sweep_arguments(parser: argparse.ArgumentParser) -> None:
    """The host-sweep options every adapter accepts, as command-line flags."""
    group = parser.add_argument_group("sweep options")
    group.add_argument("--now", type=int, metavar="MS", help="sweep as of this epoch ms")
    group.add_argument("--lease-owner", metavar="NAME", help="lease owner name (default: unique)")
    group.add_argument("--limit", type=int, metavar="N", help="runs per phase (default 25)")
    group.add_argument("--max-scheduled-runs", type=int, metavar="N")
    group.add_argument("--max-timers", type=int, metavar="N")
    group.add_argument(
        "--max-duration-ms",
        type=int,
        metavar="MS",
        help="time budget; keep it below the host's limit",
    )
    group.add_argument("--lease-ms", type=int, metavar="MS")
    group.add_argument("--include-events", action="store_true", help="keep events in results")
    group.add_argument("--max-events", type=int, metavar="N")
    group.add_argument(
        "--include-sweep-result", action="store_true", help="add per-run results to the summary"
    )
    group.add_argument(
        "--no-materialize-schedules",
        dest="materialize_schedules",
        action="store_false",
        help="do not write due schedule buckets before sweeping",
    )
    group.add_argument(
        "--cron-lookback-ms", type=int, metavar="MS", default=DEFAULT_CRON_LOOKBACK_MS
    )


def sweep_options_from_args(args: argparse.Namespace) -> HostSweepOptions:
    """``HostSweepOptions`` from flags added by ``add_sweep_arguments``.

    Raises ``WorkflowValidationError`` for values out of range.
    """
    return HostSweepOptions(
        now=args.now,
        lease_owner=args.lease_owner,
        limit=args.limit,
        max_scheduled_runs=args.max_scheduled_runs,
        max_timers=args.max_timers,
        max_duration_ms=args.max_duration_ms,
        lease_ms=args.lease_ms,
        include_events=args.include_events,
        max_events=args.max_events,
        include_sweep_result=args.include_sweep_result,
        materialize_schedules=args.materialize_schedules,
        cron_lookback_ms=args.cron_lookback_ms,
    )


# Each command returns (human text, JSON value); a _CommandError carries another exit code.
Output = tuple[str, Any]


async def _sweep(runtime: WorkflowRuntime, args: argparse.Namespace) -> Output:
    summary = await run_host_sweep(runtime, args.sweep_options, host="cli")
    return format_sweep_summary(summary), summary


async def _runs_list(runtime: WorkflowRuntime, args: argparse.Namespace) -> Output:
    page = await runtime.list_runs(
        workflow_id=args.workflow, status=args.status, limit=args.limit, cursor=args.cursor
    )
    return format_run_page(page), page.to_wire()


async def _runs_show(runtime: WorkflowRuntime, args: argparse.Namespace) -> Output:
    timeline = await runtime.get_run_timeline(args.run_id)
    if timeline is None:
        raise _CommandError(EXIT_NOT_FOUND, f"run {args.run_id!r} not found")
    return format_timeline(timeline), timeline.to_wire()


def _delivery_output(result: WorkflowRunResult, what: str) -> Output:
    if result.kind == "not-found":
        raise _CommandError(EXIT_NOT_FOUND, f"run {result.run_id!r} not found")
    if result.kind in ("not-waiting", "not-claimable"):
        reason = (
            f"is not waiting for {what}"
            if result.kind == "not-waiting"
            else "is being driven by another worker; try again"
        )
        raise _CommandError(
            EXIT_FAILURE, f"{result.kind}: run {result.run_id!r} {reason}; nothing delivered"
        )
    return format_result(result), result.to_wire()


async def _signal(runtime: WorkflowRuntime, args: argparse.Namespace) -> Output:
    result = await runtime.deliver_signal(
        run_id=args.run_id,
        signal_id=args.signal_id,
        name=args.name,
        payload=args.payload,
        step_id=args.step_id,
        include_events=False,
    )
    return _delivery_output(result, f"signal {args.name!r}")


async def _approve(runtime: WorkflowRuntime, args: argparse.Namespace) -> Output:
    result = await runtime.deliver_approval(
        run_id=args.run_id,
        approval={
            "approval_id": args.approval_id,
            "approved": not args.reject,
            "feedback": args.feedback,
        },
        include_events=False,
    )
    return _delivery_output(result, f"approval {args.approval_id!r}")


async def _cancel(runtime: WorkflowRuntime, args: argparse.Namespace) -> Output:
    result = await runtime.cancel_run(run_id=args.run_id, reason=args.reason)
    if result.kind == "not-found":
        raise _CommandError(EXIT_NOT_FOUND, f"run {args.run_id!r} not found")
    status = result.run.status if result.run else "unknown"
    if result.detail == "cancelled":
        text = f"cancelled: run {args.run_id}, status {status}"
    else:
        text = f"not cancelled: run {args.run_id} had already ended (status {status})"
    return text, result.to_wire()


async def _schedules_list(runtime: WorkflowRuntime, args: argparse.Namespace) -> Output:
    rows = schedule_rows(dict(runtime.workflows), await runtime.store.list_schedules())
    return format_schedules(rows), rows


def _page_size(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {value})")
    return value


def _json_argument(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON: {exc}") from None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``tanstack-workflow``."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Operate durable workflows: sweep, inspect runs, signal, approve, cancel.",
        epilog=f"example: {PROG} --runtime app.workflows:runtime runs list --status paused",
    )
    add_runtime_argument(parser)
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")
    # The same two flags after the subcommand; SUPPRESS keeps the top-level value unless given.
    common = argparse.ArgumentParser(add_help=False)
    add_runtime_argument(common, default=argparse.SUPPRESS)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sweep = commands.add_parser(
        "sweep", parents=[common], help="materialize schedules and run one bounded sweep"
    )
    add_sweep_arguments(sweep)
    sweep.set_defaults(handler=_sweep)

    runs = commands.add_parser("runs", help="list runs or show one run's timeline")
    runs_commands = runs.add_subparsers(dest="runs_command", required=True, metavar="COMMAND")
    runs_list = runs_commands.add_parser("list", parents=[common], help="runs, newest first")
    runs_list.add_argument("--workflow", metavar="ID", help="only this workflow id")
    runs_list.add_argument(
        "--status", choices=["running", "paused", "finished", "errored", "aborted"]
    )
    runs_list.add_argument(
        "--limit", type=_page_size, default=50, metavar="N", help="page size (50)"
    )
    runs_list.add_argument("--cursor", help="the cursor printed by the previous page")
    runs_list.set_defaults(handler=_runs_list)
    runs_show = runs_commands.add_parser("show", parents=[common], help="a run and its timeline")
    runs_show.add_argument("run_id", metavar="RUN_ID")
    runs_show.set_defaults(handler=_runs_show)

    signal = commands.add_parser("signal", parents=[common], help="deliver a signal to a run")
    signal.add_argument("run_id", metavar="RUN_ID")
    signal.add_argument("name", metavar="NAME", help="the signal name the run waits for")
    signal.add_argument(
        "--id", dest="signal_id", required=True, metavar="SIGNAL_ID", help="idempotency id"
    )
    signal.add_argument("--payload", type=_json_argument, metavar="JSON", help="JSON payload")
    signal.add_argument("--step-id", metavar="STEP_ID", help="the waiting step, if ambiguous")
    signal.set_defaults(handler=_signal)

    approve = commands.add_parser("approve", parents=[common], help="approve (or reject) a run")
    approve.add_argument("run_id", metavar="RUN_ID")
    approve.add_argument("approval_id", metavar="APPROVAL_ID")
    approve.add_argument("--reject", action="store_true", help="reject instead of approve")
    approve.add_argument("--feedback", metavar="TEXT")
    approve.set_defaults(handler=_approve)

    cancel = commands.add_parser("cancel", parents=[common], help="cancel a run")
    cancel.add_argument("run_id", metavar="RUN_ID")
    cancel.add_argument("--reason", metavar="TEXT")
    cancel.set_defaults(handler=_cancel)

    schedules = commands.add_parser("schedules", help="registered and stored schedules")
    schedules_commands = schedules.add_subparsers(
        dest="schedules_command", required=True, metavar="COMMAND"
    )
    schedules_list = schedules_commands.add_parser(
        "list", parents=[common], help="schedules with their last bucket and run"
    )
    schedules_list.set_defaults(handler=_schedules_list)
    return parser


def _error(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)


async def _run(spec: str, args: argparse.Namespace) -> int:
    try:
        async with open_runtime(spec) as runtime:
            text, value = await args.handler(runtime, args)
    except _CommandError as exc:
        _error(str(exc))
        return exc.code
    except RuntimeSpecError:
        raise
    except HostSweepError as exc:
        _error(str(exc))  # names the phase and exception type, never payloads
        return EXIT_FAILURE
    except Exception as exc:
        _error(f"{type(exc).__name__}: {exc}")
        return EXIT_FAILURE
    print(dump_json(value) if args.json else text)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tanstack-workflow`` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    spec = args.runtime or os.environ.get(RUNTIME_ENV)
    if not spec:
        parser.error(f"no runtime: pass --runtime package.module:attribute or set ${RUNTIME_ENV}")
    if args.command == "sweep":
        try:
            args.sweep_options = sweep_options_from_args(args)
        except WorkflowValidationError as exc:
            parser.error(str(exc))
    try:
        return asyncio.run(_run(spec, args))
    except RuntimeSpecError as exc:
        _error(str(exc))
        return EXIT_USAGE
