"""``WorkersD1Database``: a Cloudflare Python Worker's ``env.DB`` as a D1 binding.

Inside a Python Worker the binding is a JavaScript object reached through Pyodide.
Depending on the runtime version its results arrive as JS proxies (with
``.to_py()``) or as Python dicts; both are normalised to ``D1Result``. Pyodide turns
``None`` into JavaScript ``undefined``, which D1 refuses to bind, so ``None`` is
passed as JavaScript ``null`` when ``pyodide.ffi`` provides it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ._binding import D1Error, D1PreparedStatement, D1Result, Row, describe_sql, normalize_result


def _pyodide_ffi() -> tuple[Any, Callable[[Any], Any] | None]:
    """``(jsnull, to_js)`` from ``pyodide.ffi`` when running under Pyodide."""
    try:
        import pyodide.ffi as ffi  # type: ignore[import-not-found]
    except ImportError:
        return None, None
    return getattr(ffi, "jsnull", None), getattr(ffi, "to_js", None)


def to_python(value: Any) -> Any:
    """Convert a JS proxy (anything with ``to_py``) into plain Python data."""
    to_py = getattr(value, "to_py", None)
    return to_py() if callable(to_py) else value


def _row(value: Any) -> Row | None:
    value = to_python(value)
    if value is None:
        return None
    if isinstance(value, Mapping):
        return {str(k): to_python(v) for k, v in value.items()}
    raise D1Error(f"unexpected D1 row of type {type(value).__name__}")


def _result(raw: Any) -> D1Result:
    result = normalize_result(to_python(raw))
    rows = [_row(r) or {} for r in result.results]
    return D1Result(
        results=rows, meta={k: to_python(v) for k, v in result.meta.items()}, success=result.success
    )


class WorkersD1Statement:
    """A statement of a ``WorkersD1Database``: wraps the JS ``D1PreparedStatement``."""

    def __init__(self, database: WorkersD1Database, sql: str, js_statement: Any) -> None:
        self._database = database
        self._sql = sql
        self.js_statement = js_statement

    @property
    def sql(self) -> str:
        """The statement's SQL text."""
        return self._sql

    def bind(self, *params: Any) -> WorkersD1Statement:
        """This statement with ``params`` bound (``None`` as JavaScript ``null``)."""
        null = self._database.js_null
        values = [null if p is None else (int(p) if isinstance(p, bool) else p) for p in params]
        return WorkersD1Statement(self._database, self._sql, self.js_statement.bind(*values))

    async def all(self) -> D1Result:
        """Run the statement; every row."""
        return _result(await self._call("all"))

    async def first(self) -> Row | None:
        """Run the statement; its first row or ``None``."""
        return _row(await self._call("first"))

    async def run(self) -> D1Result:
        """Run the statement for its effect."""
        return _result(await self._call("run"))

    async def _call(self, method: str) -> Any:
        try:
            return await getattr(self.js_statement, method)()
        except Exception as exc:  # JsException and friends
            raise D1Error(f"{exc} (statement: {describe_sql(self._sql)})", sql=self._sql) from exc


class WorkersD1Database:
    """The D1 binding of a Python Worker: ``WorkersD1Database(env.DB)``."""

    def __init__(self, binding: Any) -> None:
        self.binding = binding
        self.js_null, self._to_js = _pyodide_ffi()

    def prepare(self, sql: str) -> WorkersD1Statement:
        """A statement for ``sql``."""
        try:
            js_statement = self.binding.prepare(sql)
        except Exception as exc:
            raise D1Error(f"{exc} (statement: {describe_sql(sql)})", sql=sql) from exc
        return WorkersD1Statement(self, sql, js_statement)

    async def batch(self, statements: Sequence[D1PreparedStatement]) -> list[D1Result]:
        """Run ``statements`` with ``env.DB.batch`` (one D1 transaction)."""
        js_statements: list[Any] = []
        for statement in statements:
            if not isinstance(statement, WorkersD1Statement) or statement._database is not self:
                raise TypeError("batch() takes statements prepared by this database")
            js_statements.append(statement.js_statement)
        if not js_statements:
            return []
        argument = self._to_js(js_statements) if self._to_js is not None else js_statements
        try:
            raw = await self.binding.batch(argument)
        except Exception as exc:
            what = "; ".join(describe_sql(s.sql, 60) for s in statements)
            raise D1Error(f"{exc} (batch: {what})") from exc
        return [_result(r) for r in to_python(raw)]

    async def close(self) -> None:
        """Nothing to release: the Workers runtime owns ``env.DB``."""
