"""The alert summary an alert storm updates in place, and "every alert is resolved"."""

from __future__ import annotations

from bot.domain.alerts import AlertStatus, TrackedAlert
from bot.domain.messages import AlertSummary, AllAlertsResolved
from bot.slack.blocks.kit import Block, RenderedMessage, context, section
from bot.slack.blocks.text import date_token, escape, mention, notification, plural

ALERTS_SHOWN = 20  # one section each; the rest are counted
LINKS_SHOWN = 3
_ICON = {
    AlertStatus.FIRING: ":red_circle:",
    AlertStatus.ACKNOWLEDGED: ":large_orange_circle:",
    AlertStatus.RESOLVED: ":white_check_mark:",
}


def render_alert_summary(summary: AlertSummary) -> RenderedMessage:
    alerts = summary.alerts
    firing = sum(a.status is not AlertStatus.RESOLVED for a in alerts)
    heard = sum(a.notifications for a in alerts)
    head = (
        f":rotating_light: *Alerts* · {firing} firing, {len(alerts) - firing} resolved · "
        f"{plural(heard, 'notification')}"
    )
    if alerts:
        head += f"\nFirst {date_token(min(a.first_seen for a in alerts))} · last "
        head += date_token(max(a.last_seen for a in alerts))
    if summary.page:
        who = (
            f"<!subteam^{summary.page}>" if summary.page.startswith("S") else mention(summary.page)
        )
        head += f"\nPaging {who}."
    blocks: list[Block] = [section(head)]
    if summary.service_unknown:
        blocks.append(
            section(
                f":grey_question: The alert names service `{escape(summary.service_unknown)}`, "
                "which steadyhand.yml does not declare: classify the incident below."
            )
        )
    blocks += [section(_line(a)) for a in alerts[:ALERTS_SHOWN]]
    if len(alerts) > ALERTS_SHOWN:
        blocks.append(context(f"… and {plural(len(alerts) - ALERTS_SHOWN, 'more alert')}."))
    text = f"Alerts: {firing} firing, {len(alerts) - firing} resolved"
    return RenderedMessage(notification(text), blocks)


def render_all_alerts_resolved(message: AllAlertsResolved) -> RenderedMessage:
    every = "The alert is" if message.count == 1 else f"All {message.count} alerts are"
    if message.resolved_by_policy:
        text = f":white_check_mark: {every} resolved, so the incident is resolved (policy)."
    else:
        text = (
            f":white_check_mark: {every} resolved. When the service is healthy, resolve the "
            "incident with `/incident resolve <summary>`."
        )
    return RenderedMessage(notification(text), [section(text)])


def _line(alert: TrackedAlert) -> str:
    line = f"{_ICON[alert.status]} *{escape(alert.name)}* · {escape(alert.summary)}"
    if alert.value is not None:
        line += f"\nvalue `{escape(alert.value)}`"
        if alert.threshold is not None:
            line += f" (threshold `{escape(alert.threshold)}`)"
    seen = f"×{alert.notifications} · since {date_token(alert.starts_at or alert.first_seen)}"
    if alert.resolved_at is not None:
        seen += f" · resolved {date_token(alert.resolved_at)}"
    line += f"\n{seen}"
    links = [link for link in alert.links if _linkable(link)][:LINKS_SHOWN]
    if links:
        line += " · " + " · ".join(f"<{link}|link {n}>" for n, link in enumerate(links, 1))
    return line


def _linkable(link: str) -> bool:
    return link.startswith(("https://", "http://")) and not any(c in link for c in "<>| ")
