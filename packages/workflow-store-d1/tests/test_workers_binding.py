"""WorkersD1Database over a fake ``env.DB``: JS proxies and dicts normalised, null not undefined."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest

from tanstack_workflow.store_d1 import D1Error, WorkersD1Database


class JsProxy:
    """Stands in for a Pyodide JsProxy: only ``to_py`` gives Python data."""

    def __init__(self, value: Any) -> None:
        self._value = value

    def to_py(self) -> Any:
        return self._value


class FakeStatement:
    def __init__(self, db: FakeD1, sql: str, params: tuple[Any, ...] = ()) -> None:
        self.db, self.sql, self.params = db, sql, params

    def bind(self, *params: Any) -> FakeStatement:
        return FakeStatement(self.db, self.sql, params)

    async def all(self) -> Any:
        return self.db.answer(self)

    async def run(self) -> Any:
        return self.db.answer(self)

    async def first(self) -> Any:
        rows = self.db.rows
        return (JsProxy(rows[0]) if self.db.proxies else rows[0]) if rows else None


class FakeD1:
    def __init__(self, rows: list[dict[str, Any]], *, proxies: bool) -> None:
        self.rows, self.proxies = rows, proxies
        self.executed: list[FakeStatement] = []
        self.batches: list[Any] = []

    def prepare(self, sql: str) -> FakeStatement:
        if "syntax error" in sql:
            raise RuntimeError("D1_ERROR: near syntax: syntax error")
        return FakeStatement(self, sql)

    def answer(self, statement: FakeStatement) -> Any:
        self.executed.append(statement)
        if "nope" in statement.sql:
            raise RuntimeError("D1_ERROR: no such table: nope: SQLITE_ERROR")
        result = {"results": self.rows, "success": True, "meta": {"changes": 1}}
        return JsProxy(result) if self.proxies else result

    async def batch(self, statements: Any) -> Any:
        self.batches.append(statements)
        answers = [self.answer(s) for s in statements]
        return JsProxy([a.to_py() if isinstance(a, JsProxy) else a for a in answers])


@pytest.fixture
def fake_pyodide() -> Iterator[types.SimpleNamespace]:
    """A stand-in ``pyodide.ffi`` with ``jsnull`` and ``to_js``."""
    ffi = types.SimpleNamespace(jsnull=object(), to_js=lambda value: ("js-array", list(value)))
    package = types.ModuleType("pyodide")
    module = types.ModuleType("pyodide.ffi")
    module.jsnull = ffi.jsnull  # type: ignore[attr-defined]
    module.to_js = ffi.to_js  # type: ignore[attr-defined]
    package.ffi = module  # type: ignore[attr-defined]
    sys.modules["pyodide"], sys.modules["pyodide.ffi"] = package, module
    try:
        yield ffi
    finally:
        del sys.modules["pyodide"], sys.modules["pyodide.ffi"]


@pytest.mark.parametrize("proxies", [True, False], ids=["js-proxies", "dicts"])
async def test_results_are_normalised(proxies: bool) -> None:
    fake = FakeD1([{"a": 1, "b": "x"}], proxies=proxies)
    db = WorkersD1Database(fake)
    result = await db.prepare("SELECT a, b FROM t").all()
    assert result.results == [{"a": 1, "b": "x"}]
    assert result.changes == 1
    assert await db.prepare("SELECT a, b FROM t").first() == {"a": 1, "b": "x"}
    assert (await db.prepare("UPDATE t SET a = 1").run()).changes == 1
    fake.rows = []
    assert await db.prepare("SELECT a FROM t").first() is None


async def test_none_binds_as_js_null_under_pyodide(fake_pyodide: types.SimpleNamespace) -> None:
    fake = FakeD1([], proxies=True)
    db = WorkersD1Database(fake)
    await db.prepare("INSERT INTO t VALUES (?, ?, ?)").bind(None, True, "s").run()
    assert fake.executed[-1].params == (fake_pyodide.jsnull, 1, "s")


async def test_batch_passes_a_js_array_under_pyodide(fake_pyodide: types.SimpleNamespace) -> None:
    captured: list[Any] = []
    fake = FakeD1([{"n": 1}], proxies=True)

    async def batch(statements: Any) -> Any:
        captured.append(statements)
        return JsProxy([{"results": [{"n": 1}], "success": True, "meta": {}}])

    fake.batch = batch  # type: ignore[method-assign]
    db = WorkersD1Database(fake)
    statement = db.prepare("SELECT 1 AS n")
    results = await db.batch([statement])
    assert results[0].results == [{"n": 1}]
    assert captured == [("js-array", [statement.js_statement])]


async def test_without_pyodide_values_pass_through() -> None:
    fake = FakeD1([{"n": 1}], proxies=False)
    db = WorkersD1Database(fake)
    await db.prepare("SELECT ?").bind(None).all()
    assert fake.executed[-1].params == (None,)
    results = await db.batch([db.prepare("SELECT 1"), db.prepare("SELECT 2")])
    assert len(results) == 2
    assert await db.batch([]) == []


async def test_errors_name_the_statement() -> None:
    db = WorkersD1Database(FakeD1([], proxies=True))
    with pytest.raises(D1Error, match=r"no such table: nope.*statement: SELECT \* FROM nope"):
        await db.prepare("SELECT * FROM nope").all()
    with pytest.raises(D1Error, match="syntax error"):
        db.prepare("a syntax error")
    with pytest.raises(D1Error, match=r"batch: SELECT 1; SELECT \* FROM nope"):
        await db.batch([db.prepare("SELECT 1"), db.prepare("SELECT * FROM nope")])
    other = WorkersD1Database(FakeD1([], proxies=True))
    with pytest.raises(TypeError, match="prepared by this database"):
        await db.batch([other.prepare("SELECT 1")])
    await db.close()
