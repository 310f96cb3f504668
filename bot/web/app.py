"""The Starlette application that hosts the Bolt app and the bot's own endpoints."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.slack.background import Background
from bot.web.faults import DatabaseFaultMiddleware, DatabaseFaults
from bot.web.metrics import Metrics

HEALTH_RETRY = 5  # seconds: when an unhealthy bot is worth asking again

Lifespan = Callable[[Starlette], AbstractAsyncContextManager[None]]


def create_web_app(
    bolt: AsyncApp,
    background: Background,
    metrics: Metrics,
    health: Callable[[], Awaitable[dict[str, object]]],
    lifespan: Lifespan | None = None,
    api: Sequence[BaseRoute] = (),
    ofrep: Sequence[BaseRoute] = (),
    database: DatabaseFaults | None = None,
) -> Starlette:
    handler = AsyncSlackRequestHandler(bolt)

    async def slack_events(request: Request) -> Response:
        metrics.count("steadyhand_slack_requests_total")
        async with background.answering_slack():
            return await handler.handle(request)

    async def healthz(request: Request) -> Response:
        report = await health()
        if report.get("ok"):
            return JSONResponse(report)
        return JSONResponse(report, status_code=503, headers={"Retry-After": str(HEALTH_RETRY)})

    async def metrics_endpoint(request: Request) -> Response:
        return PlainTextResponse(metrics.render(), media_type="text/plain; version=0.0.4")

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
            *api,
            *ofrep,
        ],
        lifespan=lifespan or _no_lifespan,
        # Around every route, whatever it catches itself: a database outage is a 503.
        middleware=[
            Middleware(
                DatabaseFaultMiddleware, faults=database or DatabaseFaults(), metrics=metrics
            )
        ],
    )


@asynccontextmanager
async def _no_lifespan(app: Starlette) -> AsyncIterator[None]:
    yield
