"""The sandbox's HTTP face: Slack's Web API, its upload URLs and response URLs.

This module only translates HTTP to calls on SlackSandbox and back.
"""

from __future__ import annotations

import asyncio
import json
import logging
from email import policy
from email.parser import BytesParser
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from bot.sandbox.errors import SlackError

if TYPE_CHECKING:
    from bot.sandbox.sandbox import SlackSandbox

# uvicorn's logger, which reports an exception raised by the app with its traceback.
SERVER_LOG = "uvicorn.error"


def build_app(sandbox: SlackSandbox) -> Starlette:
    from bot.sandbox.sandbox import NoAnswer  # the sandbox imports this module

    _quiet_about_dropped_connections()

    async def web_api(request: Request) -> Response:
        method = request.path_params["method"]
        try:
            values, token = await _read_arguments(request)
        except SlackError as refused:
            return _error(refused)
        reply = sandbox.answer_call(method, values, token, base_url=_base_url(sandbox, request))
        if isinstance(reply, NoAnswer):
            if reply.until is not None:
                await reply.until.wait()
            elif reply.hold_seconds:
                await asyncio.sleep(reply.hold_seconds)
            return _DroppedConnection()
        return JSONResponse(reply.body, status_code=reply.status, headers=reply.headers)

    async def upload(request: Request) -> Response:
        data = _uploaded_bytes(request.headers.get("content-type", ""), await request.body())
        if not sandbox.receive_upload(request.path_params["file_id"], data):
            return PlainTextResponse("file_not_found", status_code=404)
        return PlainTextResponse(f"OK - {len(data)}")

    async def respond(request: Request) -> Response:
        try:
            payload = json.loads(await request.body())
        except json.JSONDecodeError:
            return _error(SlackError("invalid_payload", status=400))
        if not isinstance(payload, dict):
            return _error(SlackError("invalid_payload", status=400))
        try:
            sandbox.answer_response_url(request.path_params["token"], payload)
        except SlackError as refused:
            return _error(refused)
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/api/{method}", web_api, methods=["GET", "POST"]),
            Route("/upload/{file_id}", upload, methods=["POST"]),
            Route("/respond/{token}", respond, methods=["POST"]),
        ]
    )


async def _read_arguments(request: Request) -> tuple[dict[str, Any], str | None]:
    """Arguments from the query string and the body, and the token from wherever it came."""
    values: dict[str, Any] = dict(request.query_params)
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    if body and content_type.startswith("application/json"):
        try:
            decoded = json.loads(body)
        except json.JSONDecodeError:
            raise SlackError("invalid_json") from None
        if not isinstance(decoded, dict):
            raise SlackError("invalid_json")
        values.update(decoded)
    elif body and content_type.startswith("multipart/form-data"):
        values.update(_multipart_fields(content_type, body))
    elif body:
        try:
            values.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            raise SlackError("invalid_charset") from None
    token = values.pop("token", None)
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        token = authorization[len("bearer ") :].strip()
    return values, token if isinstance(token, str) and token else None


def _multipart_fields(content_type: str, body: bytes) -> dict[str, str]:
    # The stdlib's MIME parser reads form-data well enough for text fields, without adding
    # python-multipart as a dependency for a path slack_sdk only takes for legacy methods.
    message = BytesParser(policy=policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    fields = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            fields[name] = payload.decode("utf-8", errors="replace")
    return fields


def _uploaded_bytes(content_type: str, body: bytes) -> bytes:
    """The file itself: the raw body (what slack_sdk sends), or the first multipart part."""
    if not content_type.startswith("multipart/form-data"):
        return body
    message = BytesParser(policy=policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    for part in message.iter_parts():
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            return payload
    return b""


def _base_url(sandbox: SlackSandbox, request: Request) -> str:
    return sandbox.base_url or str(request.base_url).rstrip("/")


def _error(refused: SlackError) -> Response:
    return JSONResponse(
        {"ok": False, "error": refused.code}, status_code=refused.status, headers=refused.headers
    )


class ConnectionDropped(Exception):
    """Raised on purpose once a chaos answer has started: uvicorn then closes the socket."""


class _DroppedConnection(Response):
    """An answer that never arrives: its head promises a body, then the connection closes, as
    when a proxy or Slack's edge gives up. A client sees a disconnect or a broken payload."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")],
            }
        )
        raise ConnectionDropped("chaos: the sandbox dropped the connection")


class _NotDroppedConnections(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], ConnectionDropped))


def _quiet_about_dropped_connections() -> None:
    # A dropped connection is what chaos asked for, not an error worth a traceback.
    server_log = logging.getLogger(SERVER_LOG)
    if not any(isinstance(f, _NotDroppedConnections) for f in server_log.filters):
        server_log.addFilter(_NotDroppedConnections())
