"""`GET /api/incidents/{id}/examples`: an incident's failed examples, for eval pipelines.

`?set=blocking|monitoring|backlog|unsorted` keeps one set; without it, every example comes,
each with its set (null while unsorted).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.domain.errors import NotFound
from bot.domain.findings import FailedExample
from bot.domain.triage import ExampleSet
from bot.services.deps import Deps
from bot.services.examples import examples_of
from bot.web.api_requests import ApiError, Handler, api_endpoint, authorize

UNSORTED = "unsorted"
_SETS = [*(s.value for s in ExampleSet), UNSORTED]


def get_examples(deps: Deps, tokens: Sequence[str]) -> Handler:
    @api_endpoint
    async def handle(request: Request) -> Response:
        authorize(request, tokens)
        wanted = request.query_params.get("set")
        if wanted is not None and wanted not in _SETS:
            raise ApiError(400, f"unknown set {wanted!r}; use one of {', '.join(_SETS)}")
        try:
            incident, examples = await examples_of(deps, request.path_params["incident_id"])
        except NotFound as exc:
            raise ApiError(404, str(exc)) from None
        kept = [x for x in examples if wanted is None or _set_name(x) == wanted]
        return JSONResponse(
            {
                "incident": {
                    "id": incident.id,
                    "title": incident.title,
                    "kind": incident.kind.value,
                    "service": incident.service,
                    "status": incident.status.value,
                },
                "examples": [_example_json(x) for x in kept],
            }
        )

    return handle


def _set_name(example: FailedExample) -> str:
    return example.set.value if example.set else UNSORTED


def _example_json(example: FailedExample) -> dict[str, Any]:
    return {
        "id": example.id,
        "number": example.number,
        "text": example.text,
        "links": list(example.links),
        "set": example.set.value if example.set else None,
        "added_by": example.added_by,
        "added_at": _iso(example.added_at),
        "sorted_by": example.sorted_by,
        "sorted_at": _iso(example.sorted_at),
    }


def _iso(at: datetime | None) -> str | None:
    return at.isoformat().replace("+00:00", "Z") if at else None
