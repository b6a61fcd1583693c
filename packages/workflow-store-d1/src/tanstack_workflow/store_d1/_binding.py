"""The D1 binding protocol: the small surface of Cloudflare's ``D1Database`` the store uses.

A binding turns ``db.prepare(sql).bind(*params)`` into a statement with async
``all()`` / ``first()`` / ``run()``, and runs a list of statements atomically with
``await db.batch([...])``. Three bindings ship: ``WorkersD1Database`` (a Python
Worker's ``env.DB``), ``D1HttpDatabase`` (the D1 REST API) and ``LocalD1Database``
(a SQLite file with D1's rules). Every binding reports failures as ``D1Error``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

Row = dict[str, Any]

MAX_BOUND_PARAMETERS = 100
"""D1 rejects statements with more bound parameters than this."""

MAX_SAFE_INTEGER = 2**53 - 1
"""Largest integer a D1 number carries exactly (D1 values travel as JavaScript numbers)."""


class D1Error(Exception):
    """A D1 statement or batch failed; the message names the statement."""

    def __init__(self, message: str, *, sql: str | None = None, code: int | None = None) -> None:
        super().__init__(message)
        self.sql = sql
        self.code = code


@dataclass(frozen=True)
class D1Result:
    """What ``all()`` / ``run()`` return, and one entry of ``batch()``'s list."""

    results: list[Row] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    success: bool = True

    @property
    def changes(self) -> int:
        """Rows written by the statement, as D1 reports them (0 when unknown)."""
        return int(self.meta.get("changes") or 0)


@runtime_checkable
class D1PreparedStatement(Protocol):
    """A statement from ``D1Database.prepare``; ``bind`` returns the bound statement."""

    @property
    def sql(self) -> str:
        """The statement's SQL text (named in error messages)."""
        ...

    def bind(self, *params: Any) -> D1PreparedStatement:
        """The statement with ``params`` bound to its ``?`` placeholders, in order."""
        ...

    async def all(self) -> D1Result:
        """Run the statement and return every row."""
        ...

    async def first(self) -> Row | None:
        """Run the statement and return its first row, or ``None``."""
        ...

    async def run(self) -> D1Result:
        """Run the statement for its effect."""
        ...


@runtime_checkable
class D1Database(Protocol):
    """A D1 database: prepare statements, run a batch of them atomically."""

    def prepare(self, sql: str) -> D1PreparedStatement:
        """A statement for one SQL statement with ``?`` placeholders."""
        ...

    async def batch(self, statements: Sequence[D1PreparedStatement]) -> list[D1Result]:
        """Run ``statements`` in order as one atomic unit; one result per statement."""
        ...


def describe_sql(sql: str, limit: int = 160) -> str:
    """A one-line excerpt of ``sql`` for error messages."""
    text = " ".join(sql.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_batch(statements: Sequence[str]) -> str:
    """A one-line summary of a batch's statements for error messages."""
    parts = "; ".join(describe_sql(sql, 60) for sql in statements)
    return f"batch of {len(statements)} statement(s): {describe_sql(parts, 400)}"


def normalize_result(raw: Any) -> D1Result:
    """A ``D1Result`` from a mapping (``{"results", "meta", "success"}``) or an object."""
    if isinstance(raw, D1Result):
        return raw
    if isinstance(raw, Mapping):
        results, meta, success = raw.get("results"), raw.get("meta"), raw.get("success", True)
    else:
        results = getattr(raw, "results", None)
        meta = getattr(raw, "meta", None)
        success = getattr(raw, "success", True)
    return D1Result(
        results=[dict(row) for row in results or ()],
        meta=dict(meta or {}),
        success=bool(success),
    )
