"""What every `/api/…` endpoint does first: check the bearer token, read a bounded JSON body,
and answer errors as JSON with the reason."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.domain.errors import NotFound, UsageError
from bot.domain.json_input import JsonInputError, read_json


class ApiError(Exception):
    """Answered as `{"error": message}` with `status`."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        return JSONResponse({"error": str(self)}, self.status, headers=self.headers)


def authorize(request: Request, tokens: Sequence[str]) -> None:
    if not tokens:
        # Never open without auth: an unset variable must not mean "anyone may write".
        raise ApiError(503, "no API tokens configured; set STEADYHAND_API_TOKENS")
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    # Compare with every token, each in constant time, so timing tells nothing.
    matches = [hmac.compare_digest(given.strip().encode(), t.encode()) for t in tokens]
    if scheme.lower() != "bearer" or not any(matches):
        raise ApiError(
            401,
            "missing or wrong bearer token",
            headers={"WWW-Authenticate": 'Bearer realm="steadyhand"'},
        )


async def bounded_body(request: Request) -> bytes:
    """The body, never larger than its cap: `BodyLimit` (body_limit.py) cuts it off before
    it is read whole and answers 413."""
    return await request.body()


async def json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object, read by the one strict reader (bot/domain/json_input.py):
    too deep, lone surrogates, NaN and out-of-range numbers are 400 with the reason."""
    try:
        value = read_json(await bounded_body(request))
    except JsonInputError as exc:
        raise ApiError(400, f"body: {exc}") from None
    if not isinstance(value, dict):
        raise ApiError(422, "the body must be a JSON object")
    return value


@dataclass(frozen=True)
class Fields:
    """Typed reads of a JSON object, each error naming the field."""

    raw: dict[str, Any]

    def only(self, *allowed: str) -> Fields:
        unknown = sorted(set(self.raw) - set(allowed))
        if unknown:
            raise ApiError(422, f"unknown field `{unknown[0]}`; valid fields: {', '.join(allowed)}")
        return self

    def text(self, name: str) -> str:
        value = self.optional_text(name)
        if value is None:
            raise ApiError(422, f"`{name}` is required (a string)")
        return value

    def optional_text(self, name: str) -> str | None:
        value = self.raw.get(name)
        if value is not None and not isinstance(value, str):
            raise ApiError(422, f"`{name}` must be a string")
        return value

    def optional_number(self, name: str) -> float | None:
        value = self.raw.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ApiError(422, f"`{name}` must be a number")
        return None if value is None else float(value)

    def optional_time(self, name: str) -> datetime | None:
        text = self.optional_text(name)
        if text is None:
            return None
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            value = None
        if value is None or value.utcoffset() is None:
            raise ApiError(
                422, f"`{name}` must be ISO 8601 with a UTC offset, e.g. 2026-11-22T09:00:00Z"
            )
        return value


Handler = Callable[[Request], Awaitable[Response]]


def api_endpoint(handler: Handler) -> Handler:
    """Answers ApiError with its status, and bad input from the core with 422 and the reason."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except ApiError as exc:
            return exc.response()
        except (UsageError, NotFound) as exc:
            return JSONResponse({"error": str(exc)}, 422)

    return endpoint
