"""``tanstack-workflow-netlify init``: add the scheduled-function forwarder to a Netlify site.

Writes ``netlify/functions/workflow-sweep.mts`` and a ``netlify.toml`` entry with its
schedule (written when the site has no ``netlify.toml`` yet, printed otherwise, so an
existing configuration is never rewritten). Exit codes: 0 ok, 1 a file already exists
(``--force`` overwrites the function), 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from urllib.parse import urlparse

from tanstack_workflow.core import WorkflowDefinitionError
from tanstack_workflow.runtime import cron

PROG = "tanstack-workflow-netlify"
FUNCTION_NAME = "workflow-sweep"
FUNCTION_PATH = Path("netlify") / "functions" / f"{FUNCTION_NAME}.mts"
DEFAULT_SCHEDULE = "*/5 * * * *"


def render_function(endpoint: str | None) -> str:
    """The forwarder's TypeScript, with ``endpoint`` as its default URL."""
    template = resources.files("tanstack_workflow.netlify").joinpath(
        "templates", "workflow-sweep.mts"
    )
    return template.read_text(encoding="utf-8").replace(
        "__DEFAULT_ENDPOINT__", json.dumps(endpoint or "")
    )


def netlify_toml_snippet(schedule: str) -> str:
    """The ``netlify.toml`` table that schedules the forwarder (cron times are UTC)."""
    return f'[functions."{FUNCTION_NAME}"]\n  schedule = {json.dumps(schedule)}\n'


def check_schedule(schedule: str) -> str:
    """A Netlify schedule: five cron fields (UTC) or ``@hourly``, ``@daily``, ..."""
    if not schedule.startswith("@") and len(schedule.split()) != 5:
        raise argparse.ArgumentTypeError(
            f"Netlify schedules have five cron fields (got {schedule!r})"
        )
    try:
        cron(schedule)
    except WorkflowDefinitionError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return schedule


def check_endpoint(endpoint: str) -> str:
    """An absolute http(s) URL."""
    parsed = urlparse(endpoint)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise argparse.ArgumentTypeError(
            f"--endpoint must be an absolute http(s) URL (got {endpoint!r})"
        )
    return endpoint


def init_site(site: Path, *, endpoint: str | None, schedule: str, force: bool) -> int:
    """Write the forwarder (and ``netlify.toml`` when missing); print what to do next."""
    function_file = site / FUNCTION_PATH
    if function_file.exists() and not force:
        print(
            f"{PROG}: error: {function_file} already exists; pass --force to overwrite it",
            file=sys.stderr,
        )
        return 1
    function_file.parent.mkdir(parents=True, exist_ok=True)
    function_file.write_text(render_function(endpoint), encoding="utf-8")
    print(f"wrote {function_file}")

    snippet = netlify_toml_snippet(schedule)
    config = site / "netlify.toml"
    if not config.exists():
        config.write_text(snippet, encoding="utf-8")
        print(f"wrote {config}")
    elif f'[functions."{FUNCTION_NAME}"]' in config.read_text(encoding="utf-8"):
        print(f'{config} already has [functions."{FUNCTION_NAME}"]; check its schedule')
    else:
        print(f"add this to {config}:\n\n{snippet}")

    print("\nnext steps:")
    print("  1. deploy the Python endpoint (create_netlify_workflow_sweep_handler) somewhere")
    print("     that runs Python; Netlify Functions cannot.")
    print("  2. give the forwarder its secret (and URL) at runtime:")
    print("       netlify env:set WORKFLOW_SWEEP_SECRET <secret> --scope functions")
    if endpoint is None:
        print(
            "       netlify env:set WORKFLOW_SWEEP_URL https://<your-app>/workflow/sweep --scope functions"
        )
    print("  3. deploy the site; scheduled functions run only on published deploys.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``tanstack-workflow-netlify``."""
    parser = argparse.ArgumentParser(
        prog=PROG, description="Netlify scheduled-function forwarder for tanstack-workflow sweeps."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    init = commands.add_parser("init", help="write netlify/functions/workflow-sweep.mts")
    init.add_argument("--dir", type=Path, default=Path("."), help="the site's base directory")
    init.add_argument(
        "--endpoint", type=check_endpoint, metavar="URL", help="the Python sweep endpoint's URL"
    )
    init.add_argument(
        "--schedule",
        type=check_schedule,
        default=DEFAULT_SCHEDULE,
        help=f"cron schedule in UTC (default {DEFAULT_SCHEDULE!r})",
    )
    init.add_argument("--force", action="store_true", help="overwrite an existing function file")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.dir.is_dir():
        parser.error(f"--dir {str(args.dir)!r} is not a directory")
    return init_site(args.dir, endpoint=args.endpoint, schedule=args.schedule, force=args.force)
