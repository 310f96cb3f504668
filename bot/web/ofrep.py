"""The OpenFeature Remote Evaluation Protocol (OFREP) endpoints, how AI services read their
flags and pinned versions: `POST /ofrep/v1/evaluate/flags/{key}` and the bulk
`POST /ofrep/v1/evaluate/flags` (with `ETag` / `If-None-Match` → 304, for pollers).

Shapes follow open-feature/protocol's service/openapi.yaml, as the official providers read them.
Callers present the same bearer tokens as `/api/…`. Every answer comes from this process's
snapshot of the registry (bot/domain/registry_snapshot.py), prebuilt to bytes: no request reads
the database.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.domain.evaluation import FlagNotFound
from bot.services.deps import Deps
from bot.services.ofrep_snapshot import current_snapshot
from bot.web.api_requests import ApiError, Handler, authorize, bounded_body
from bot.web.ofrep_requests import BadRequest, general_error, none_match, read_context

JSON = "application/json"


def ofrep_routes(deps: Deps, tokens: Sequence[str]) -> list[Route]:
    return [
        Route("/ofrep/v1/evaluate/flags", evaluate_bulk(deps, tokens), methods=["POST"]),
        Route("/ofrep/v1/evaluate/flags/{key}", evaluate_one(deps, tokens), methods=["POST"]),
    ]


def evaluate_one(deps: Deps, tokens: Sequence[str]) -> Handler:
    async def handle(request: Request) -> Response:
        key = request.path_params["key"]
        try:
            authorize(request, tokens)
            read_context(await bounded_body(request))
        except ApiError as exc:
            return general_error(exc)
        except BadRequest as exc:
            return JSONResponse({"key": key, "errorCode": exc.code, "errorDetails": str(exc)}, 400)
        found = (await current_snapshot(deps)).answer(key)
        if isinstance(found, FlagNotFound):
            answer = {"key": key, "errorCode": "FLAG_NOT_FOUND", "errorDetails": found.details}
            return JSONResponse(answer, 404)
        return Response(found, media_type=JSON)

    return handle


def evaluate_bulk(deps: Deps, tokens: Sequence[str]) -> Handler:
    async def handle(request: Request) -> Response:
        try:
            authorize(request, tokens)
            read_context(await bounded_body(request))
        except ApiError as exc:
            return general_error(exc)
        except BadRequest as exc:
            return JSONResponse({"errorCode": exc.code, "errorDetails": str(exc)}, 400)
        snapshot = await current_snapshot(deps)
        if not none_match(request.headers.get("if-none-match"), snapshot.etag):
            return Response(status_code=304, headers={"ETag": snapshot.etag})
        return Response(snapshot.bulk, media_type=JSON, headers={"ETag": snapshot.etag})

    return handle
