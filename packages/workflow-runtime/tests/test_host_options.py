"""HostSweepOptions: the options every host adapter shares, checked when an adapter is built."""

from __future__ import annotations

import dataclasses
import typing

import pytest

from tanstack_workflow.core import WorkflowValidationError
from tanstack_workflow.runtime import (
    HostSweepError,
    HostSweepKwargs,
    HostSweepOptions,
    define_workflow_runtime,
    in_memory_workflow_execution_store,
    run_host_sweep,
)


def test_kwargs_typed_dict_lists_the_same_options_as_the_dataclass() -> None:
    fields = {f.name for f in dataclasses.fields(HostSweepOptions)}
    assert set(typing.get_type_hints(HostSweepKwargs)) == fields


def test_defaults_keep_the_summary_compact() -> None:
    options = HostSweepOptions()
    assert options.include_events is False
    assert options.include_sweep_result is False
    assert options.materialize_schedules is True


@pytest.mark.parametrize(
    "bad",
    [
        {"limit": -1},
        {"max_timers": 1.5},
        {"max_duration_ms": 0},
        {"lease_ms": 0},
        {"cron_lookback_ms": -5},
        {"now": True},
        {"lease_owner": ""},
        {"lease_owner": 42},
    ],
)
def test_bad_options_fail_when_the_adapter_is_built(bad: dict[str, object]) -> None:
    with pytest.raises(WorkflowValidationError):
        HostSweepOptions(**bad)  # type: ignore[arg-type]


async def test_a_failing_factory_is_reported_as_the_runtime_phase_without_its_message() -> None:
    def factory() -> typing.Any:
        raise RuntimeError("secret-token-123")

    with pytest.raises(HostSweepError) as caught:
        await run_host_sweep(factory, HostSweepOptions(now=0))
    assert str(caught.value) == "workflow sweep failed during runtime: RuntimeError"
    assert "secret" not in str(caught.value)


async def test_a_factory_receives_the_host_context_and_a_callable_lease_owner_is_used() -> None:
    runtime = define_workflow_runtime(store=in_memory_workflow_execution_store(), workflows={})
    seen: list[tuple[object, ...]] = []

    async def factory(*context: object) -> typing.Any:
        seen.append(context)
        return runtime

    summary = await run_host_sweep(
        factory,
        HostSweepOptions(now=5, lease_owner=lambda: "owner-1"),
        host="test",
        context=("controller", "env"),
    )
    assert seen == [("controller", "env")]
    assert summary["leaseOwner"] == "owner-1"
    assert summary["now"] == 5
