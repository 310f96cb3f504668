"""SlackDriver: plays Slack's part towards the bot, sending signed requests to /slack/events.

Every request is signed like Slack's (v0 HMAC-SHA256 of `v0:{timestamp}:{body}`). What people
do (commands, clicks, submissions, events) and how it is built from the sandbox is
SlackActivity's; this module is the HTTP way of carrying it to the bot.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from urllib.parse import urlencode

import httpx

from bot.sandbox.activity import VERIFICATION_TOKEN, Delivery, SlackActivity
from bot.sandbox.entities import JSON
from bot.sandbox.sandbox import SlackSandbox

__all__ = ["VERIFICATION_TOKEN", "Delivery", "SlackDriver", "slack_signature"]


class SlackDriver(SlackActivity[httpx.Response]):
    def __init__(
        self,
        events_url: str,
        signing_secret: str,
        sandbox: SlackSandbox,
        *,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(sandbox)
        self.events_url = events_url
        self.signing_secret = signing_secret
        self._client = client or httpx.AsyncClient(timeout=10.0)
        self._owns_client = client is None

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def redeliver(
        self, response: httpx.Response, *, retry_num: int = 1, retry_reason: str = "http_timeout"
    ) -> httpx.Response:
        """Send the same request again, as Slack does when the bot was slow or failed."""
        request = response.request
        body = request.content.decode()
        retry: Delivery = {"retry_num": retry_num, "retry_reason": retry_reason}
        return await self._send(body, request.headers["content-type"], retry)

    # Sending

    async def _deliver_command(self, form: dict[str, str], delivery: Delivery) -> httpx.Response:
        return await self._post_form(form, delivery)

    async def _deliver_interaction(self, payload: JSON, delivery: Delivery) -> httpx.Response:
        # Interactions come as one form field, `payload`, holding JSON.
        return await self._post_form({"payload": json.dumps(payload)}, delivery)

    async def _deliver_event(self, envelope: JSON, delivery: Delivery) -> httpx.Response:
        return await self._send(json.dumps(envelope), "application/json", delivery)

    def _ack_of(self, answer: httpx.Response) -> JSON | None:
        return _json_body(answer) if answer.status_code == 200 else None

    async def _post_form(self, form: Mapping[str, str], delivery: Delivery) -> httpx.Response:
        return await self._send(urlencode(form), "application/x-www-form-urlencoded", delivery)

    async def _send(self, body: str, content_type: str, delivery: Delivery) -> httpx.Response:
        timestamp = str(delivery.get("timestamp", int(time.time())))
        secret = self.signing_secret
        if delivery.get("forge"):
            secret = "not-" + secret
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": slack_signature(secret, timestamp, body),
        }
        if "retry_num" in delivery:
            headers["X-Slack-Retry-Num"] = str(delivery["retry_num"])
            headers["X-Slack-Retry-Reason"] = delivery.get("retry_reason", "http_timeout")
        return await self._client.post(self.events_url, content=body.encode(), headers=headers)


def slack_signature(signing_secret: str, timestamp: str, body: str) -> str:
    """Slack's request signature: `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}`."""
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


def _json_body(response: httpx.Response) -> JSON:
    """What the bot put in its HTTP answer: JSON, or plain text (shown as text)."""
    if not response.content:
        return {}
    try:
        body = response.json()
    except ValueError:
        return {"text": response.text}
    return body if isinstance(body, dict) else {}
