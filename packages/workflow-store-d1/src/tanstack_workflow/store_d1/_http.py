"""``D1HttpDatabase``: the D1 binding over Cloudflare's REST API, for hosts outside Workers.

Every statement is one ``POST /accounts/{account_id}/d1/database/{database_id}/query``.
``batch()`` uses the API's multi-statement form (``{"batch": [{sql, params}, ...]}``),
which D1 runs as one transaction, so a batch is as atomic as a Worker's
``env.DB.batch()``. Rate limits (429) and server errors (5xx) are retried with
exponential backoff (honouring ``Retry-After``); a retried write the server had
already committed is harmless for the store, whose writes are all conditional.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from typing import Any

import httpx

from ._binding import (
    MAX_SAFE_INTEGER,
    D1Error,
    D1PreparedStatement,
    D1Result,
    Row,
    describe_batch,
    describe_sql,
    normalize_result,
)

CLOUDFLARE_API_BASE_URL = "https://api.cloudflare.com/client/v4"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
DEFAULT_MAX_RETRIES = 4
BACKOFF_BASE_S = 0.25
BACKOFF_MAX_S = 8.0


def _wire_param(value: Any, sql: str) -> Any:
    if isinstance(value, bool):
        return int(value)  # D1 binds true/false as 1/0, like the Workers binding
    if isinstance(value, int) and abs(value) > MAX_SAFE_INTEGER:
        raise D1Error(
            f"D1_TYPE_ERROR: integer {value} is beyond 2^53 and would lose precision in D1 "
            f"(statement: {describe_sql(sql)})",
            sql=sql,
        )
    if value is None or isinstance(value, str | int | float):
        return value
    raise D1Error(
        f"D1_TYPE_ERROR: type {type(value).__name__!r} cannot be sent to the D1 HTTP API "
        f"(statement: {describe_sql(sql)})",
        sql=sql,
    )


class D1HttpStatement:
    """A prepared (and possibly bound) statement of a ``D1HttpDatabase``."""

    def __init__(self, database: D1HttpDatabase, sql: str, params: tuple[Any, ...] = ()) -> None:
        self._database = database
        self._sql = sql
        self.params = params

    @property
    def sql(self) -> str:
        """The statement's SQL text."""
        return self._sql

    def bind(self, *params: Any) -> D1HttpStatement:
        """This statement with ``params`` bound."""
        return D1HttpStatement(
            self._database, self._sql, tuple(_wire_param(p, self._sql) for p in params)
        )

    def to_query(self) -> dict[str, Any]:
        """The ``{sql, params}`` object of the REST API."""
        return {"sql": self._sql, "params": list(self.params)}

    async def all(self) -> D1Result:
        """Run the statement; every row."""
        return (await self._database.query([self], describe_sql(self._sql)))[0]

    async def first(self) -> Row | None:
        """Run the statement; its first row or ``None``."""
        result = await self.all()
        return result.results[0] if result.results else None

    async def run(self) -> D1Result:
        """Run the statement for its effect."""
        return await self.all()


class D1HttpDatabase:
    """A D1 database reached through the Cloudflare REST API with an API token.

    Pass ``client`` to share an ``httpx.AsyncClient`` (it is not closed by ``close()``);
    otherwise the binding owns one with connect/read timeouts. ``base_url`` points
    elsewhere for tests (a local workerd speaking the same API).
    """

    def __init__(
        self,
        *,
        account_id: str,
        database_id: str,
        api_token: str,
        client: httpx.AsyncClient | None = None,
        base_url: str = CLOUDFLARE_API_BASE_URL,
        max_retries: int = DEFAULT_MAX_RETRIES,
    ) -> None:
        self.account_id = account_id
        self.database_id = database_id
        self.url = f"{base_url.rstrip('/')}/accounts/{account_id}/d1/database/{database_id}/query"
        self.max_retries = max_retries
        self._headers = {"Authorization": f"Bearer {api_token}"}
        self._owns_client = client is None
        self._client = client if client is not None else httpx.AsyncClient(timeout=DEFAULT_TIMEOUT)

    def __repr__(self) -> str:  # never shows the token
        return f"D1HttpDatabase(account_id={self.account_id!r}, database_id={self.database_id!r})"

    def prepare(self, sql: str) -> D1HttpStatement:
        """A statement for ``sql``."""
        return D1HttpStatement(self, sql)

    async def batch(self, statements: Sequence[D1PreparedStatement]) -> list[D1Result]:
        """Run ``statements`` as one D1 transaction (the API's ``batch`` body)."""
        http: list[D1HttpStatement] = []
        for statement in statements:
            if not isinstance(statement, D1HttpStatement) or statement._database is not self:
                raise TypeError("batch() takes statements prepared by this database")
            http.append(statement)
        if not http:
            return []
        return await self.query(http, describe_batch([s.sql for s in http]))

    async def close(self) -> None:
        """Close the HTTP client when this binding created it."""
        if self._owns_client:
            await self._client.aclose()

    # -- internals -----------------------------------------------------------------

    async def query(self, statements: list[D1HttpStatement], what: str) -> list[D1Result]:
        """POST ``statements`` (one, or a batch) and return one result per statement."""
        if len(statements) == 1:
            body: dict[str, Any] = statements[0].to_query()
        else:
            body = {"batch": [s.to_query() for s in statements]}
        response = await self._post(body, what)
        payload = self._decode(response, what)
        raw_results = payload.get("result")
        if not isinstance(raw_results, list) or len(raw_results) != len(statements):
            raise D1Error(
                f"D1 HTTP API returned {type(raw_results).__name__} results for {what}; "
                f"expected {len(statements)}",
            )
        results = [normalize_result(raw) for raw in raw_results]
        for result, statement in zip(results, statements, strict=True):
            if not result.success:
                raise D1Error(
                    f"D1 statement failed ({describe_sql(statement.sql)})", sql=statement.sql
                )
        return results

    async def _post(self, body: dict[str, Any], what: str) -> httpx.Response:
        attempt = 0
        while True:
            response: httpx.Response | None = None
            try:
                response = await self._client.post(self.url, json=body, headers=self._headers)
            except httpx.TransportError as exc:
                # Only failures before the request was sent are safe to repeat blindly;
                # a write that timed out may have committed, and the caller decides.
                retryable = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
                if not retryable or attempt >= self.max_retries:
                    raise D1Error(f"D1 HTTP API unreachable ({exc!r}) for {what}") from exc
            else:
                if response.status_code != 429 and response.status_code < 500:
                    return response
                if attempt >= self.max_retries:
                    return response
            await asyncio.sleep(self._backoff(attempt, response))
            attempt += 1

    @staticmethod
    def _backoff(attempt: int, response: httpx.Response | None) -> float:
        if response is not None:
            retry_after = response.headers.get("retry-after")
            if retry_after is not None:
                try:
                    return min(max(float(retry_after), 0.0), BACKOFF_MAX_S)
                except ValueError:
                    pass
        delay: float = min(BACKOFF_BASE_S * 2**attempt, BACKOFF_MAX_S)
        return delay * (0.5 + random.random() / 2)  # jitter spreads out competing retries

    @staticmethod
    def _decode(response: httpx.Response, what: str) -> dict[str, Any]:
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            raise D1Error(
                f"D1 HTTP API answered {response.status_code} with a non-JSON body for {what}: "
                f"{response.text[:200]!r}",
            )
        if response.is_success and payload.get("success", True) is not False:
            return payload
        errors = payload.get("errors") or []
        messages = "; ".join(
            str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors
        )
        code = next((e.get("code") for e in errors if isinstance(e, dict) and "code" in e), None)
        raise D1Error(
            f"D1 HTTP API error {response.status_code}: {messages or 'unknown error'} ({what})",
            code=code if isinstance(code, int) else None,
        )
