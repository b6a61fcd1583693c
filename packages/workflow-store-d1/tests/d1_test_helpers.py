"""Helpers shared by the workflow-store-d1 tests (imported via conftest's sys.path entry)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tanstack_workflow.store_d1 import D1Database, D1PreparedStatement, D1Result

T0 = 1_700_000_000_000


@dataclass
class Trace:
    """What went through a ``CountingD1Database``: round trips and SQL statements."""

    round_trips: int = 0
    statements: list[str] = field(default_factory=list)

    def reset(self) -> None:
        self.round_trips = 0
        self.statements.clear()


class CountingStatement:
    """Wraps a statement and records its execution."""

    def __init__(self, inner: D1PreparedStatement, trace: Trace) -> None:
        self.inner = inner
        self.trace = trace

    @property
    def sql(self) -> str:
        return self.inner.sql

    def bind(self, *params: Any) -> CountingStatement:
        return CountingStatement(self.inner.bind(*params), self.trace)

    def _count(self) -> None:
        self.trace.round_trips += 1
        self.trace.statements.append(self.inner.sql)

    async def all(self) -> D1Result:
        self._count()
        return await self.inner.all()

    async def first(self) -> dict[str, Any] | None:
        self._count()
        return await self.inner.first()

    async def run(self) -> D1Result:
        self._count()
        return await self.inner.run()


class CountingD1Database:
    """A D1 binding that counts round trips and statements of another binding."""

    def __init__(self, inner: D1Database) -> None:
        self.inner = inner
        self.trace = Trace()

    def prepare(self, sql: str) -> CountingStatement:
        return CountingStatement(self.inner.prepare(sql), self.trace)

    async def batch(self, statements: Sequence[D1PreparedStatement]) -> list[D1Result]:
        inner = [s.inner for s in statements if isinstance(s, CountingStatement)]
        assert len(inner) == len(statements)
        self.trace.round_trips += 1
        self.trace.statements.extend(s.sql for s in inner)
        return await self.inner.batch(inner)

    async def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if close is not None:
            await close()
