"""`POST /api/known-good`: mark a version the component has run as a rollback target.

Marking is idempotent by itself (a repeat refreshes the mark), so no Idempotency-Key is needed.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.services.deps import Deps
from bot.services.registry import mark_known_good
from bot.web.api_requests import Fields, Handler, api_endpoint, authorize, json_object

FIELDS = ("service", "component", "version", "by", "reason")


def post_known_good(deps: Deps, tokens: Sequence[str]) -> Handler:
    @api_endpoint
    async def handle(request: Request) -> Response:
        authorize(request, tokens)
        body = Fields(await json_object(request)).only(*FIELDS)
        by = body.text("by")
        mark = await mark_known_good(
            deps,
            body.text("service"),
            body.text("component"),
            body.text("version"),
            by,
            body.optional_text("reason") or f"marked by {by}",
        )
        return JSONResponse(
            {
                "service": mark.service,
                "component": mark.component.value,
                "version": mark.version,
                "marked_by": mark.marked_by,
                "at": mark.at.isoformat(),
                "reason": mark.reason,
            },
            status_code=201,
        )

    return handle
