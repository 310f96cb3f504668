"""Alert webhooks: one parser per source, each turning a delivery's raw body into a
`Notification` of domain `Alert`s, and the signature and token checks that go with them.

Everything here is a pure function of bytes, headers and (for timestamped signatures) the
`now` the caller got from its clock: no I/O, no web framework, no clock reads. Bad input
raises `AlertPayloadError` (a `UsageError`) naming the field, never anything else; the web
layer answers it with HTTP 400.

Checks, which the web layer runs before `parse`, according to configuration:
- Grafana: `verify_grafana_signature` (the contact point's "HMAC Signature" setting);
- PagerDuty: `verify_pagerduty_signature` (`X-PagerDuty-Signature`, always sent by V3);
- Alertmanager, generic, and Grafana without HMAC: `verify_bearer_token`
  (`Authorization: Bearer …`; Alertmanager's `http_config.authorization`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from bot.alerts import alertmanager, generic, grafana, pagerduty
from bot.alerts.common import AlertPayloadError, verify_bearer_token
from bot.alerts.grafana import verify_grafana_signature
from bot.alerts.pagerduty import verify_pagerduty_signature
from bot.domain.alerts import AlertSource, Notification

__all__ = [
    "AlertPayloadError",
    "parse",
    "verify_bearer_token",
    "verify_grafana_signature",
    "verify_pagerduty_signature",
]

PARSERS: dict[AlertSource, Callable[[bytes], Notification]] = {
    AlertSource.ALERTMANAGER: alertmanager.parse,
    AlertSource.GRAFANA: grafana.parse,
    AlertSource.PAGERDUTY: pagerduty.parse,
    AlertSource.GENERIC: generic.parse,
}


def parse(source: AlertSource, body: bytes, headers: Mapping[str, str]) -> Notification:
    """The delivery as a Notification. `headers` is taken so that a source that puts meaning
    in headers can use it without the web layer changing; none of today's four does."""
    return PARSERS[source](body)
