"""Refuses a request whose path or query holds a NUL character (ASGI middleware).

A path parameter reaches the database as a query argument (`/api/incidents/{id}/…`), and
PostgreSQL cannot hold NUL in text: the lookup failed with a 500 where the answer is simply "no
such thing". No URL of ours ever means a NUL, so it is refused with 400 before any route runs.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send


class CleanTarget:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and ("\x00" in scope["path"] or b"%00" in scope["query_string"]):
            answer = JSONResponse({"error": "the path or query holds a NUL character"}, 400)
            await answer(scope, receive, send)
            return
        await self.app(scope, receive, send)
