"""The ``tanstack-workflow`` console script, run as a real subprocess.

Each call is a fresh process, like an operator's shell. The end-to-end tests keep state
in a local D1 file (``tanstack-workflow-store-d1``'s SQLite binding), so what one
command writes the next one reads back; the usage tests use an in-memory runtime.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

APP = textwrap.dedent(
    """
    import os

    from tanstack_workflow.core import create_workflow
    from tanstack_workflow.runtime import (
        InMemoryWorkflowExecutionStore,
        define_workflow_runtime,
        every,
        in_memory_workflow_execution_store,
    )


    @create_workflow("order").handler
    async def order(ctx):
        reserved = await ctx.step("reserve", lambda: {"sku": "A-1"})
        paid = await ctx.wait_for_event("paid")
        decision = await ctx.approve(title="Ship it?", id="ship")
        return {"reserved": reserved, "paid": paid, "shipped": decision.approved}


    WORKFLOWS = {
        "order": {"load": order, "schedules": [{"id": "order-every-15m", "spec": every.minutes(15)}]}
    }


    async def d1_runtime():
        from tanstack_workflow.store_d1 import (
            create_cloudflare_d1_workflow_store,
            local_d1_database,
        )

        store = create_cloudflare_d1_workflow_store(db=local_d1_database(os.environ["WORKFLOW_DB"]))
        await store.ensure_schema()
        return define_workflow_runtime(store=store, workflows=WORKFLOWS)


    memory_runtime = define_workflow_runtime(
        store=in_memory_workflow_execution_store(), workflows=WORKFLOWS
    )


    class FailingStore(InMemoryWorkflowExecutionStore):
        async def upsert_schedule(self, **kwargs):
            raise RuntimeError("payload-secret-42")


    failing_runtime = define_workflow_runtime(store=FailingStore(), workflows=WORKFLOWS)


    def broken_factory():
        raise RuntimeError("cannot reach the database")


    def needs_args(env):
        return memory_runtime


    not_a_runtime = 42
    """
)

RUN_ID = "order:order-every-15m:900000"


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@dataclass
class Cli:
    cwd: Path
    env: dict[str, str]

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Result:
        script = shutil.which("tanstack-workflow", path=str(Path(sys.executable).parent))
        assert script, "the tanstack-workflow console script is not installed"
        done = subprocess.run(
            [script, *args],
            cwd=self.cwd,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=60,
        )
        return Result(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    (tmp_path / "wf_app.py").write_text(APP)
    env = {k: v for k, v in os.environ.items() if k != "TANSTACK_WORKFLOW_RUNTIME"}
    env["WORKFLOW_DB"] = str(tmp_path / "workflows.sqlite")
    return Cli(tmp_path, env)


@pytest.fixture
def d1(cli: Cli) -> Cli:
    pytest.importorskip(
        "tanstack_workflow.store_d1", reason="the end-to-end CLI tests keep state in a D1 file"
    )
    cli.env["TANSTACK_WORKFLOW_RUNTIME"] = "wf_app:d1_runtime"
    return cli


def test_a_paused_run_is_signalled_approved_and_shown_across_processes(d1: Cli) -> None:
    swept = d1("sweep", "--now", "900000", "--json")
    assert swept.code == 0, swept.err
    summary = swept.json()
    assert summary["materialized"] == 1
    assert summary["summary"]["scheduled"] == {"paused": 1}
    assert "sweep" not in summary

    listed = d1("runs", "list")
    assert listed.code == 0
    assert "RUN ID" in listed.out
    assert RUN_ID in listed.out
    assert 'signal "paid"' in listed.out

    signalled = d1("signal", RUN_ID, "paid", "--id", "pay-1", "--payload", '{"amount": 5}')
    assert signalled.code == 0, signalled.err
    assert signalled.out.startswith(f"paused: run {RUN_ID}")
    assert '"Ship it?"' in signalled.out

    again = d1("signal", RUN_ID, "paid", "--id", "pay-1", "--payload", '{"amount": 5}')
    assert (again.code, again.out.split(":")[0]) == (0, "duplicate")

    other = d1("signal", RUN_ID, "paid", "--id", "pay-2")
    assert other.code == 1
    assert f"not-waiting: run '{RUN_ID}' is not waiting for signal 'paid'" in other.err

    shown = d1("runs", "show", RUN_ID, "--json").json()
    approval_id = shown["run"]["pendingApproval"]["approvalId"]
    approved = d1("approve", RUN_ID, approval_id, "--feedback", "looks good")
    assert approved.code == 0, approved.err
    assert approved.out.startswith(f"completed: run {RUN_ID}, status finished")

    timeline = d1("runs", "show", RUN_ID)
    assert timeline.code == 0
    lines = timeline.out.splitlines()
    assert lines[0].split() == ["run", RUN_ID]
    assert lines[2].split() == ["status", "finished"]
    rows = [line.split(None, 4) for line in lines if line[:1].isdigit()]
    assert [row[3] for row in rows] == [
        "STEP_FINISHED",
        "SIGNAL_AWAITED",
        "SIGNAL_RESOLVED",
        "APPROVAL_REQUESTED",
        "APPROVAL_RESOLVED",
        "RUN_FINISHED",
    ]
    assert [row[0] for row in rows] == ["0", "1", "2", "3", "4", "5"]
    details = "\n".join(lines)
    assert 'result {"sku":"A-1"}' in details
    assert '"paid" id=pay-1 payload {"amount":5}' in details
    assert "approved: looks good" in details

    cancelled = d1("cancel", RUN_ID)
    assert cancelled.code == 0
    assert "had already ended (status finished)" in cancelled.out


def test_unknown_runs_exit_3(d1: Cli) -> None:
    for args in (
        ["runs", "show", "nope"],
        ["signal", "nope", "paid", "--id", "s-1"],
        ["approve", "nope", "a-1"],
        ["cancel", "nope"],
    ):
        result = d1(*args)
        assert result.code == 3, args
        assert "run 'nope' not found" in result.err
        assert result.out == ""


def test_runs_list_filters_and_pages(d1: Cli) -> None:
    assert d1("sweep", "--now", "900000").code == 0
    # The schedule's overlap policy is "skip": the next bucket starts once this run ended.
    cancelled = d1("cancel", RUN_ID, "--reason", "customer asked")
    assert (cancelled.code, cancelled.out.strip()) == (
        0,
        f"cancelled: run {RUN_ID}, status aborted",
    )
    assert d1("sweep", "--now", "1800000").code == 0

    first = d1("runs", "list", "--limit", "1", "--json").json()
    assert len(first["runs"]) == 1
    assert first["nextCursor"]
    second = d1("runs", "list", "--limit", "1", "--cursor", first["nextCursor"], "--json").json()
    ids = {first["runs"][0]["runId"], second["runs"][0]["runId"]}
    assert ids == {RUN_ID, "order:order-every-15m:1800000"}

    paused = d1("runs", "list", "--status", "paused", "--json").json()
    assert [r["runId"] for r in paused["runs"]] == ["order:order-every-15m:1800000"]
    human = d1("runs", "list", "--limit", "1")
    assert "more runs: --cursor " in human.out

    shown = d1("runs", "show", RUN_ID)
    assert "aborted (cancelled)" in shown.out
    assert "[cancelled] WorkflowCancelled: customer asked" in shown.out


def test_schedules_list_joins_registrations_and_the_store(d1: Cli) -> None:
    before = d1("schedules", "list")
    assert before.code == 0
    assert "not materialized yet" in before.out
    assert "every 15m" in before.out

    d1("sweep", "--now", "900000")
    rows = d1("schedules", "list", "--json").json()
    assert rows == [
        {
            "scheduleId": "order-every-15m",
            "workflowId": "order",
            "schedule": {"kind": "interval", "everyMs": 900000, "timezone": "UTC"},
            "enabled": True,
            "registered": True,
            "stored": True,
            "overlapPolicy": "skip",
            "nextFireAt": 900000,
            "lastRunId": RUN_ID,
            "updatedAt": rows[0]["updatedAt"],
        }
    ]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("wf_app", "must look like 'package.module:attribute'"),
        ("no_such_module:runtime", "cannot import module 'no_such_module'"),
        ("wf_app:missing", "module 'wf_app' has no attribute 'missing'"),
        ("wf_app:not_a_runtime", "is a int, not a WorkflowRuntime"),
        ("wf_app:needs_args", "needs arguments (env)"),
    ],
)
def test_a_bad_runtime_spec_is_a_usage_error(cli: Cli, spec: str, message: str) -> None:
    result = cli("--runtime", spec, "runs", "list")
    assert result.code == 2
    assert message in result.err


def test_no_runtime_at_all_is_a_usage_error(cli: Cli) -> None:
    result = cli("runs", "list")
    assert result.code == 2
    assert "TANSTACK_WORKFLOW_RUNTIME" in result.err


def test_the_runtime_comes_from_the_environment_and_flags_go_either_side(cli: Cli) -> None:
    env = {"TANSTACK_WORKFLOW_RUNTIME": "wf_app:memory_runtime"}
    assert cli("runs", "list", env=env).out.strip() == "no runs"
    assert cli("--json", "runs", "list", env=env).json() == {"runs": []}
    assert cli("runs", "list", "--json", env=env).json() == {"runs": []}
    assert cli("runs", "list", "--runtime", "wf_app:memory_runtime").code == 0


def test_a_failing_factory_or_store_exits_1_without_payloads(cli: Cli) -> None:
    broken = cli("--runtime", "wf_app:broken_factory", "runs", "list")
    assert broken.code == 1
    assert "RuntimeError: cannot reach the database" in broken.err

    failing = cli("--runtime", "wf_app:failing_runtime", "sweep")
    assert failing.code == 1
    assert "workflow sweep failed during materialize: RuntimeError" in failing.err
    assert "payload-secret-42" not in failing.err + failing.out


@pytest.mark.parametrize(
    "args",
    [
        ["signal", "r-1", "paid", "--id", "s-1", "--payload", "{not json"],
        ["signal", "r-1", "paid"],
        ["sweep", "--limit", "-1"],
        ["sweep", "--max-duration-ms", "0"],
        ["runs", "list", "--limit", "0"],
        ["runs", "list", "--status", "sleeping"],
    ],
)
def test_bad_arguments_are_usage_errors(cli: Cli, args: list[str]) -> None:
    result = cli("--runtime", "wf_app:memory_runtime", *args)
    assert result.code == 2, result.err
    assert "error:" in result.err
