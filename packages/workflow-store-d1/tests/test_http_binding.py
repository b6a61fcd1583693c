"""D1HttpDatabase: request shape, batching, retries with backoff, errors naming the statement."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tanstack_workflow.store_d1 import D1Error, D1HttpDatabase
from tanstack_workflow.store_d1 import _http as http_module

Handler = Callable[[httpx.Request], httpx.Response]


def ok(*results: list[dict[str, Any]]) -> httpx.Response:
    body = {
        "success": True,
        "errors": [],
        "messages": [],
        "result": [{"results": r, "success": True, "meta": {"changes": 0}} for r in results],
    }
    return httpx.Response(200, json=body)


def error(status: int, message: str, code: int = 7500) -> httpx.Response:
    body = {"success": False, "errors": [{"code": code, "message": message}], "result": []}
    return httpx.Response(status, json=body)


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(http_module.asyncio, "sleep", fake_sleep)
    return slept


def database(handler: Handler, **options: Any) -> D1HttpDatabase:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return D1HttpDatabase(
        account_id="acc", database_id="db-1", api_token="secret", client=client, **options
    )


async def test_single_statement_request_shape() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return ok([{"a": 1}])

    db = database(handler)
    row = await db.prepare("SELECT ? AS a, ? AS b, ? AS c").bind(1, None, True).first()
    assert row == {"a": 1}
    (request,) = seen
    assert request.method == "POST"
    assert str(request.url) == (
        "https://api.cloudflare.com/client/v4/accounts/acc/d1/database/db-1/query"
    )
    assert request.headers["authorization"] == "Bearer secret"
    assert json.loads(request.content) == {
        "sql": "SELECT ? AS a, ? AS b, ? AS c",
        "params": [1, None, 1],
    }


async def test_batch_uses_the_multi_statement_body() -> None:
    bodies: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return ok([], [{"n": 2}])

    db = database(handler)
    results = await db.batch(
        [db.prepare("INSERT INTO t VALUES (?)").bind("x"), db.prepare("SELECT 2 AS n")]
    )
    assert [r.results for r in results] == [[], [{"n": 2}]]
    assert bodies == [
        {
            "batch": [
                {"sql": "INSERT INTO t VALUES (?)", "params": ["x"]},
                {"sql": "SELECT 2 AS n", "params": []},
            ]
        }
    ]
    assert await db.batch([]) == []


async def test_429_and_5xx_are_retried_with_backoff(no_sleep: list[float]) -> None:
    replies = iter(
        [
            httpx.Response(429, headers={"retry-after": "2"}, json={"success": False}),
            httpx.Response(503, text="unavailable"),
            ok([{"v": 1}]),
        ]
    )
    db = database(lambda request: next(replies))
    assert (await db.prepare("SELECT 1 AS v").all()).results == [{"v": 1}]
    assert no_sleep[0] == 2.0  # Retry-After wins
    assert 0 < no_sleep[1] <= http_module.BACKOFF_MAX_S


async def test_retries_stop_and_the_error_names_the_statement(no_sleep: list[float]) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return error(500, "internal error", code=7000)

    db = database(handler, max_retries=2)
    with pytest.raises(D1Error, match=r"error 500: internal error \(SELECT x FROM y\)") as caught:
        await db.prepare("SELECT x FROM y").all()
    assert calls == 3
    assert caught.value.code == 7000
    assert len(no_sleep) == 2


async def test_sql_errors_are_not_retried_and_name_the_batch() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return error(400, "no such table: nope: SQLITE_ERROR")

    db = database(handler)
    with pytest.raises(
        D1Error,
        match=r"no such table: nope.*batch of 2 statement\(s\): SELECT 1; SELECT \* FROM nope",
    ):
        await db.batch([db.prepare("SELECT 1"), db.prepare("SELECT * FROM nope")])
    assert calls == 1


async def test_connect_errors_are_retried_then_reported(no_sleep: list[float]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    db = database(handler, max_retries=1)
    with pytest.raises(D1Error, match=r"unreachable.*SELECT 1"):
        await db.prepare("SELECT 1").all()
    assert len(no_sleep) == 1


async def test_read_timeouts_are_not_retried(no_sleep: list[float]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    db = database(handler)
    with pytest.raises(D1Error, match="unreachable"):
        await db.prepare("UPDATE t SET v = 1").run()
    assert no_sleep == []


async def test_non_json_and_short_answers_are_errors() -> None:
    db = database(
        lambda request: httpx.Response(502, text="<html>bad gateway</html>"), max_retries=0
    )
    with pytest.raises(D1Error, match="non-JSON body"):
        await db.prepare("SELECT 1").all()
    db = database(lambda request: ok())
    with pytest.raises(D1Error, match="expected 1"):
        await db.prepare("SELECT 1").all()


def test_unsupported_parameters_and_foreign_statements() -> None:
    db = database(lambda request: ok([]))
    with pytest.raises(D1Error, match="cannot be sent"):
        db.prepare("SELECT ?").bind(b"bytes")
    with pytest.raises(D1Error, match="beyond 2\\^53"):
        db.prepare("SELECT ?").bind(2**53 + 1)


async def test_batch_takes_only_its_own_statements() -> None:
    a, b = database(lambda r: ok([])), database(lambda r: ok([]))
    with pytest.raises(TypeError, match="prepared by this database"):
        await a.batch([b.prepare("SELECT 1")])


async def test_repr_hides_the_token_and_owned_clients_close() -> None:
    db = D1HttpDatabase(account_id="acc", database_id="db", api_token="secret")
    assert "secret" not in repr(db)
    await db.close()
    shared = httpx.AsyncClient()
    db = D1HttpDatabase(account_id="acc", database_id="db", api_token="t", client=shared)
    await db.close()
    assert not shared.is_closed
    await shared.aclose()
