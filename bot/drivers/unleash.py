"""The Unleash driver: flag moves through Unleash's admin API (tested against unleash-server 7.5).

Flag `f` of service `s` is the Unleash feature `s.f` (the same key as our OFREP flags) in the
spec's project; every change is made in the spec's environment. The Unleash admin creates the
features: this driver never creates, archives or re-types one, and a missing feature fails.

- Boolean, kill switch and dry run: on enables the feature in the environment, off disables it
  (`POST …/environments/{env}/on|off`). The strategies stay as the admin set them; Unleash gives
  an environment without any its default strategy, 100 % flexibleRollout, when enabled.
- Percentage: the `rollout` parameter of the environment's first enabled flexibleRollout
  strategy is set (a flexibleRollout strategy is added when there is none), then the
  environment is enabled. 0 % means off: the environment is disabled first and the rollout set
  to 0, so the feature is off for everyone whatever other strategies it has, and turning it on
  again in the Unleash UI does not bring back an old percentage.

The spec's `url` is the server's base URL (where its UI is served, without `/api`); `token` is
an admin or personal access token, sent as `Authorization: <token>`. Each HTTP request may take
`timeout_seconds`. Rollbacks (version moves) are refused: Unleash drives flags only. Failures
come back with Unleash's own text (the `message` and `details` of its JSON errors).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from bot.domain.actions import ActionRequest, FlagMove, flag_value_text
from bot.domain.drivers import DriverResult, UnleashDriverSpec
from bot.domain.registry import FlagKind
from bot.drivers.payload import excerpt

ROLLOUT_STRATEGY = "flexibleRollout"


class _Refused(Exception):
    """Unleash answered, but not with a success; the message is what to tell the channel."""


class UnleashDriver:
    def __init__(self, spec: UnleashDriverSpec, client: httpx.AsyncClient) -> None:
        self._spec = spec
        self._client = client

    async def apply(self, request: ActionRequest) -> DriverResult:
        moves = request.action.moves
        flags = [move for move in moves if isinstance(move, FlagMove)]
        if len(flags) != len(moves):
            return DriverResult(
                False,
                "Unleash drives flags only; version moves (rollbacks, restores) need another "
                "driver for this service.",
            )
        done: list[str] = []
        for move in flags:
            name = f"{request.action.service}.{move.flag}"
            try:
                await self._move(name, move)
            except httpx.TimeoutException:
                seconds = f"{self._spec.timeout_seconds:g}"
                detail = f"Unleash did not answer within {seconds} s while setting `{name}`"
                return DriverResult(False, detail + _so_far(done), timed_out=True)
            except httpx.TransportError as error:
                reason = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
                detail = f"could not reach Unleash at {self._spec.url}: {reason}"
                return DriverResult(False, detail + _so_far(done))
            except _Refused as refusal:
                return DriverResult(False, str(refusal) + _so_far(done))
            done.append(f"`{name}` {flag_value_text(move.kind, move.after)}")
        return DriverResult(True, f"Unleash {self._spec.environment}: " + ", ".join(done))

    async def _move(self, name: str, move: FlagMove) -> None:
        if move.kind is not FlagKind.PERCENTAGE:
            await self._environment(name)  # a missing feature is named as such
            await self._switch(name, on=bool(move.after))
            return
        percent = int(move.after)
        if not 0 <= percent <= 100:
            raise _Refused(f"`{name}`: a rollout is 0-100 %, not {percent}.")
        environment = await self._environment(name)
        if percent == 0:
            await self._switch(name, on=False)
        strategies = environment.get("strategies") or []
        rollout = next(
            (s for s in strategies if s.get("name") == ROLLOUT_STRATEGY and not s.get("disabled")),
            None,
        )
        path = f"{self._environment_path(name)}/strategies"
        if rollout is None:
            parameters = {"rollout": str(percent), "stickiness": "default", "groupId": name}
            await self._call("POST", path, {"name": ROLLOUT_STRATEGY, "parameters": parameters})
        else:
            patch = [{"op": "add", "path": "/parameters/rollout", "value": str(percent)}]
            await self._call("PATCH", f"{path}/{_quoted(str(rollout['id']))}", patch)
        if percent > 0:
            await self._switch(name, on=True)

    async def _environment(self, name: str) -> dict[str, Any]:
        """The feature's settings in the spec's environment, strategies included."""
        project = self._spec.project
        feature = await self._call(
            "GET",
            self._feature_path(name),
            missing=f"Unleash has no feature `{name}` in project `{project}`; the Unleash admin "
            "has to create it first",
        )
        for environment in feature.get("environments") or []:
            if environment.get("name") == self._spec.environment:
                return dict(environment)
        raise _Refused(f"Unleash feature `{name}` has no environment `{self._spec.environment}`.")

    async def _switch(self, name: str, *, on: bool) -> None:
        await self._call("POST", f"{self._environment_path(name)}/{'on' if on else 'off'}")

    def _feature_path(self, name: str) -> str:
        return f"/api/admin/projects/{_quoted(self._spec.project)}/features/{_quoted(name)}"

    def _environment_path(self, name: str) -> str:
        return f"{self._feature_path(name)}/environments/{_quoted(self._spec.environment)}"

    async def _call(
        self, method: str, path: str, body: object = None, *, missing: str | None = None
    ) -> dict[str, Any]:
        response = await self._client.request(
            method,
            self._spec.url.rstrip("/") + path,
            json=body,
            headers={"Authorization": self._spec.token, "Accept": "application/json"},
            timeout=self._spec.timeout_seconds,
        )
        if response.is_success:
            try:
                answer = response.json() if response.content else {}
            except ValueError:  # e.g. a proxy's page: not Unleash answering
                raise _Refused(
                    f"Unleash answered HTTP {response.status_code} without JSON: "
                    f"{excerpt(response.text)}"
                ) from None
            return answer if isinstance(answer, dict) else {}
        text = f"HTTP {response.status_code}: {_unleash_text(response)}"
        if response.status_code == 404 and missing:
            raise _Refused(f"{missing} ({text})")
        raise _Refused(f"Unleash refused ({text})")


def _unleash_text(response: httpx.Response) -> str:
    """Unleash's own words: its JSON error's `message`, then any other `details` messages."""
    try:
        body = response.json()
    except ValueError:
        return excerpt(response.text) or response.reason_phrase
    if not isinstance(body, dict):
        return excerpt(response.text)
    texts = [body.get("message")] + [
        d.get("message") for d in body.get("details") or [] if isinstance(d, dict)
    ]
    unique = [t for t in dict.fromkeys(texts) if isinstance(t, str) and t]
    return excerpt(" ".join(unique)) if unique else excerpt(response.text)


def _quoted(segment: str) -> str:
    return quote(segment, safe="")


def _so_far(done: list[str]) -> str:
    return f"; already set: {', '.join(done)}" if done else ""
