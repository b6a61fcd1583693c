"""The simulated parts of a Python Worker: the scheduled controller and the execution ctx."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any


def controller(scheduled_time: float, cron: str = "*/5 * * * *") -> SimpleNamespace:
    """A ``ScheduledController``: JavaScript numbers arrive in Python as floats."""
    return SimpleNamespace(scheduledTime=scheduled_time, cron=cron, type="scheduled")


class ExecutionContext:
    """A Worker ``ctx`` that records what is handed to ``waitUntil``."""

    def __init__(self) -> None:
        self.waited: list[Any] = []

    def waitUntil(self, awaitable: Any) -> None:
        self.waited.append(awaitable)

    def passThroughOnException(self) -> None:
        pass
