"""Settings from the environment and `steadyhand.yml`, validated once, read on demand.

Nothing is read at import time: `load_settings` is called by the CLI and by tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from bot.config_actions import parse_policy, parse_roles
from bot.config_alerts import parse_alert_webhooks, parse_alerts
from bot.config_services import parse_catalog
from bot.domain.actions import ActionPolicy, Roles
from bot.domain.alert_rules import AlertSettings
from bot.domain.errors import ConfigError, UsageError
from bot.domain.findings import DEFAULT_PIN_REACTION, reaction_name
from bot.domain.known_keys import check_keys
from bot.domain.registry import Catalog, parse_duration

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./steadyhand.db"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"


@dataclass(frozen=True)
class Settings:
    slack_bot_token: str
    slack_signing_secret: str
    slack_app_token: str | None
    slack_api_url: str
    database_url: str
    runbooks_dir: Path
    port: int
    config_path: Path | None
    # Ask Slack (auth.test) at start whether the bot token works; off for offline starts
    # (`serve --skip-slack-check`, STEADYHAND_SKIP_SLACK_CHECK=1).
    check_slack_token: bool = True
    stakeholder_channel: str | None = None
    display_timezone: str = "UTC"
    postmortem_template: Path | None = None  # a team's own Jinja2 template
    postmortem_review_after: timedelta = timedelta(days=3)
    pin_reaction: str = DEFAULT_PIN_REACTION
    triage_reminder_minutes: int = 15
    catalog: Catalog = field(default_factory=lambda: Catalog([]))
    # Bearer tokens for /api/…, from STEADYHAND_API_TOKENS only: secrets stay out of the yml.
    api_tokens: tuple[str, ...] = ()
    known_good_after: timedelta = timedelta(hours=24)
    roles: Roles = field(default_factory=Roles)  # not configured: everyone responds
    action_policy: ActionPolicy = field(default_factory=ActionPolicy)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    # Bearer tokens for /alerts/…: STEADYHAND_ALERT_TOKENS, else STEADYHAND_API_TOKENS.
    alert_tokens: tuple[str, ...] = ()
    # Webhook signature secrets, from the variables the `alerts` section names.
    grafana_secret: str | None = None
    grafana_timestamp_header: str | None = None
    pagerduty_secrets: tuple[str, ...] = ()  # several while rotating


def load_settings(
    environ: Mapping[str, str], *, require_slack: bool = True, socket_mode: bool = False
) -> Settings:
    """Build Settings or raise ConfigError naming the first setting that is wrong."""
    token = environ.get("SLACK_BOT_TOKEN", "")
    secret = environ.get("SLACK_SIGNING_SECRET", "")
    app_token = environ.get("SLACK_APP_TOKEN") or None
    if require_slack:
        if not token:
            raise ConfigError("SLACK_BOT_TOKEN", "not set; copy the Bot User OAuth Token (xoxb-…).")
        if not token.startswith("xoxb-"):
            raise ConfigError("SLACK_BOT_TOKEN", "must be a bot token starting with `xoxb-`.")
        if not secret:
            raise ConfigError(
                "SLACK_SIGNING_SECRET", "not set; copy it from the app's Basic Information page."
            )
    if socket_mode and not (app_token or "").startswith("xapp-"):
        raise ConfigError(
            "SLACK_APP_TOKEN", "Socket Mode needs an app-level token starting with `xapp-`."
        )
    config_path, file_settings = _read_config_file(environ)
    api_tokens = _tokens(environ, "STEADYHAND_API_TOKENS")
    return Settings(
        slack_bot_token=token,
        slack_signing_secret=secret,
        slack_app_token=app_token,
        slack_api_url=_api_url(environ.get("SLACK_API_URL") or DEFAULT_SLACK_API_URL),
        database_url=environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        runbooks_dir=Path(environ.get("RUNBOOKS_DIR") or "./runbooks"),
        port=_port(environ.get("PORT") or "3000"),
        config_path=config_path,
        check_slack_token=not _flag(environ, "STEADYHAND_SKIP_SLACK_CHECK"),
        api_tokens=api_tokens,
        alert_tokens=_tokens(environ, "STEADYHAND_ALERT_TOKENS") or api_tokens,
        **file_settings,
    )


def _api_url(value: str) -> str:
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError("SLACK_API_URL", f"`{value}` is not an http(s) URL.")
    return value if value.endswith("/") else value + "/"


def _tokens(environ: Mapping[str, str], name: str) -> tuple[str, ...]:
    value = environ.get(name, "")
    tokens = tuple(t.strip() for t in value.split(",") if t.strip())
    if any(len(t) < 16 for t in tokens):
        raise ConfigError(name, "every token must be at least 16 characters long.")
    return tokens


def _flag(environ: Mapping[str, str], name: str) -> bool:
    value = environ.get(name, "").strip().lower()
    if value in ("", "0", "false", "no"):
        return False
    if value in ("1", "true", "yes"):
        return True
    raise ConfigError(name, f"`{value}` is not one of 1, true, yes, 0, false, no.")


def _port(value: str) -> int:
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise ConfigError("PORT", f"`{value}` is not a TCP port number (1-65535).")
    return int(value)


def _read_config_file(environ: Mapping[str, str]) -> tuple[Path | None, dict[str, Any]]:
    explicit = environ.get("STEADYHAND_CONFIG")
    path = Path(explicit or "./steadyhand.yml")
    if not path.exists():
        if explicit:
            raise ConfigError("STEADYHAND_CONFIG", f"{path} does not exist.")
        return None, {}
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(str(path), f"is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(str(path), "must be a mapping of settings.")
    return path, _file_settings(str(path), raw, environ)


# A tuple: an unknown key's error lists the valid ones in this order.
_KNOWN_KEYS = (
    "stakeholder_channel",
    "display_timezone",
    "postmortem_template",
    "postmortem_review_after",
    "pin_reaction",
    "triage_reminder_minutes",
    "services",
    "known_good_after",
    "roles",
    "policy",
    "alerts",
)


def _file_settings(where: str, raw: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    check_keys(f"{where}:", raw, _KNOWN_KEYS, "setting")
    out: dict[str, Any] = {}
    if (channel := raw.get("stakeholder_channel")) is not None:
        if not isinstance(channel, str) or not channel.strip():
            raise ConfigError(f"{where}: stakeholder_channel", "must be a channel ID like C0123.")
        out["stakeholder_channel"] = channel.strip()
    if (zone := raw.get("display_timezone")) is not None:
        try:
            ZoneInfo(str(zone))
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"{where}: display_timezone", f"`{zone}` is not an IANA time zone."
            ) from None
        out["display_timezone"] = str(zone)
    if (template := raw.get("postmortem_template")) is not None:
        out["postmortem_template"] = _template_path(where, template)
    if (review := raw.get("postmortem_review_after")) is not None:
        out["postmortem_review_after"] = _duration(where, "postmortem_review_after", review)
    if (reaction := raw.get("pin_reaction")) is not None:
        try:
            out["pin_reaction"] = reaction_name(str(reaction))
        except UsageError as exc:
            raise ConfigError(f"{where}: pin_reaction", str(exc)) from None
    if (minutes := raw.get("triage_reminder_minutes")) is not None:
        if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes < 1:
            raise ConfigError(
                f"{where}: triage_reminder_minutes", "must be a whole number of minutes ≥ 1."
            )
        out["triage_reminder_minutes"] = minutes
    if (services := raw.get("services")) is not None:
        out["catalog"] = parse_catalog(where, services, environ)
    if (after := raw.get("known_good_after")) is not None:
        out["known_good_after"] = _duration(where, "known_good_after", after)
    if "roles" in raw:  # even empty: a section that names nobody is a mistake, not a default
        out["roles"] = parse_roles(where, raw["roles"])
    if (policy := raw.get("policy")) is not None:
        out["action_policy"] = parse_policy(where, policy, out.get("catalog", Catalog([])))
    if (alerts := raw.get("alerts")) is not None:  # after services: auto actions name them
        out["alerts"] = parse_alerts(where, alerts, out.get("catalog", Catalog([])))
        hooks = parse_alert_webhooks(where, alerts, environ)
        out["grafana_secret"] = hooks.grafana_secret
        out["grafana_timestamp_header"] = hooks.grafana_timestamp_header
        out["pagerduty_secrets"] = hooks.pagerduty_secrets
    return out


def _duration(where: str, key: str, value: object) -> timedelta:
    try:
        return parse_duration(str(value))
    except UsageError as exc:
        raise ConfigError(f"{where}: {key}", str(exc)) from None


def _template_path(where: str, value: object) -> Path:
    """Relative to steadyhand.yml's folder, so the file can sit next to it."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: postmortem_template", "must be the path of a Jinja2 file.")
    path = Path(value.strip()).expanduser()
    if not path.is_absolute():
        path = Path(where).parent / path
    if not path.is_file():
        raise ConfigError(f"{where}: postmortem_template", f"{path} does not exist.")
    return path
