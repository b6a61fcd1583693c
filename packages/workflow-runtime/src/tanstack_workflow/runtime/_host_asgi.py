"""An ASGI app that runs one host sweep per authorized request (Vercel, Netlify, ...).

No web framework: the platforms call a plain ASGI ``app`` and this is all a sweep
endpoint needs. Every response is JSON; errors never carry payloads.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, Collection, MutableMapping
from typing import Any

from ._host import HostSweepError, HostSweepOptions, RuntimeOrFactory, run_host_sweep

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
HostSweepApp = Callable[[Scope, Receive, Send], Awaitable[None]]
BodyCheck = Callable[[bytes], str | None]
"""Returns why a request body is unacceptable, or ``None`` when it is fine."""

MAX_BODY_BYTES = 64 * 1024


class _BodyTooLarge(Exception):
    pass


def _json_response(status: int, body: dict[str, Any], *, allow: str | None = None) -> list[Message]:
    payload = json.dumps(body, separators=(",", ":")).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        (b"cache-control", b"no-store"),
    ]
    if allow is not None:
        headers.append((b"allow", allow.encode()))
    return [
        {"type": "http.response.start", "status": status, "headers": headers},
        {"type": "http.response.body", "body": payload},
    ]


def _error(status: int, message: str, *, allow: str | None = None) -> list[Message]:
    return _json_response(status, {"ok": False, "error": message}, allow=allow)


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return bytes(value)
    return None


def bearer_matches(authorization: bytes | None, secret: str) -> bool:
    """True when ``authorization`` is exactly ``Bearer <secret>`` (constant-time compare)."""
    expected = b"Bearer " + secret.encode()
    # compare_digest on bytes of any content; its time depends only on the lengths.
    return hmac.compare_digest(authorization or b"", expected)


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _lifespan(receive: Receive, send: Send) -> None:
    # Nothing to start or stop: the runtime is the caller's; answer so servers that
    # probe lifespan (uvicorn's default) start cleanly.
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def create_host_sweep_asgi_app(
    *,
    runtime: RuntimeOrFactory,
    options: HostSweepOptions,
    secret: str,
    host: str,
    methods: Collection[str],
    check_body: BodyCheck | None = None,
) -> HostSweepApp:
    """An ASGI app: authorize ``Authorization: Bearer <secret>``, then one host sweep.

    Responses: 200 with the compact summary; 401 for a missing or wrong secret; 405
    (with ``Allow``) for other methods; 400 when ``check_body`` rejects the body; 413
    for bodies over 64 KiB; 500 ``{"ok": false, "error": ...}`` naming only the failed
    phase and exception type. A runtime factory is called with the ASGI ``scope``.
    """
    if not isinstance(secret, str) or not secret:
        raise ValueError(
            f"{host} sweep endpoint needs a non-empty secret; without one anyone could "
            "trigger sweeps"
        )
    allowed = frozenset(m.upper() for m in methods)
    allow_header = ", ".join(sorted(allowed))

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            raise RuntimeError(f"unsupported ASGI scope type {scope['type']!r}")
        messages = await _handle(scope, receive)
        for message in messages:
            await send(message)

    async def _handle(scope: Scope, receive: Receive) -> list[Message]:
        if scope["method"].upper() not in allowed:
            return _error(405, "Method Not Allowed", allow=allow_header)
        if not bearer_matches(_header(scope, b"authorization"), secret):
            return _error(401, "Unauthorized")
        try:
            body = await _read_body(receive)
        except _BodyTooLarge:
            return _error(413, f"request body is larger than {MAX_BODY_BYTES} bytes")
        problem = check_body(body) if check_body is not None else None
        if problem is not None:
            return _error(400, f"Bad Request: {problem}")
        try:
            summary = await run_host_sweep(runtime, options, host=host, context=(scope,))
        except HostSweepError as exc:
            return _error(500, str(exc))
        return _json_response(200, summary)

    return app
