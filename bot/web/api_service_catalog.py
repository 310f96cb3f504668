"""`POST /api/services` registers a service (or updates one registered before), `GET
/api/services` lists every service, declared in steadyhand.yml or registered over the API."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.domain.errors import Conflict
from bot.domain.registry import ServiceSpec
from bot.services import service_catalog
from bot.services.deps import Deps
from bot.web.api_requests import ApiError, Fields, Handler, api_endpoint, authorize, json_object

FIELDS = ("actor", *service_catalog.FIELDS)
DECLARED, REGISTERED = "steadyhand.yml", "api"


def post_service(deps: Deps, tokens: Sequence[str]) -> Handler:
    @api_endpoint
    async def handle(request: Request) -> Response:
        authorize(request, tokens)
        raw = await json_object(request)
        # Config-only keys (drivers) pass through, for the core to refuse with the reason.
        if unknown := sorted(set(raw) - {*FIELDS, *service_catalog.CONFIG_ONLY}):
            raise ApiError(422, f"unknown field `{unknown[0]}`; valid fields: {', '.join(FIELDS)}")
        actor = Fields(raw).text("actor")
        try:
            spec, created = await service_catalog.register_service(
                deps, {k: v for k, v in raw.items() if k != "actor"}, actor
            )
        except Conflict as exc:
            raise ApiError(409, str(exc)) from None
        return JSONResponse(service_json(spec, REGISTERED), status_code=201 if created else 200)

    return handle


def get_services(deps: Deps, tokens: Sequence[str]) -> Handler:
    @api_endpoint
    async def handle(request: Request) -> Response:
        authorize(request, tokens)
        found = await service_catalog.every_service(deps)
        return JSONResponse(
            {
                "services": [
                    service_json(spec, DECLARED if declared else REGISTERED)
                    for spec, declared in found
                ]
            }
        )

    return handle


def service_json(spec: ServiceSpec, source: str) -> dict[str, Any]:
    """Never the drivers: they name where secrets live and where signed requests go."""
    return {
        "name": spec.name,
        "source": source,
        "environment": spec.environment,
        "components": {c.value: version for c, version in spec.components.items()},
        "flags": {
            f.name: {"kind": f.kind.value, "default": f.default} for f in spec.flags.values()
        },
    }
