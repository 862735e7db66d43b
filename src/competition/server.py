"""The HTTP edge: how long a client may take to send a request, and when the app sees it.

A slow client must not hold anything another request needs. Two guards:

- `BufferedBody` (ASGI middleware) reads the whole request body, bounded in size and in time,
  before the route runs. Dependencies, and with them the pooled database connection and its
  transaction, are resolved only afterwards, so a body trickled in over minutes holds a socket
  and a few bytes of memory, never a connection (OWASP denial-of-service cheat sheet: bound
  every resource an unauthenticated client can occupy). Bodies are at most `max_body_bytes`
  (1 MB): attachments go straight to the object store, so buffering is cheap.
- `HeaderTimeoutH11Protocol` (uvicorn's HTTP/1.1 protocol) closes a connection whose request
  head is not complete within `header_timeout_seconds` of the connection being made or of the
  previous response (slowloris). uvicorn itself bounds only idle keep-alive time.

A request that is late in either way never reaches a route; the deadline of an entry is then
decided by the database clock when the route does run (entries/queries.py).
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import msgspec
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from competition import catalog
from competition.config import load_settings
from competition.errors import ErrorBody

_TOO_LARGE = ErrorBody("payload_too_large", catalog.text("payload_too_large", {}, "de"))
_TOO_SLOW = ErrorBody("request_timeout", catalog.text("request_timeout", {}, "de"))


async def _refuse(send: Any, status: int, body: ErrorBody) -> None:
    payload = msgspec.json.encode(body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                # The rest of the body may still be on its way: this connection is done.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def buffered_body(*, max_bytes: int, timeout: float) -> Any:
    """Litestar middleware factory: the body is complete in memory before the route runs."""

    def middleware(app: ASGIApp) -> ASGIApp:
        async def guard(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return
            declared = _declared_length(scope)
            if declared is not None and declared > max_bytes:
                await _refuse(send, 413, _TOO_LARGE)
                return
            chunks: list[bytes] = []
            size = 0
            try:
                async with asyncio.timeout(timeout):
                    while True:
                        message: Any = await receive()
                        if message["type"] == "http.disconnect":
                            return  # nobody is waiting for an answer
                        chunk = message.get("body", b"")
                        size += len(chunk)
                        if size > max_bytes:
                            await _refuse(send, 413, _TOO_LARGE)
                            return
                        chunks.append(chunk)
                        if not message.get("more_body", False):
                            break
            except TimeoutError:
                await _refuse(send, 408, _TOO_SLOW)
                return
            body = b"".join(chunks)
            delivered = False

            async def replay() -> Any:
                nonlocal delivered
                if not delivered:
                    delivered = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()  # only ever the disconnect

            await app(scope, replay, send)

        return guard

    return middleware


@functools.cache
def _header_timeout() -> float:
    # uvicorn builds the protocol itself, in every worker process; the setting comes from the
    # same environment the app factory reads.
    return load_settings().header_timeout_seconds


class HeaderTimeoutH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request head (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = _header_timeout()
        self._head_timer: asyncio.TimerHandle | None = None

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_too_slow)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        cycle = self.cycle
        super().handle_events()
        if self.cycle is not cycle:  # a complete request head arrived
            self._cancel_head_timer()

    def on_response_complete(self) -> None:
        # Armed first: a pipelined request already buffered is handled inside and disarms it.
        if not self.transport.is_closing():
            self._arm_head_timer()
        super().on_response_complete()
