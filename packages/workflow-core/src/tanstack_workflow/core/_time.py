"""Epoch-millisecond time helpers."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta

Clock = Callable[[], int]


def system_clock() -> int:
    """Wall-clock time in epoch milliseconds."""
    return time.time_ns() // 1_000_000


def duration_to_ms(duration: int | float | timedelta) -> int:
    """Milliseconds in ``duration`` (int ms or ``timedelta``); negative becomes 0."""
    if isinstance(duration, timedelta):
        ms = duration / timedelta(milliseconds=1)
    elif isinstance(duration, int | float) and not isinstance(duration, bool):
        ms = float(duration)
    else:
        raise TypeError(f"duration must be int milliseconds or timedelta, not {duration!r}")
    return max(0, int(ms))


def instant_to_ms(when: int | float | datetime) -> int:
    """Epoch milliseconds of ``when`` (epoch ms or an aware ``datetime``)."""
    if isinstance(when, datetime):
        if when.tzinfo is None or when.tzinfo.utcoffset(when) is None:
            raise ValueError("datetime must be timezone-aware (use datetime.now(UTC))")
        return int(when.timestamp() * 1000)
    if isinstance(when, int | float) and not isinstance(when, bool):
        return int(when)
    raise TypeError(f"instant must be epoch milliseconds or an aware datetime, not {when!r}")
