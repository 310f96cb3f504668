"""The Starlette application that hosts the Bolt app and the bot's own endpoints."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from slack_bolt.adapter.starlette.async_handler import to_starlette_response
from slack_bolt.async_app import AsyncApp
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.slack.background import Background
from bot.web.body_limit import BodyLimit
from bot.web.faults import DatabaseFaultMiddleware, DatabaseFaults, ReachabilityWatch
from bot.web.metrics import Metrics
from bot.web.request_target import CleanTarget
from bot.web.slack_edge import SlackBodyError, bolt_request, signed_by_slack

HEALTH_RETRY = 5  # seconds: when an unhealthy bot is worth asking again

Lifespan = Callable[[Starlette], AbstractAsyncContextManager[None]]


def create_web_app(
    bolt: AsyncApp,
    signing_secret: str,
    background: Background,
    metrics: Metrics,
    health: Callable[[], Awaitable[dict[str, object]]],
    lifespan: Lifespan | None = None,
    api: Sequence[BaseRoute] = (),
    ofrep: Sequence[BaseRoute] = (),
    database: DatabaseFaults | None = None,
    watch: ReachabilityWatch | None = None,  # shared with Socket Mode's gate (bot/slack/outages.py)
) -> Starlette:
    faults = database or DatabaseFaults()
    watch = watch or ReachabilityWatch(faults.check_reachable)

    async def slack_events(request: Request) -> Response:
        metrics.count("steadyhand_slack_requests_total")
        # From the first byte: while the body is read, checked and dispatched, the background
        # workers hold back their next job, so it cannot stand between this request and its
        # ack (entered only around the dispatch, it let acks wait behind work: p99 7x bare).
        async with background.answering_slack():
            return await answer_slack(request)

    async def answer_slack(request: Request) -> Response:
        body = await request.body()  # capped by BodyLimit
        if not signed_by_slack(signing_secret, request.headers, body, time.time()):
            return JSONResponse({"error": "missing, stale or wrong Slack signature"}, 401)
        try:
            verified = bolt_request(request, body)
        except SlackBodyError as exc:
            return JSONResponse({"error": str(exc)}, 400)
        # Signed, so worth asking (at most once a second): an ack whose work cannot be recorded
        # is a 503 instead.
        await watch.check()
        return to_starlette_response(await bolt.async_dispatch(verified))

    async def healthz(request: Request) -> Response:
        report = await health()
        if report.get("ok"):
            return JSONResponse(report)
        return JSONResponse(report, status_code=503, headers={"Retry-After": str(HEALTH_RETRY)})

    async def metrics_endpoint(request: Request) -> Response:
        return PlainTextResponse(metrics.render(), media_type="text/plain; version=0.0.4")

    return Starlette(
        routes=[
            # The hottest first: Starlette tries each route's pattern in turn, and AI services
            # read their flags in their own request path. No two routes share a path.
            *ofrep,
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
            *api,
        ],
        lifespan=lifespan or _no_lifespan,
        middleware=[
            # First, before a byte of the body is read: a NUL in the target, then the cap.
            Middleware(CleanTarget),
            Middleware(BodyLimit),
            # Around every route, whatever it catches itself: a database outage is a 503.
            Middleware(DatabaseFaultMiddleware, faults=faults, metrics=metrics, watch=watch),
        ],
    )


@asynccontextmanager
async def _no_lifespan(app: Starlette) -> AsyncIterator[None]:
    yield
