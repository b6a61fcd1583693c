"""Helpers shared by the workflow-runtime tests (imported via conftest's sys.path entry)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from tanstack_workflow.core import WorkflowEvent
from tanstack_workflow.runtime import (
    InMemoryWorkflowExecutionStore,
    WorkflowRuntime,
    define_workflow_runtime,
)

T0 = 1_700_000_000_000
"""A fixed epoch-ms starting point for tests that control time with ``now``."""


def runtime_for(
    store: InMemoryWorkflowExecutionStore, workflows: Mapping[str, Any], **options: Any
) -> WorkflowRuntime:
    return define_workflow_runtime(store=store, workflows=workflows, **options)


def types(events: Sequence[WorkflowEvent]) -> list[str]:
    return [event.type for event in events]


async def log_types(store: InMemoryWorkflowExecutionStore, run_id: str) -> list[str]:
    return [stored.event_type for stored in await store.read_events(run_id)]


def ms(year: int, month: int, day: int, hour: int = 0, minute: int = 0, tz: str = "UTC") -> int:
    """Epoch ms of a wall-clock time in ``tz`` (first occurrence when ambiguous)."""
    local = datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(tz))
    return int(local.astimezone(UTC).timestamp() * 1000)


class Calls:
    """Counts how often each step function really ran."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def __call__(self, name: str, value: Any = None) -> Any:
        def fn() -> Any:
            self.counts[name] = self.counts.get(name, 0) + 1
            return name if value is None else value

        return fn
