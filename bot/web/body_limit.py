"""A cap on every request body, applied before a byte of it is read (ASGI middleware).

One mechanism for every endpoint, so that no route can read a body whole by mistake (Bolt's
adapter, for one, reads it whole before checking Slack's signature). A declared
`Content-Length` over the cap is answered 413 at once, without reading the body; a chunked body
is counted as it streams and cut at the cap, and the route's reader gets `BodyTooLarge`, which
is answered 413 too. uvicorn stops reading from the socket while nobody asks for more, so a
sender that keeps streaming is only ever held in its socket's buffers.

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
            await _too_large(scope["path"], cap)(scope, receive, send)
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
            await _too_large(scope["path"], cap)(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


def _too_large(path: str, cap: int) -> JSONResponse:
    # OFREP's general error shape is `errorDetails`; ours is `error`.
    field = "errorDetails" if path.startswith("/ofrep/") else "error"
    # `Connection: close`: the rest of the body is never read, so the connection cannot be
    # used for another request.
    return JSONResponse(
        {field: f"the body is larger than {cap} bytes"}, 413, headers={"Connection": "close"}
    )
