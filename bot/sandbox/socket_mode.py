"""Slack's side of Socket Mode: connection URLs, the WebSocket, envelopes out and acks in.

An app calls `apps.connections.open` with its app-level token (`xapp-…`), connects to the
one-time URL it gets, hears `hello`, then receives envelopes
`{"envelope_id", "type", "payload", "accepts_response_payload", …}` and acks each with
`{"envelope_id", "payload"?}`. Slack may ask it to reconnect (a `disconnect` message) or close
the socket at any time; a well-behaved app opens a new connection either way.

The WebSocket is served by aiohttp on a port of its own: uvicorn serves WebSockets only with
the `websockets` or `wsproto` package, neither of which the project depends on, while aiohttp
is already here for slack_sdk's clients.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Literal

from aiohttp import WSCloseCode, WSMsgType, web

from bot.sandbox.entities import JSON
from bot.sandbox.errors import SlackError

OPEN_CONNECTION = "apps.connections.open"
# Why Slack asks an app to reconnect: a routine refresh, or the app's Socket Mode switched off.
DisconnectReason = Literal["warning", "refresh_requested", "link_disabled"]

log = logging.getLogger(__name__)


class NotConnected(ConnectionError):
    """No app is connected to the sandbox over Socket Mode."""


@dataclass(frozen=True)
class SocketAck:
    """The app's answer to one envelope."""

    envelope_id: str
    acked: bool
    # What the app put in its ack ({} if nothing); for a slash command, the reply the user sees.
    payload: JSON


class SocketModeServer:
    def __init__(self, app_token: str | None, app_id: str, on_change: Callable[[], None]) -> None:
        self.app_token = app_token
        self.app_id = app_id
        # Told when a connection opens or closes, so the sandbox's waiters look again.
        self._on_change = on_change
        self.envelopes: list[JSON] = []  # every envelope sent, in order
        self.acks: list[JSON] = []  # every ack received, in order
        self.opened = 0  # connections ever accepted
        self._connections: list[web.WebSocketResponse] = []
        self._tickets: set[str] = set()
        self._pending: dict[str, asyncio.Future[JSON]] = {}
        self._url: str | None = None

    @property
    def connections(self) -> int:
        """How many apps are connected now."""
        return len(self._connections)

    @asynccontextmanager
    async def serve(self, host: str) -> AsyncIterator[None]:
        """Serve the WebSocket on a free port until the block ends (if there is an app token)."""
        if self.app_token is None:
            yield
            return
        app = web.Application()
        app.router.add_get("/link/", self._link)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, 0).start()
            port = runner.addresses[0][1]
            self._url = f"ws://[{host}]:{port}" if ":" in host else f"ws://{host}:{port}"
            yield
        finally:
            self._url = None
            await self.close_connections(WSCloseCode.GOING_AWAY)
            await runner.cleanup()

    # The Web API side

    def open_connection(self, token: str | None) -> str:
        """`apps.connections.open`: a one-time URL for the app holding the app-level token."""
        if not token:
            raise SlackError("missing_args")
        if token != self.app_token:
            raise SlackError("invalid_auth")
        if self._url is None:
            raise RuntimeError("serve the sandbox first: `async with sandbox.serve():`")
        ticket = secrets.token_urlsafe(12)
        self._tickets.add(ticket)
        return f"{self._url}/link/?ticket={ticket}&app_id={self.app_id}"

    # The driver's side

    async def deliver(self, envelope: JSON, *, ack_timeout: float) -> SocketAck:
        """Send `envelope` (all but its id) to the newest connection; wait for the app's ack.

        Like Slack, give up after `ack_timeout` seconds; the answer then says it was not acked.
        """
        if not self._connections:
            raise NotConnected("no app is connected over Socket Mode")
        envelope_id = str(uuid.uuid4())
        sent = {"envelope_id": envelope_id, **envelope}
        waiting: asyncio.Future[JSON] = asyncio.get_running_loop().create_future()
        self._pending[envelope_id] = waiting
        try:
            await self._connections[-1].send_json(sent)
            self.envelopes.append(sent)
            async with asyncio.timeout(ack_timeout):
                return SocketAck(envelope_id, True, await waiting)
        except TimeoutError:
            return SocketAck(envelope_id, False, {})
        finally:
            self._pending.pop(envelope_id, None)

    def envelope(self, envelope_id: str) -> JSON:
        """An envelope sent earlier, by id."""
        for sent in self.envelopes:
            if sent["envelope_id"] == envelope_id:
                return sent
        raise LookupError(f"no envelope {envelope_id!r}")

    async def ask_to_reconnect(self, reason: DisconnectReason = "refresh_requested") -> None:
        """Tell every connected app to reconnect, as Slack does before it drops a connection."""
        message = {"type": "disconnect", "reason": reason, "debug_info": {"host": "sandbox"}}
        for connection in list(self._connections):
            await connection.send_json(message)

    async def close_connections(self, code: int = WSCloseCode.OK) -> None:
        """Close every connection from Slack's side."""
        for connection in list(self._connections):
            await connection.close(code=code)

    # The WebSocket

    async def _link(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:
            # Each URL is good for one connection, like Slack's.
            raise web.HTTPUnauthorized(text="invalid_ticket")
        self._tickets.discard(ticket)
        # autoping answers the client's pings with pongs, which slack_sdk checks for.
        connection = web.WebSocketResponse(autoping=True)
        await connection.prepare(request)
        # hello comes before any envelope, so the connection is listed only after it.
        await connection.send_json(self._hello())
        self._connections.append(connection)
        self.opened += 1
        self._on_change()
        try:
            async for message in connection:
                if message.type is WSMsgType.TEXT:
                    self._receive(message.data)
        finally:
            self._connections.remove(connection)
            self._on_change()
        return connection

    def _hello(self) -> JSON:
        return {
            "type": "hello",
            "num_connections": len(self._connections) + 1,
            "debug_info": {
                "host": "sandbox",
                "build_number": 1,
                # Seconds until Slack would refresh the connection; the sandbox never does.
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self.app_id},
        }

    def _receive(self, text: str) -> None:
        try:
            ack = json.loads(text)
        except json.JSONDecodeError:
            ack = None
        if not isinstance(ack, dict) or not isinstance(ack.get("envelope_id"), str):
            # Slack ignores what is not an ack; say so, since it is a bug in the app.
            log.warning("Socket Mode: ignored a message that is not an ack: %.200s", text)
            return
        self.acks.append(ack)
        waiting = self._pending.get(ack["envelope_id"])
        if waiting is not None and not waiting.done():
            payload = ack.get("payload")
            waiting.set_result(payload if isinstance(payload, dict) else {})
