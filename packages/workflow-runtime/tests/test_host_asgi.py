"""create_host_sweep_asgi_app called directly with ASGI messages (no server).

The Vercel and Netlify packages test the same app through a real uvicorn server.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tanstack_workflow.runtime import (
    HostSweepOptions,
    create_host_sweep_asgi_app,
    define_workflow_runtime,
    in_memory_workflow_execution_store,
)
from tanstack_workflow.runtime._host_asgi import MAX_BODY_BYTES, bearer_matches


@pytest.mark.parametrize(
    ("header", "ok"),
    [
        (b"Bearer s3cret", True),
        (b"Bearer s3cre", False),
        (b"Bearer s3cret ", False),
        (b"bearer s3cret", False),
        (b"s3cret", False),
        (None, False),
        (b"Bearer \xff\xfe", False),
    ],
)
def test_bearer_must_match_exactly(header: bytes | None, ok: bool) -> None:
    assert bearer_matches(header, "s3cret") is ok


def test_an_empty_secret_is_refused() -> None:
    runtime = define_workflow_runtime(store=in_memory_workflow_execution_store(), workflows={})
    with pytest.raises(ValueError, match="non-empty secret"):
        create_host_sweep_asgi_app(
            runtime=runtime, options=HostSweepOptions(), secret="", host="x", methods=["GET"]
        )


async def call(app: Any, scope: dict[str, Any], chunks: list[bytes]) -> tuple[int, dict[str, Any]]:
    incoming = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"], json.loads(sent[1]["body"])


def http_scope(method: str, authorization: bytes | None) -> dict[str, Any]:
    headers = [(b"authorization", authorization)] if authorization else []
    return {"type": "http", "method": method, "path": "/sweep", "headers": headers}


async def test_a_body_over_the_limit_is_refused_before_sweeping() -> None:
    runtime = define_workflow_runtime(store=in_memory_workflow_execution_store(), workflows={})
    app = create_host_sweep_asgi_app(
        runtime=runtime, options=HostSweepOptions(), secret="k", host="x", methods=["POST"]
    )
    chunk = b"x" * (MAX_BODY_BYTES // 2 + 1)
    status, body = await call(app, http_scope("POST", b"Bearer k"), [chunk, chunk])
    assert status == 413
    assert body["ok"] is False


async def test_a_body_check_rejection_is_a_400_with_its_reason() -> None:
    runtime = define_workflow_runtime(store=in_memory_workflow_execution_store(), workflows={})
    app = create_host_sweep_asgi_app(
        runtime=runtime,
        options=HostSweepOptions(),
        secret="k",
        host="x",
        methods=["POST"],
        check_body=lambda body: None if body == b"ok" else "not ok",
    )
    assert (await call(app, http_scope("POST", b"Bearer k"), [b"nope"])) == (
        400,
        {"ok": False, "error": "Bad Request: not ok"},
    )
    status, body = await call(app, http_scope("POST", b"Bearer k"), [b"o", b"k"])
    assert status == 200
    assert body["ok"] is True


async def test_lifespan_messages_are_answered() -> None:
    runtime = define_workflow_runtime(store=in_memory_workflow_execution_store(), workflows={})
    app = create_host_sweep_asgi_app(
        runtime=runtime, options=HostSweepOptions(), secret="k", host="x", methods=["GET"]
    )
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app({"type": "lifespan"}, receive, send)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
