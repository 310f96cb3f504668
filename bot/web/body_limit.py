"""A cap on every request body, applied before a byte of it is read (ASGI middleware).

One mechanism for every endpoint, so that no route can read a body whole by mistake (Bolt's
adapter, for one, reads it whole before checking Slack's signature). A declared
`Content-Length` over the cap is answered 413 before any route runs; a chunked body is counted
as it streams and cut at the cap, and the route's reader gets `BodyTooLarge`, answered 413 too.
Before the 413, at most `LINGER_BYTES` more are read and dropped, never kept, for clients that
read the answer only once they have written everything; a body larger still is cut off at once.
uvicorn stops reading from the socket while nobody asks for more, so a sender that keeps
streaming is only ever held in its socket's buffers.

Caps, by path prefix:
- `/alerts/`: 4 MiB (the parsers' own limit; Alertmanager sends up to 1000 alerts at once);
- `/slack/events`: 1 MiB. The largest bodies Slack sends carry a whole view (at most 100
  blocks) or message (at most 50 blocks) in an interactivity payload: a few hundred KiB even
  URL-encoded, so 1 MiB leaves room and stops nothing real;
- anything else (the API, OFREP, health, metrics): 64 KiB; a service registration or an OFREP
  evaluation context is a few hundred bytes.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.alerts.common import MAX_BODY_BYTES as MAX_ALERT_BYTES

KiB, MiB = 1024, 1024 * 1024
# A body up to this much over its cap is read and dropped (never kept) before the 413, so that
# a client that writes its whole body before reading the answer (httpx, curl) gets the 413
# rather than a reset connection. Anything larger is cut off at once.
LINGER_BYTES = 8 * MiB
MAX_SLACK_BYTES = 1 * MiB
MAX_OTHER_BYTES = 64 * KiB
CAPS: tuple[tuple[str, int], ...] = (
    ("/alerts/", MAX_ALERT_BYTES),
    ("/slack/events", MAX_SLACK_BYTES),
)


class BodyTooLarge(Exception):
    def __init__(self, cap: int) -> None:
        super().__init__(f"the body is larger than {cap} bytes")
        self.cap = cap


def body_cap(path: str, caps: Sequence[tuple[str, int]] = CAPS) -> int:
    return next((cap for prefix, cap in caps if path.startswith(prefix)), MAX_OTHER_BYTES)


class BodyLimit:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = body_cap(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > cap:
            drained = declared <= cap + LINGER_BYTES and await _discard(receive, declared)
            await _too_large(scope["path"], cap, drained)(scope, receive, send)
            return
        received = 0
        started = False

        async def capped_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    raise BodyTooLarge(cap)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, capped_receive, watched_send)
        except BodyTooLarge:
            if started:  # too late to answer; uvicorn closes the connection
                raise
            drained = await _discard(receive, LINGER_BYTES)
            await _too_large(scope["path"], cap, drained)(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


async def _discard(receive: Receive, budget: int) -> bool:
    """Read and drop the rest of the body, at most `budget` bytes; True if it ended."""
    while budget >= 0:
        message = await receive()
        if message["type"] != "http.request":
            return False  # the sender went away
        budget -= len(message.get("body", b""))
        if not message.get("more_body", False):
            return budget >= 0
    return False


def _too_large(path: str, cap: int, drained: bool) -> JSONResponse:
    # OFREP's general error shape is `errorDetails`; ours is `error`.
    field = "errorDetails" if path.startswith("/ofrep/") else "error"
    # Unless the body was drained, the rest of it is never read: the connection cannot carry
    # another request.
    headers = {} if drained else {"Connection": "close"}
    return JSONResponse({field: f"the body is larger than {cap} bytes"}, 413, headers=headers)
