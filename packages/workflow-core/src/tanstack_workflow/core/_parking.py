"""Parking: the handler task's side of a workflow kept suspended in memory.

Normally a wait that must pause raises ``WorkflowPaused``, unwinding the handler; the
next invocation replays the log from the start. A replayer with parking enabled
instead hands "paused" to the invocation that is driving it and blocks the handler
task on a future. A later invocation wakes it and the wait continues where it
stopped, so resuming costs O(new events) rather than a replay of the whole history.

Parking is only taken when it is indistinguishable from a replay: the pause happens
in the handler's own task while no other task is inside a durable primitive. Anything
that touches the replayer while it is parked (a stray background task calling a
primitive) taints it, and a tainted workflow is never resumed: the caller replays.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._errors import WorkflowPaused

if TYPE_CHECKING:
    from ._writes import DeliveryRejected


@dataclass(frozen=True)
class Parked:
    """Handed to the driving invocation: the handler is parked at a wait.

    ``rejection`` is set when a delivery was refused at the wait (the run is unchanged
    and the handler parked again)."""

    rejection: DeliveryRejected | None = None


@dataclass(frozen=True)
class _Wake:
    context: Any = None


_EVICT = object()


class Parking:
    """Where a handler task parks, and how a resuming invocation wakes it."""

    def __init__(self) -> None:
        self.task: asyncio.Task[None] | None = None
        self.handoff: asyncio.Future[Any] | None = None
        self.parked = False
        self.tainted = False
        self.finished = False
        self._wakeup: asyncio.Future[Any] | None = None
        self._foreign = 0

    # -- the handler task ---------------------------------------------------

    def can_park(self) -> bool:
        """True when this pause may park instead of unwinding the handler."""
        return (
            self.task is not None
            and not self.tainted
            and self._foreign == 0
            and asyncio.current_task() is self.task
        )

    async def park(self, marker: Parked) -> Any:
        """Hand ``marker`` to the driving invocation and block until woken.

        Returns the waking invocation's tracing context; raises ``WorkflowPaused``
        (unwinding the handler as a normal pause would) when the workflow is evicted.
        """
        self._wakeup = asyncio.get_running_loop().create_future()
        self.parked = True
        self.deliver(marker)
        try:
            command = await self._wakeup
        finally:
            self.parked = False
            self._wakeup = None
        if command is _EVICT:
            raise WorkflowPaused()
        assert isinstance(command, _Wake)
        return command.context

    def deliver(self, result: Any) -> None:
        """Give the driving invocation its result (dropped when nobody waits)."""
        handoff, self.handoff = self.handoff, None
        if handoff is not None and not handoff.done():
            handoff.set_result(result)

    def fail(self, error: BaseException) -> None:
        """Give the driving invocation the handler's exception (if anyone waits)."""
        handoff, self.handoff = self.handoff, None
        if handoff is not None and not handoff.done():
            handoff.set_exception(error)

    def enter(self) -> None:
        """A durable primitive starts; one from another task blocks parking meanwhile."""
        if self.parked:
            self.tainted = True  # something runs while the handler is parked
        if self.task is not None and asyncio.current_task() is not self.task:
            self._foreign += 1

    def leave(self) -> None:
        """A durable primitive ended."""
        if self.task is not None and asyncio.current_task() is not self.task:
            self._foreign -= 1

    # -- the invocation side ------------------------------------------------

    def wake(self, context: Any = None) -> None:
        """Let the parked handler continue (``handoff`` must be set first)."""
        assert self._wakeup is not None
        assert not self._wakeup.done()
        self._wakeup.set_result(_Wake(context))

    def evict(self) -> None:
        """Unwind the parked handler with ``WorkflowPaused``; nothing is written."""
        self.handoff = None
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(_EVICT)
