"""examples/railway: railway.toml and the runtime module it names agree."""

from __future__ import annotations

import shlex
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from tanstack_workflow.railway.cli import build_parser
from tanstack_workflow.runtime import WorkflowRuntime

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "railway"


def test_railway_toml_runs_one_sweep_per_cron_tick_and_never_restarts() -> None:
    deploy = tomllib.loads((EXAMPLE / "railway.toml").read_text())["deploy"]
    assert deploy["restartPolicyType"] == "NEVER"
    minute, *rest = deploy["cronSchedule"].split()
    assert len(rest) == 4
    assert minute.startswith("*/")
    assert int(minute[2:]) >= 5  # Railway's shortest cron interval
    program, *args = shlex.split(deploy["startCommand"])
    assert program == "tanstack-workflow-railway"
    parsed = build_parser().parse_args(args)
    assert parsed.runtime == "workflows:runtime"
    assert parsed.max_duration_ms < int(minute[2:]) * 60_000
    assert deploy["preDeployCommand"] == ["python -m tanstack_workflow.store_postgres migrate"]


@pytest.fixture
def example_module(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    pytest.importorskip("tanstack_workflow.store_postgres")
    # The pool opens on first use, so importing needs no server.
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    monkeypatch.syspath_prepend(str(EXAMPLE))
    monkeypatch.delitem(sys.modules, "workflows", raising=False)
    import workflows  # type: ignore[import-not-found]

    yield workflows
    sys.modules.pop("workflows", None)


async def test_the_runtime_module_imports_without_connecting(example_module: ModuleType) -> None:
    runtime = example_module.runtime
    assert isinstance(runtime, WorkflowRuntime)
    assert list(runtime.workflows) == ["weekly-digest"]
    await runtime.close()
