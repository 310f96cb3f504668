"""`POST /api/changes`: CI/CD and people report that a component now runs a new version."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.domain.registry import Change
from bot.services.deps import Deps
from bot.services.registry import record_change
from bot.web.api_requests import ApiError, Fields, Handler, api_endpoint, authorize, json_object

MAX_IDEMPOTENCY_KEY = 200
FIELDS = ("service", "component", "version", "actor", "eval_score", "source", "at")


def post_change(deps: Deps, tokens: Sequence[str]) -> Handler:
    @api_endpoint
    async def handle(request: Request) -> Response:
        authorize(request, tokens)
        body = Fields(await json_object(request)).only(*FIELDS)
        key = request.headers.get("idempotency-key")
        if key is not None and not 0 < len(key) <= MAX_IDEMPOTENCY_KEY:
            raise ApiError(422, f"Idempotency-Key must be 1-{MAX_IDEMPOTENCY_KEY} characters")
        change = await record_change(
            deps,
            body.text("service"),
            body.text("component"),
            body.text("version"),
            body.text("actor"),
            at=body.optional_time("at"),
            source=body.optional_text("source"),
            eval_score=body.optional_number("eval_score"),
            idempotency_key=key,
        )
        return JSONResponse(change_json(change), status_code=201)

    return handle


def change_json(change: Change) -> dict[str, Any]:
    return {
        "id": change.id,
        "service": change.service,
        "component": change.component.value,
        "from_version": change.from_version,
        "to_version": change.to_version,
        "actor": change.actor,
        "at": change.at.isoformat(),
        "source": change.source,
        "eval_score": change.eval_score,
    }
