"""The OpenFeature Remote Evaluation Protocol (OFREP) endpoints, how AI services read their
flags and pinned versions: `POST /ofrep/v1/evaluate/flags/{key}` and the bulk
`POST /ofrep/v1/evaluate/flags` (with `ETag` / `If-None-Match` → 304, for pollers).

Shapes follow open-feature/protocol's service/openapi.yaml, as the official providers read them.
Callers present the same bearer tokens as `/api/…`.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.domain.evaluation import Evaluation, FlagNotFound
from bot.services.deps import Deps
from bot.services.flags import evaluate_every_key, evaluate_key
from bot.web.api_requests import ApiError, Handler, authorize, bounded_body
from bot.web.ofrep_requests import (
    BadRequest,
    entity_tag,
    general_error,
    none_match,
    read_context,
)

REASON = "STATIC"  # no targeting rules: every caller gets the same value


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
        found = await evaluate_key(deps, key)
        if isinstance(found, FlagNotFound):
            answer = {"key": key, "errorCode": "FLAG_NOT_FOUND", "errorDetails": found.details}
            return JSONResponse(answer, 404)
        return JSONResponse(_success(found))

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
        answer = {"flags": [_success(e) for e in await evaluate_every_key(deps)]}
        etag = entity_tag(answer)
        if not none_match(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers={"ETag": etag})
        return JSONResponse(answer, headers={"ETag": etag})

    return handle


def _success(evaluation: Evaluation) -> dict[str, object]:
    return {
        "key": evaluation.key,
        "value": evaluation.value,
        "reason": REASON,
        "variant": evaluation.variant,
        "metadata": evaluation.metadata,
    }
