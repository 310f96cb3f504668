"""`POST /alerts/{source}`: monitors open incidents by themselves.

Each source proves who it is its own way — Alertmanager and the generic format with a bearer
token, Grafana with its HMAC signature (or a bearer token when no secret is set), PagerDuty with
its V3 signature — and anything unproven is refused with 401 before the body is even parsed.
A notification is answered only after it is stored, so a 2xx means nothing is lost; a sender's
retry of the same delivery is answered 200 and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.alerts import AlertPayloadError, parse
from bot.alerts.grafana import verify_grafana_signature
from bot.alerts.pagerduty import verify_pagerduty_signature
from bot.domain.alerts import AlertSource
from bot.ports import DatabaseUnavailable
from bot.services.alerting import ingest_notification
from bot.services.deps import Deps
from bot.web.api_requests import ApiError, authorize, bounded_body

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlertSecrets:
    tokens: tuple[str, ...] = ()  # bearer tokens: Alertmanager, generic, Grafana without HMAC
    grafana_secret: str | None = None
    grafana_timestamp_header: str | None = None
    pagerduty_secrets: tuple[str, ...] = ()


def alert_routes(deps: Deps, secrets: AlertSecrets) -> list[Route]:
    async def receive(request: Request) -> Response:
        try:
            source = _source(request.path_params["source"])
            body = await bounded_body(request)
            _check_sender(request, source, body, secrets, deps)
            notification = parse(source, body, request.headers)
        except ApiError as exc:
            return exc.response()
        except AlertPayloadError as exc:
            return JSONResponse({"error": str(exc)}, 400)
        try:
            result = await ingest_notification(deps, notification)
        except DatabaseUnavailable:
            raise  # answered 503 with Retry-After and the reason by the app's middleware
        except Exception:  # the webhook's edge: log it; a 5xx makes the sender retry
            log.exception("Handling a %s alert notification failed", source.value)
            return JSONResponse({"error": "failed on our side; retry"}, 500)
        return JSONResponse(
            {
                "duplicate": result.duplicate,
                "alerts": len(notification.alerts),
                "opened": result.opened,
                "joined": result.joined,
                "ignored": result.ignored,
                # Opened, but Slack has not finished setting them up; the bot will.
                "pending": result.pending,
            }
        )

    return [Route("/alerts/{source}", receive, methods=["POST"])]


def _source(text: str) -> AlertSource:
    try:
        return AlertSource(text)
    except ValueError:
        valid = ", ".join(s.value for s in AlertSource)
        raise ApiError(404, f"unknown alert source `{text[:50]}`; valid sources: {valid}") from None


def _check_sender(
    request: Request, source: AlertSource, body: bytes, secrets: AlertSecrets, deps: Deps
) -> None:
    if source is AlertSource.PAGERDUTY:
        _signed(
            secrets.pagerduty_secrets,
            "alerts.pagerduty_secret_env",
            verify_pagerduty_signature(secrets.pagerduty_secrets, body, request.headers),
        )
    elif source is AlertSource.GRAFANA and secrets.grafana_secret:
        signed = verify_grafana_signature(
            secrets.grafana_secret,
            body,
            request.headers,
            deps.clock.now(),
            timestamp_header=secrets.grafana_timestamp_header,
        )
        _signed((secrets.grafana_secret,), "alerts.grafana_secret_env", signed)
    else:
        authorize(request, secrets.tokens)


def _signed(configured: Sequence[str], setting: str, valid: bool) -> None:
    if not configured:
        raise ApiError(503, f"no signing secret configured; set {setting} in steadyhand.yml")
    if not valid:
        raise ApiError(401, "missing or wrong signature")
