"""The Directory port over Slack's Web API: who is in a user group, cached briefly.

Roles may name user groups (S…); a role check on every click would otherwise call Slack each
time. A short TTL keeps rota changes visible within a minute.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.ports import ChatError, Clock


class SlackDirectory:
    def __init__(
        self, client: AsyncWebClient, clock: Clock, ttl: timedelta = timedelta(seconds=60)
    ) -> None:
        self._client = client
        self._clock = clock
        self._ttl = ttl
        self._cache: dict[str, tuple[datetime, frozenset[str]]] = {}

    async def group_members(self, group_id: str) -> frozenset[str]:
        now = self._clock.now()
        cached = self._cache.get(group_id)
        if cached is not None and now < cached[0] + self._ttl:
            return cached[1]
        try:
            response = await self._client.usergroups_users_list(usergroup=group_id)
        except SlackApiError as exc:
            code = str(exc.response.get("error", "unknown_error"))
            passing = exc.response.status_code >= 500 or exc.response.status_code == 429
            raise ChatError(
                f"Slack refused usergroups.users.list: {code}", passing=passing
            ) from None
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            raise ChatError(
                f"Slack could not be reached for usergroups.users.list: {exc}", passing=True
            ) from None
        members = frozenset(str(user) for user in response.get("users") or [])
        self._cache[group_id] = (now, members)
        return members
