"""What both OFREP endpoints share: the optional evaluation context in the body, error answers
in OFREP's shapes, and the bulk answer's `If-None-Match`."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from bot.domain.json_input import JsonInputError, read_json
from bot.web.api_requests import ApiError


class BadRequest(Exception):
    """Answered 400 with an OFREP error code: PARSE_ERROR or INVALID_CONTEXT."""

    def __init__(self, code: str, details: str) -> None:
        super().__init__(details)
        self.code = code


def read_context(body: bytes) -> dict[str, Any]:
    """The evaluation context; no body, `{}` and `{"context": null}` all mean none. Values
    do not depend on it (they are static), but a malformed one is still the caller's bug."""
    if not body.strip():
        return {}
    try:
        value = read_json(body)
    except JsonInputError as exc:
        raise BadRequest("PARSE_ERROR", f"body: {exc}") from None
    if not isinstance(value, dict):
        raise BadRequest("PARSE_ERROR", 'the body must be a JSON object, e.g. {"context": {}}')
    context = value.get("context")
    if context is None:
        return {}
    if not isinstance(context, dict):
        raise BadRequest("INVALID_CONTEXT", "`context` must be a JSON object")
    if not isinstance(context.get("targetingKey", ""), str):
        raise BadRequest("INVALID_CONTEXT", "`context.targetingKey` must be a string")
    return context


def general_error(exc: ApiError) -> JSONResponse:
    """401, 503, 413: OFREP's general error shape, which carries no error code."""
    return JSONResponse({"errorDetails": str(exc)}, exc.status, headers=exc.headers)


def none_match(if_none_match: str | None, etag: str) -> bool:
    """True when the caller's copy is stale; weak tags (`W/"…"`) compare by their value."""
    if if_none_match is None:
        return True
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" not in tags and etag not in tags
