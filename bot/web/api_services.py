"""`GET /api/services/{service}/current`: what an AI service should run, read back."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.domain.errors import NotFound
from bot.services.deps import Deps
from bot.services.registry import running
from bot.web.api_requests import ApiError, Handler, api_endpoint, authorize


def get_current(deps: Deps, tokens: Sequence[str]) -> Handler:
    @api_endpoint
    async def handle(request: Request) -> Response:
        authorize(request, tokens)
        try:
            now = await running(deps, request.path_params["service"])
        except NotFound as exc:
            raise ApiError(404, str(exc)) from None
        return JSONResponse(
            {
                "service": now.spec.name,
                "versions": {c.value: v for c, v in now.versions.items()},
                "flags": {name: state.value for name, state in now.flags.items()},
                "known_good": {c.value: k.version for c, k in now.known_good.items()},
            }
        )

    return handle
