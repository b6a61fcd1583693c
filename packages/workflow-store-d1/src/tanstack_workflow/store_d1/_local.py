"""``local_d1_database``: a SQLite file that behaves like D1, the way ``wrangler dev`` runs it.

It enforces the D1 rules a store can trip over, so tests catch them before production:

* transaction statements (``BEGIN``, ``COMMIT``, ``END``, ``ROLLBACK``, ``SAVEPOINT``,
  ``RELEASE``) and ``ATTACH`` / ``DETACH`` are rejected: ``batch()`` is the only
  atomic multi-statement unit (here: one SQLite transaction);
* at most 100 bound parameters per statement, one statement per ``prepare``;
* integers are bound as REAL, as D1 binds JavaScript numbers (so a missing ``CAST``
  shows up here too); integers beyond 2^53 are rejected, bound or read, because
  D1 would silently round them;
* results come back as JavaScript numbers would: integral REALs read as ``int``.

The file is opened in WAL mode with a busy timeout, so several processes can share
it. SQLite calls run in a worker thread and never block the event loop.
"""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import threading
import time
from collections.abc import Sequence
from typing import Any

from ._binding import (
    MAX_BOUND_PARAMETERS,
    MAX_SAFE_INTEGER,
    D1Error,
    D1PreparedStatement,
    D1Result,
    Row,
    describe_sql,
)

DEFAULT_BUSY_TIMEOUT_MS = 5_000

_REJECTED_KEYWORDS = frozenset(
    {"BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE", "ATTACH", "DETACH"}
)
_LEADING_NOISE = re.compile(r"(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*", re.DOTALL)
_FIRST_WORD = re.compile(r"[A-Za-z]+")


def leading_keyword(sql: str) -> str:
    """The first keyword of ``sql`` after whitespace and comments, upper-cased."""
    rest = sql[_LEADING_NOISE.match(sql).end() :]  # type: ignore[union-attr]
    match = _FIRST_WORD.match(rest)
    return match.group(0).upper() if match else ""


def _bind_value(value: Any, sql: str) -> Any:
    if value is None or isinstance(value, str | float):
        return value
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise D1Error(
                f"D1_TYPE_ERROR: integer {value} is beyond 2^53 and would lose precision in D1 "
                f"(statement: {describe_sql(sql)})",
                sql=sql,
            )
        # D1 binds JavaScript numbers, which SQLite sees as REAL.
        return float(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise D1Error(
        f"D1_TYPE_ERROR: type {type(value).__name__!r} not supported for value {value!r} "
        f"(statement: {describe_sql(sql)})",
        sql=sql,
    )


def _read_value(value: Any, sql: str) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) <= MAX_SAFE_INTEGER:
        return int(value)
    if isinstance(value, int) and abs(value) > MAX_SAFE_INTEGER:
        raise D1Error(
            f"D1 would return integer {value} imprecisely (beyond 2^53) "
            f"(statement: {describe_sql(sql)})",
            sql=sql,
        )
    if isinstance(value, bytes):
        return list(value)
    return value


class LocalD1Statement:
    """A prepared (and possibly bound) statement of a ``LocalD1Database``."""

    def __init__(self, database: LocalD1Database, sql: str, params: tuple[Any, ...] = ()) -> None:
        self._database = database
        self._sql = sql
        self.params = params

    @property
    def sql(self) -> str:
        """The statement's SQL text."""
        return self._sql

    def bind(self, *params: Any) -> LocalD1Statement:
        """This statement with ``params`` bound (checked the way D1 checks them)."""
        return LocalD1Statement(
            self._database, self._sql, tuple(_bind_value(p, self._sql) for p in params)
        )

    async def all(self) -> D1Result:
        """Run the statement; every row."""
        return await self._database.execute(self)

    async def first(self) -> Row | None:
        """Run the statement; its first row or ``None``."""
        result = await self._database.execute(self)
        return result.results[0] if result.results else None

    async def run(self) -> D1Result:
        """Run the statement for its effect."""
        return await self._database.execute(self)


class LocalD1Database:
    """A D1 binding over a local SQLite file. Create it with ``local_d1_database``."""

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout_ms: int) -> None:
        self.path = os.fspath(path)
        self._lock = threading.Lock()
        try:
            conn = sqlite3.connect(
                self.path,
                timeout=busy_timeout_ms / 1000,
                isolation_level=None,  # autocommit: batch() alone opens transactions
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise D1Error(f"D1_ERROR: cannot open local D1 file {self.path!r}: {exc}") from exc
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")  # D1 enforces foreign keys
        except sqlite3.Error as exc:
            conn.close()
            raise D1Error(f"D1_ERROR: cannot use local D1 file {self.path!r}: {exc}") from exc
        self._conn: sqlite3.Connection | None = conn

    def prepare(self, sql: str) -> LocalD1Statement:
        """A statement for ``sql``."""
        return LocalD1Statement(self, sql)

    async def execute(self, statement: LocalD1Statement) -> D1Result:
        """Run one statement in autocommit mode (SQLite makes it atomic)."""
        self._check(statement)
        return (await asyncio.to_thread(self._run_locked, [statement], False))[0]

    async def batch(self, statements: Sequence[D1PreparedStatement]) -> list[D1Result]:
        """Run ``statements`` in one SQLite transaction: all take effect or none."""
        local: list[LocalD1Statement] = []
        for statement in statements:
            if not isinstance(statement, LocalD1Statement) or statement._database is not self:
                raise TypeError("batch() takes statements prepared by this database")
            self._check(statement)
            local.append(statement)
        if not local:
            return []
        return await asyncio.to_thread(self._run_locked, local, True)

    async def close(self) -> None:
        """Close the SQLite connection."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # -- internals -----------------------------------------------------------------

    @staticmethod
    def _check(statement: LocalD1Statement) -> None:
        keyword = leading_keyword(statement.sql)
        if keyword in _REJECTED_KEYWORDS:
            raise D1Error(
                f"D1_ERROR: {keyword} is not allowed in D1; use batch() for atomic writes "
                f"(statement: {describe_sql(statement.sql)})",
                sql=statement.sql,
            )
        if len(statement.params) > MAX_BOUND_PARAMETERS:
            raise D1Error(
                f"D1_ERROR: too many SQL variables: {len(statement.params)} bound, D1 allows "
                f"{MAX_BOUND_PARAMETERS} (statement: {describe_sql(statement.sql)})",
                sql=statement.sql,
            )

    def _run_locked(self, statements: list[LocalD1Statement], atomic: bool) -> list[D1Result]:
        with self._lock:
            conn = self._conn
            if conn is None:
                raise D1Error("D1_ERROR: database is closed")
            if not atomic:
                return [self._run_one(conn, statements[0], None)]
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise D1Error(f"D1_ERROR: {exc}: could not start the batch") from exc
            try:
                results = [
                    self._run_one(conn, statement, index)
                    for index, statement in enumerate(statements)
                ]
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            return results

    @staticmethod
    def _run_one(
        conn: sqlite3.Connection, statement: LocalD1Statement, index: int | None
    ) -> D1Result:
        sql = statement.sql
        where = f"statement {index} of batch: " if index is not None else "statement: "
        started = time.perf_counter()
        before = conn.total_changes
        try:
            cursor = conn.execute(sql, statement.params)
            raw_rows = cursor.fetchall()
        except (sqlite3.Error, sqlite3.Warning) as exc:
            raise D1Error(f"D1_ERROR: {exc} ({where}{describe_sql(sql)})", sql=sql) from exc
        columns = [d[0] for d in cursor.description or ()]
        rows = [
            {c: _read_value(v, sql) for c, v in zip(columns, raw, strict=True)} for raw in raw_rows
        ]
        changes = conn.total_changes - before
        meta = {
            "changes": changes,
            "changed_db": changes > 0,
            "last_row_id": cursor.lastrowid or 0,
            "duration": (time.perf_counter() - started) * 1000,
            "rows_read": len(rows),
        }
        return D1Result(results=rows, meta=meta)


def local_d1_database(
    path: str | os.PathLike[str], *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS
) -> LocalD1Database:
    """A D1 binding over the SQLite file at ``path`` (created when missing).

    Several processes may open the same file. ``":memory:"`` gives a private,
    throwaway database.
    """
    return LocalD1Database(path, busy_timeout_ms=busy_timeout_ms)
