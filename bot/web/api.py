"""The `/api/…` routes: the registry, for CI/CD pipelines and the AI services themselves, and
incidents' post-mortems."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.routing import Route

from bot.services.deps import Deps
from bot.web.api_changes import post_change
from bot.web.api_examples import get_examples
from bot.web.api_known_good import post_known_good
from bot.web.api_postmortem import get_postmortem, get_postmortem_picture
from bot.web.api_service_catalog import get_services, post_service
from bot.web.api_services import get_current


def api_routes(deps: Deps, tokens: Sequence[str]) -> list[Route]:
    return [
        Route("/api/changes", post_change(deps, tokens), methods=["POST"]),
        Route("/api/known-good", post_known_good(deps, tokens), methods=["POST"]),
        Route("/api/services", post_service(deps, tokens), methods=["POST"]),
        Route("/api/services", get_services(deps, tokens), methods=["GET"]),
        Route("/api/services/{service}/current", get_current(deps, tokens), methods=["GET"]),
        Route(
            "/api/incidents/{incident_id}/postmortem",
            get_postmortem(deps, tokens),
            methods=["GET"],
        ),
        Route(
            "/api/incidents/{incident_id}/postmortem.png",
            get_postmortem_picture(deps, tokens),
            methods=["GET"],
        ),
        Route(
            "/api/incidents/{incident_id}/examples",
            get_examples(deps, tokens),
            methods=["GET"],
        ),
    ]
