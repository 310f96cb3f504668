"""At start, ask Slack whether the bot token works (`auth.test`), so that a wrong or revoked
token stops the start with one line naming SLACK_BOT_TOKEN, instead of failing the first
incident with `invalid_auth` hours later.

Only Slack's own answer that the token is unusable stops the start. Slack being down,
answering 5xx, rate-limiting or timing out does not: alerts are stored before they are
answered and the Slack work they need is done once Slack answers again, so an outage at Slack
must not also close the door alerts come in by (a restart during the outage would otherwise
keep the incident bot down exactly when it is needed). That case is a warning.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.errors import ConfigError

log = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 10
# Slack's error codes for "try again later"; any other `ok: false` is about the token.
SLACK_TROUBLE = frozenset(
    {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"}
)


async def check_bot_token(token: str, api_url: str) -> None:
    """Raise ConfigError if Slack refuses the token; log a warning if Slack cannot say."""
    try:
        async with aiohttp.ClientSession() as session, asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            client = AsyncWebClient(token=token, base_url=api_url, session=session)
            identity = await client.auth_test()
    except SlackApiError as exc:
        _refused(exc, api_url)
        return
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        _not_checked(f"Slack at {api_url} did not answer ({type(exc).__name__}: {exc})")
        return
    log.info("Slack knows the bot token: @%s in %s", identity.get("user"), identity.get("team"))


def _refused(exc: SlackApiError, api_url: str) -> None:
    status = exc.response.status_code
    data = exc.response.data
    error = data.get("error") if isinstance(data, dict) else None
    if status == 200 and error and error not in SLACK_TROUBLE:
        raise ConfigError(
            "SLACK_BOT_TOKEN",
            f"Slack refused it at start (auth.test: `{error}`); copy the app's current Bot User "
            "OAuth Token (xoxb-…) from OAuth & Permissions, or start with --skip-slack-check.",
        )
    if 400 <= status < 500 and status != 429:
        # Not an outage: whatever answers there is not Slack's Web API.
        raise ConfigError(
            "SLACK_API_URL",
            f"{api_url} answered HTTP {status} to auth.test; is it Slack's Web API?",
        )
    _not_checked(f"Slack answered HTTP {status}" + (f" `{error}`" if error else ""))


def _not_checked(why: str) -> None:
    log.warning(
        "SLACK_BOT_TOKEN not checked at start: %s. Starting anyway: alerts are accepted and "
        "their Slack work is done once Slack answers.",
        why,
    )
