"""`GET /api/incidents/{id}/postmortem`: the post-mortem as Markdown, for wikis and scripts;
`…/postmortem.png`: its timeline picture."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import Response

from bot.domain.errors import NotFound
from bot.services.deps import Deps
from bot.services.postmortem import postmortem_markdown, postmortem_picture
from bot.web.api_requests import ApiError, Handler, api_endpoint, authorize


def get_postmortem(deps: Deps, tokens: Sequence[str]) -> Handler:
    @api_endpoint
    async def handle(request: Request) -> Response:
        authorize(request, tokens)
        try:
            markdown = await postmortem_markdown(deps, request.path_params["incident_id"])
        except NotFound as exc:
            raise ApiError(404, str(exc)) from None
        return Response(markdown, media_type="text/markdown; charset=utf-8")

    return handle


def get_postmortem_picture(deps: Deps, tokens: Sequence[str]) -> Handler:
    @api_endpoint
    async def handle(request: Request) -> Response:
        authorize(request, tokens)
        try:
            png = await postmortem_picture(deps, request.path_params["incident_id"])
        except NotFound as exc:
            raise ApiError(404, str(exc)) from None
        if png is None:
            raise ApiError(500, "the timeline picture could not be drawn; the log says why")
        return Response(png, media_type="image/png")

    return handle
