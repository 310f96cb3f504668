"""Alert notifications over the in-memory fakes: opening, de-duplication, grouping, the storm
summary, resolution, automatic actions, and openings that were cut off.

support-bot is the one declared service; S_ONCALL (Alice U_A and Bob U_B) is paged; Carol
(U_C) approves.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from bot.clock import ManualClock
from bot.domain import messages as m
from bot.domain.actions import ActionKind, RequestStatus, Roles
from bot.domain.alert_rules import AlertRule, AlertSettings, AutoAction
from bot.domain.alerts import Alert, AlertSource, AlertStatus, Notification, TrackedAlert
from bot.domain.incidents import Incident
from bot.domain.kinds import IncidentKind, Severity
from bot.domain.registry import Catalog, Component, FlagKind, FlagSpec, ServiceSpec, built_in_flags
from bot.domain.timeline import EventType, TimelineEvent
from bot.ports import ChatError
from bot.runbooks.loader import load_library
from bot.services import registry
from bot.services.alert_summaries import refresh_alert_summaries
from bot.services.alerting import Ingested, ingest_notification
from bot.services.deps import Deps, Policy
from bot.services.lifecycle import resolve_incident
from bot.services.pending_work import Delivered, deliver_pending
from bot.services.postmortem import postmortem_markdown
from tests.fake_chat import FakeChat
from tests.fakes import FakeUnitOfWork, FakeUnitOfWorkFactory
from tests.unit.test_services import ROOT

START = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
SUPPORT_BOT = ServiceSpec(
    "support-bot",
    {Component.PROMPT: "v12", Component.MODEL: "gpt-x"},
    {**built_in_flags(), "strict-grounding": FlagSpec("strict-grounding", FlagKind.BOOLEAN, False)},
)
RULES = (AlertRule({"alertname": "EvalScoreDrop"}, "support-bot", IncidentKind.QUALITY),)
SETTINGS = AlertSettings(rules=RULES, page="S_ONCALL")
ONCALL = frozenset({"U_A", "U_B"})
GROUNDING = AutoAction("support-bot", "flag strict-grounding on", {"alertname": "Refusals"})


@dataclass
class FakeDirectory:
    members: dict[str, frozenset[str]]

    async def group_members(self, group_id: str) -> frozenset[str]:
        return self.members.get(group_id, frozenset())


class FlakyChat(FakeChat):
    """Slack fails the first channel creation (or the first summary update), then recovers."""

    def __init__(self, *, channel_fails: int = 0, update_fails: int = 0) -> None:
        super().__init__()
        self.channel_fails, self.update_fails = channel_fails, update_fails

    async def create_channel(self, name: str) -> str:
        if self.channel_fails:
            self.channel_fails -= 1
            raise ChatError("service_unavailable")
        return await super().create_channel(name)

    async def update(self, channel: str, ts: str, message: m.Message) -> None:
        if self.update_fails:
            self.update_fails -= 1
            raise ChatError("ratelimited")
        await super().update(channel, ts, message)


@dataclass
class World:
    deps: Deps
    chat: FakeChat
    clock: ManualClock
    deliveries: itertools.count[int]

    async def send(self, *alerts: Alert, key: str | None = None) -> Ingested:
        key = key or f"d{next(self.deliveries)}"
        return await ingest_notification(
            self.deps, Notification(AlertSource.ALERTMANAGER, key, alerts)
        )

    async def incident(self, incident_id: str) -> Incident:
        async with self.deps.uow() as uow:
            found = await uow.incidents.get(incident_id)
        assert found is not None
        return found

    async def alerts(self, incident_id: str) -> list[TrackedAlert]:
        async with self.deps.uow() as uow:
            return await uow.alerts.for_incident(incident_id)

    async def events(self, incident_id: str, *types: EventType) -> list[TimelineEvent]:
        async with self.deps.uow() as uow:
            found = await uow.timeline.for_incident(incident_id)
        return [e for e in found if not types or e.type in types]

    async def incident_count(self) -> int:
        uow = self.deps.uow
        assert isinstance(uow, FakeUnitOfWorkFactory)
        return len(uow.db.tables.incidents)

    def said(self, channel: str | None, kind: type[m.Message]) -> list[m.Message]:
        assert channel is not None
        return [message for message in self.chat.in_channel(channel) if isinstance(message, kind)]


def make_world(
    settings: AlertSettings = SETTINGS,
    chat: FakeChat | None = None,
    roles: Roles | None = None,
) -> World:
    clock, ids = ManualClock(START), itertools.count(1)
    chat = chat or FakeChat()
    deps = Deps(
        uow=FakeUnitOfWorkFactory(),
        chat=chat,
        clock=clock,
        runbooks=load_library(ROOT / "runbooks"),
        policy=Policy(
            alerts=settings,
            roles=roles or Roles(responders=("U_A",), approvers=("U_C",), configured=True),
        ),
        catalog=Catalog([SUPPORT_BOT]),
        new_id=lambda: f"id-{next(ids)}",
        directory=FakeDirectory({"S_ONCALL": ONCALL}),
    )
    return World(deps, chat, clock, itertools.count(1))


def firing(
    fingerprint: str = "eval-drop",
    name: str = "EvalScoreDrop",
    status: AlertStatus = AlertStatus.FIRING,
    **labels: str,
) -> Alert:
    return Alert(
        AlertSource.ALERTMANAGER,
        fingerprint,
        status,
        name,
        f"{name} on {labels.get('service', 'support-bot')}",
        labels,
        starts_at=START - timedelta(minutes=4),
        value="0.62",
        threshold="0.85",
    )


def resolved(fingerprint: str = "eval-drop", name: str = "EvalScoreDrop") -> Alert:
    return replace(firing(fingerprint, name, AlertStatus.RESOLVED), ends_at=START)


def quality(fingerprint: str) -> Alert:
    """Another alert on support-bot's quality: the same group as EvalScoreDrop."""
    return firing(
        fingerprint, "HallucinationRate", service="support-bot", ai_incident_kind="quality"
    )


# Opening, de-duplication and grouping


async def test_a_new_alert_opens_an_incident_and_pages_the_group() -> None:
    world = make_world()
    result = await world.send(firing())
    assert result == Ingested(opened=[result.opened[0]])
    incident = await world.incident(result.opened[0])
    assert (incident.kind, incident.service, incident.severity) == (
        IncidentKind.QUALITY,
        "support-bot",
        Severity.SEV2,
    )
    assert incident.title == "EvalScoreDrop on support-bot"
    assert incident.opened_by == "steadyhand" and incident.runbook_key == "quality"
    assert incident.steps and world.said(incident.channel_id, m.ChecklistPage)
    assert incident.channel_id in world.chat.channels
    assert world.chat.members[incident.channel_id] == ONCALL
    [summary] = world.said(incident.channel_id, m.AlertSummary)
    assert isinstance(summary, m.AlertSummary)
    assert summary.page == "S_ONCALL" and summary.service_unknown is None
    assert [(a.fingerprint, a.value, a.notifications) for a in summary.alerts] == [
        ("eval-drop", "0.62", 1)
    ]
    [event] = await world.events(incident.id, EventType.ALERT_FIRING)
    assert event.data["grouping"] == "new incident"
    assert event.at == START - timedelta(minutes=4)  # when the monitor saw it: time to detect


async def test_a_user_paged_is_invited_as_is() -> None:
    world = make_world(replace(SETTINGS, page="U_Z"))
    incident = await world.incident((await world.send(firing())).opened[0])
    assert world.chat.members[incident.channel_id or ""] == {"U_Z"}


async def test_a_retried_delivery_changes_nothing() -> None:
    world = make_world()
    first = await world.send(firing(), key="same")
    again = await world.send(firing(), key="same")
    assert again == Ingested(duplicate=True)
    [alert] = await world.alerts(first.opened[0])
    assert alert.notifications == 1
    assert await world.incident_count() == 1


async def test_the_same_alert_again_joins_its_incident_whenever_it_comes() -> None:
    world = make_world()
    opened = (await world.send(firing())).opened[0]
    world.clock.advance(timedelta(hours=3))  # far past the window: it is still the same alert
    assert await world.send(firing()) == Ingested(joined=[opened])
    [alert] = await world.alerts(opened)
    assert (alert.notifications, alert.firing_streak) == (2, 2)
    # It changed nothing: counted on the alert, with when, rather than a timeline event.
    assert (alert.repeats, alert.repeated_from) == (1, world.clock.now())
    events = await world.events(opened, EventType.ALERT_FIRING)
    assert [e.data["grouping"] for e in events] == ["new incident"]


async def test_alerts_for_the_same_service_and_kind_join_while_they_keep_coming() -> None:
    world = make_world()
    opened = (await world.send(firing())).opened[0]
    for n in range(1, 4):  # each within 30 minutes of the one before: the window slides
        world.clock.advance(timedelta(minutes=25))
        assert await world.send(quality(f"h{n}")) == Ingested(joined=[opened])
    assert [a.fingerprint for a in await world.alerts(opened)] == ["eval-drop", "h1", "h2", "h3"]
    events = await world.events(opened, EventType.ALERT_FIRING)
    assert [e.data["grouping"] for e in events][1:] == ["same service and kind"] * 3


async def test_after_the_window_the_same_service_and_kind_open_a_new_incident() -> None:
    world = make_world()
    first = (await world.send(firing())).opened[0]
    world.clock.advance(timedelta(minutes=31))
    later = await world.send(quality("h1"))
    assert len(later.opened) == 1 and later.opened[0] != first
    assert [a.fingerprint for a in await world.alerts(later.opened[0])] == ["h1"]


async def test_a_resolved_incident_takes_no_more_alerts() -> None:
    world = make_world()
    first = (await world.send(firing())).opened[0]
    await resolve_incident(world.deps, await world.incident(first), "U_A", "fixed")

    other = await world.send(quality("h1"))
    assert len(other.opened) == 1 and other.opened[0] != first
    refired = await world.send(firing())  # its incident is over: a new chapter, with its group
    assert refired == Ingested(joined=[other.opened[0]])
    [old, new] = [await world.alerts(i) for i in (first, other.opened[0])]
    assert old == []
    assert [(a.fingerprint, a.notifications, a.firing_streak) for a in new] == [
        ("eval-drop", 1, 1),
        ("h1", 1, 1),
    ]


async def test_a_refired_alert_alone_opens_a_new_incident_after_its_own_was_resolved() -> None:
    world = make_world()
    first = (await world.send(firing())).opened[0]
    await world.send(resolved())
    await resolve_incident(world.deps, await world.incident(first), "U_A", "fixed")
    again = await world.send(firing())
    assert len(again.opened) == 1 and again.opened[0] != first
    [alert] = await world.alerts(again.opened[0])
    assert (alert.status, alert.resolved_at, alert.notifications) == (AlertStatus.FIRING, None, 1)


async def test_a_refired_alert_starts_its_new_incident_from_the_new_firing() -> None:
    world = make_world()
    first = (await world.send(firing())).opened[0]
    await resolve_incident(world.deps, await world.incident(first), "U_A", "fixed")
    world.clock.advance(timedelta(days=2))
    started = world.clock.now() - timedelta(minutes=1)
    again = await world.send(replace(firing(), starts_at=started))
    [alert] = await world.alerts(again.opened[0])
    assert (alert.starts_at, alert.first_seen) == (started, world.clock.now())


async def test_a_resolved_alert_never_seen_firing_is_ignored() -> None:
    world = make_world()
    assert await world.send(resolved("never")) == Ingested(ignored=1)
    assert await world.incident_count() == 0
    assert world.chat.posted == []


async def test_one_notification_of_several_new_alerts_opens_one_incident() -> None:
    world = make_world()
    result = await world.send(firing(), quality("h1"), resolved("never"))
    assert len(result.opened) == 1 and result.joined == [] and result.ignored == 1
    assert len(await world.alerts(result.opened[0])) == 2


async def test_an_alert_naming_an_undeclared_service_opens_one_to_classify() -> None:
    world = make_world()
    odd = firing("odd", "Odd", service="billing-bot", ai_incident_kind="cost", severity="page")
    incident = await world.incident((await world.send(odd)).opened[0])
    # Not filed under support-bot, although it is the one service declared.
    assert (incident.kind, incident.service, incident.severity) == (
        IncidentKind.UNKNOWN,
        None,
        Severity.SEV1,
    )
    assert world.said(incident.channel_id, m.ClassifyOffer)
    [summary] = world.said(incident.channel_id, m.AlertSummary)
    assert isinstance(summary, m.AlertSummary) and summary.service_unknown == "billing-bot"
    [alert] = await world.alerts(incident.id)
    assert (alert.service, alert.kind) == ("billing-bot", "unknown")


async def test_alerts_of_different_undeclared_services_open_different_incidents() -> None:
    world = make_world()
    billing = firing("b1", "ErrorRate", service="billing-bot")
    checkout = firing("c1", "ErrorRate", service="checkout")
    crash_loop = firing("k1", "KubePodCrashLooping", namespace="payments")  # no service label
    cpu = firing("g1", "High CPU usage", team="blue")
    result = await world.send(billing, checkout, crash_loop, cpu)
    assert len(result.opened) == 4 and result.joined == []

    # The same undeclared service (or unnamed alert) again joins its own incident.
    again = await world.send(
        firing("b2", "LatencyHigh", service="billing-bot"),
        firing("k2", "KubePodCrashLooping", namespace="payments", pod="api-2"),
    )
    assert again.opened == [] and len(again.joined) == 2
    by_fingerprint = {
        a.fingerprint: incident_id
        for incident_id in result.opened
        for a in await world.alerts(incident_id)
    }
    assert set(again.joined) == {by_fingerprint["b1"], by_fingerprint["k1"]}


# The storm summary


async def test_the_summary_is_updated_once_per_tick_however_many_alerts_came() -> None:
    world = make_world()
    opened = (await world.send(firing())).opened[0]
    channel = (await world.incident(opened)).channel_id
    for n in range(5):
        await world.send(quality(f"h{n}"))
    posted = len(world.chat.posted)
    assert await refresh_alert_summaries(world.deps) == 1
    assert await refresh_alert_summaries(world.deps) == 0
    assert len(world.chat.posted) == posted  # updated in place, nothing new said
    [summary] = [p for p in world.chat.posted if isinstance(p.message, m.AlertSummary)]
    assert summary.channel == channel and len(summary.versions) == 2
    assert isinstance(summary.message, m.AlertSummary) and len(summary.message.alerts) == 6


async def test_a_failed_update_is_tried_again_on_the_next_tick() -> None:
    world = make_world(chat=FlakyChat(update_fails=1))
    await world.send(firing())
    assert await refresh_alert_summaries(world.deps) == 1  # Slack refused
    assert await refresh_alert_summaries(world.deps) == 1
    assert await refresh_alert_summaries(world.deps) == 0
    [summary] = [p for p in world.chat.posted if isinstance(p.message, m.AlertSummary)]
    assert len(summary.versions) == 2


async def test_all_alerts_resolved_is_suggested_once() -> None:
    world = make_world()
    opened = (await world.send(firing(), quality("h1"))).opened[0]
    channel = (await world.incident(opened)).channel_id
    await world.send(resolved())
    await refresh_alert_summaries(world.deps)
    assert world.said(channel, m.AllAlertsResolved) == []  # one still firing
    await world.send(resolved("h1", "HallucinationRate"))
    await refresh_alert_summaries(world.deps)
    await world.send(resolved("h1", "HallucinationRate"))  # a repeat: the summary changes
    assert await refresh_alert_summaries(world.deps) == 1
    assert world.said(channel, m.AllAlertsResolved) == [m.AllAlertsResolved(opened, 2, False)]
    assert (await world.incident(opened)).is_open  # only suggested
    [told] = await world.events(opened, EventType.ALERTS_ALL_RESOLVED)
    assert told.data == {"alerts": 2, "resolved_by_policy": False}
    # The repeated resolution is counted on its alert, not a third event.
    assert len(await world.events(opened, EventType.ALERT_RESOLVED)) == 2


async def test_by_policy_all_alerts_resolved_resolves_the_incident() -> None:
    world = make_world(replace(SETTINGS, resolve_when_all_resolved=True))
    opened = (await world.send(firing())).opened[0]
    await world.send(resolved())
    await refresh_alert_summaries(world.deps)
    incident = await world.incident(opened)
    assert not incident.is_open and incident.summary == "All alerts resolved."
    assert world.said(incident.channel_id, m.AllAlertsResolved) == [
        m.AllAlertsResolved(opened, 1, True)
    ]
    assert len(world.said(incident.channel_id, m.IncidentResolved)) == 1


# Automatic actions


def with_auto(*rules: AutoAction) -> AlertSettings:
    return replace(SETTINGS, auto_actions=rules)


def refusals(fingerprint: str = "refusals") -> Alert:
    return firing(fingerprint, "Refusals", service="support-bot", ai_incident_kind="policy")


async def auto_events(world: World, incident_id: str) -> list[str]:
    return [e.data["outcome"] for e in await world.events(incident_id, EventType.AUTO_ACTION)]


def cards(world: World) -> list[m.ActionCard]:
    return [p.message for p in world.chat.posted if isinstance(p.message, m.ActionCard)]


async def test_an_automatic_action_is_asked_for_at_the_nth_firing_only() -> None:
    world = make_world(with_auto(replace(GROUNDING, after=3)))
    opened = (await world.send(refusals())).opened[0]
    for _ in range(4):
        world.clock.advance(timedelta(minutes=1))
        await world.send(refusals())
    [card] = cards(world)
    request = card.request
    assert (request.action.kind, request.status, request.requested_by) == (
        ActionKind.FLAG,
        RequestStatus.PENDING,  # policy still applies: high risk waits for an approver
        "steadyhand",
    )
    assert request.reason == "automatic: alert Refusals fired 3 time(s) in a row"
    assert request.requested_at == START + timedelta(minutes=2)
    assert await auto_events(world, opened) == ["requested"]


async def test_a_second_automatic_action_on_the_same_target_waits_out_the_interval() -> None:
    world = make_world(with_auto(GROUNDING))
    opened = (await world.send(refusals("r1"))).opened[0]
    world.clock.advance(timedelta(minutes=10))
    await world.send(refusals("r2"))  # another alert, same rule, same flag
    assert len(cards(world)) == 1
    assert await auto_events(world, opened) == ["requested", "rate_limited"]
    [notice] = world.said((await world.incident(opened)).channel_id, m.Notice)
    assert isinstance(notice, m.Notice) and "skipped" in notice.text and not notice.is_error


async def test_a_dry_run_only_says_what_it_would_do() -> None:
    world = make_world(with_auto(replace(GROUNDING, dry_run=True)))
    opened = (await world.send(refusals())).opened[0]
    assert cards(world) == []
    async with world.deps.uow() as uow:
        assert await uow.actions.for_incident(opened) == []
    [notice] = world.said((await world.incident(opened)).channel_id, m.Notice)
    assert isinstance(notice, m.Notice) and notice.text.startswith("Dry run: would ")
    assert await auto_events(world, opened) == ["dry_run"]


class PostsDown(FakeChat):
    """Slack answers every post with a 500 while `down`."""

    down = False

    async def post(self, channel: str, message: m.Message, *, key: str | None = None) -> str:
        if self.down:
            raise ChatError("internal_error", passing=True)
        return await super().post(channel, message, key=key)


async def test_an_automatic_notice_slack_fails_to_post_is_posted_once_later() -> None:
    chat = PostsDown()
    world = make_world(with_auto(replace(GROUNDING, after=2, dry_run=True)), chat=chat)
    opened = (await world.send(refusals())).opened[0]
    chat.down = True
    world.clock.advance(timedelta(minutes=1))
    await world.send(refusals())  # the second firing: the rule's turn
    channel = (await world.incident(opened)).channel_id
    assert world.said(channel, m.Notice) == []
    assert await auto_events(world, opened) == ["dry_run"]

    chat.down = False
    for _ in range(3):
        world.clock.advance(timedelta(minutes=1))
        await deliver_pending(world.deps)
    [notice] = world.said(channel, m.Notice)
    assert isinstance(notice, m.Notice) and notice.text.startswith("Dry run: would ")


async def test_an_action_that_cannot_be_planned_is_announced() -> None:
    rollback = AutoAction("support-bot", "rollback prompt", {"alertname": "Refusals"})
    world = make_world(with_auto(rollback))
    await registry.record_change(world.deps, "support-bot", "prompt", "v13", "ci")
    opened = (await world.send(refusals())).opened[0]  # no known-good prompt to go back to
    assert cards(world) == []
    [notice] = world.said((await world.incident(opened)).channel_id, m.Notice)
    assert isinstance(notice, m.Notice) and notice.is_error
    assert notice.text.startswith("Automatic `rollback prompt` not possible:")
    assert "no known-good version" in notice.text
    assert await auto_events(world, opened) == ["failed"]


async def test_an_action_policy_refuses_is_announced() -> None:
    world = make_world(with_auto(GROUNDING), roles=Roles(configured=True))  # no approvers
    opened = (await world.send(refusals())).opened[0]
    [notice] = world.said((await world.incident(opened)).channel_id, m.Notice)
    assert isinstance(notice, m.Notice) and notice.is_error and "needs an approver" in notice.text
    assert await auto_events(world, opened) == ["failed"]


# Openings cut off


async def test_an_opening_cut_off_is_finished_by_the_scheduler() -> None:
    world = make_world(chat=FlakyChat(channel_fails=1))
    # Answered (the sender does not retry): the incident and its opening are stored.
    assert await world.send(firing()) == Ingested(opened=["id-1"], pending=["id-1"])
    assert (await world.incident("id-1")).channel_id is None
    assert await world.send(quality("h1")) == Ingested(joined=["id-1"])  # stored, waiting
    assert await refresh_alert_summaries(world.deps) == 1  # nothing to update yet: kept stale

    assert await deliver_pending(world.deps) == Delivered()  # Slack gets a moment first
    world.clock.advance(timedelta(seconds=6))
    assert (await deliver_pending(world.deps)).done > 0
    assert await deliver_pending(world.deps) == Delivered()

    incident = await world.incident("id-1")
    assert (incident.kind, incident.service, incident.title) == (
        IncidentKind.QUALITY,
        "support-bot",
        "EvalScoreDrop on support-bot",
    )
    assert world.chat.members[incident.channel_id or ""] == ONCALL
    [summary] = world.said(incident.channel_id, m.AlertSummary)
    assert isinstance(summary, m.AlertSummary)
    assert [a.fingerprint for a in summary.alerts] == ["eval-drop", "h1"]
    assert await refresh_alert_summaries(world.deps) == 1
    assert len(await world.events(incident.id, EventType.ALERT_FIRING)) == 2


async def test_repeats_that_arrive_together_are_each_counted_and_asked_for_once() -> None:
    world = make_world(with_auto(replace(GROUNDING, after=3)))
    opened = (await world.send(refusals())).opened[0]
    # Arriving at once, they are written together; the same delivery twice counts once.
    results = await asyncio.gather(
        *(world.send(refusals(), key=f"r{n}") for n in (1, 2, 3, 4, 2)),
    )
    assert results == [Ingested(joined=[opened])] * 4 + [Ingested(duplicate=True)]
    [alert] = await world.alerts(opened)
    assert (alert.notifications, alert.repeats, alert.firing_streak) == (5, 4, 5)
    # The third firing was one notification of the batch: asked for once, all the same.
    assert len(cards(world)) == 1 and await auto_events(world, opened) == ["requested"]
    assert [e.data["grouping"] for e in await world.events(opened, EventType.ALERT_FIRING)] == [
        "new incident"
    ]


async def test_what_is_not_only_repeats_leaves_a_batch_for_the_careful_path() -> None:
    world = make_world()
    opened = (await world.send(firing())).opened[0]
    repeat, new, both = await asyncio.gather(
        world.send(firing()), world.send(quality("h1")), world.send(firing(), quality("h2"))
    )
    assert repeat == new == both == Ingested(joined=[opened])
    alerts = {a.fingerprint: a for a in await world.alerts(opened)}
    assert {f: (a.notifications, a.repeats) for f, a in alerts.items()} == {
        "eval-drop": (3, 2),
        "h1": (1, 0),
        "h2": (1, 0),
    }
    firing_events = await world.events(opened, EventType.ALERT_FIRING)
    assert sorted(e.data["fingerprint"] for e in firing_events) == ["eval-drop", "h1", "h2"]


async def test_the_post_mortem_says_how_often_an_alert_repeated_and_when() -> None:
    world = make_world()
    opened = (await world.send(firing())).opened[0]
    for _ in range(300):
        world.clock.advance(timedelta(seconds=10))
        await world.send(firing())
    events = await world.events(opened, EventType.ALERT_FIRING)
    assert len(events) == 1  # 301 notifications, one change
    markdown = await postmortem_markdown(world.deps, opened)
    assert (
        "Alert EvalScoreDrop firing: repeated 300 times between 2026-11-22 09:00:10 UTC and "
        "2026-11-22 09:50:00 UTC" in markdown
    )


class ChangedAfterTheRead:
    """Another process acknowledges the alert after the repeat writer read it, before it
    writes: the writer's second unit of work sees it changed."""

    def __init__(self, inner: FakeUnitOfWorkFactory) -> None:
        self.inner, self.made = inner, 0

    def __call__(self) -> FakeUnitOfWork:
        self.made += 1
        if self.made == 2:
            key = (AlertSource.ALERTMANAGER, "eval-drop")
            alerts = self.inner.db.tables.alerts
            alerts[key] = replace(alerts[key], status=AlertStatus.ACKNOWLEDGED)
        return self.inner()


async def test_an_alert_changed_between_the_read_and_the_write_is_placed_again() -> None:
    world = make_world()
    opened = (await world.send(firing())).opened[0]
    assert isinstance(world.deps.uow, FakeUnitOfWorkFactory)
    racing = replace(world.deps, uow=ChangedAfterTheRead(world.deps.uow))
    result = await ingest_notification(
        racing, Notification(AlertSource.ALERTMANAGER, "d9", (firing(),))
    )
    assert result == Ingested(joined=[opened])
    [alert] = await world.alerts(opened)
    # Not counted as a repeat of a status it no longer had: a change, on the timeline.
    assert (alert.status, alert.notifications, alert.repeats) == (AlertStatus.FIRING, 2, 0)
    events = await world.events(opened, EventType.ALERT_FIRING)
    assert [e.data["status"] for e in events] == ["firing", "firing"]
