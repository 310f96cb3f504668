"""Messages the bot owes an incident channel, over the fakes: Slack answering 500 (or nothing)
delays them, a restart does not lose them, and none is posted twice (issue 10)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bot.domain import messages as m
from bot.domain.incidents import Incident
from bot.domain.kinds import IncidentKind
from bot.domain.timeline import EventType
from bot.domain.triage import ExampleSet
from bot.ports import ChatError
from bot.services import examples, follow_ups, lifecycle, triage
from bot.services.deps import Deps
from bot.services.opening import OpenIncident, open_incident
from bot.services.pending_work import deliver_pending
from tests.fake_chat import FakeChat
from tests.unit.test_services import answers, events, make_deps


class OutageChat(FakeChat):
    """Slack answers every post and upload with a 500 while `down`; `lose_answers` posts and
    then fails as a timeout would, so the caller cannot tell the post landed."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.lose_answers = 0

    async def post(self, channel: str, message: m.Message, *, key: str | None = None) -> str:
        if self.down:
            raise ChatError("internal_error", passing=True)
        ts = await super().post(channel, message, key=key)
        if self.lose_answers:
            self.lose_answers -= 1
            raise ChatError("timed out", passing=True)
        return ts

    async def upload_files(self, channel: str, files: object, comment: str) -> list[str]:
        if self.down:
            raise ChatError("internal_error", passing=True)
        return await super().upload_files(channel, files, comment)  # type: ignore[arg-type]

    def said(self, kind: type[m.Message]) -> list[m.Message]:
        return [p.message for p in self.posted if isinstance(p.message, kind)]


async def opened(chat: OutageChat) -> tuple[Deps, Incident]:
    deps = make_deps(chat)
    incident = await open_incident(deps, OpenIncident(IncidentKind.QUALITY, "Drift", "U1"))
    return deps, incident


async def slack_recovers(deps: Deps, chat: OutageChat) -> Deps:
    """Slack answers again after the bot restarted: a new process on the same database runs
    the scheduler's delivery a few times."""
    chat.down = False
    restarted = replace(deps)
    for _ in range(3):
        restarted.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
        await deliver_pending(restarted)
    return restarted


async def owed(deps: Deps, incident: Incident) -> int:
    async with deps.uow() as uow:
        return len(await uow.pending_work.pending(incident.id))


async def test_a_follow_up_slack_fails_to_announce_is_announced_once_later() -> None:
    chat = OutageChat()
    deps, incident = await opened(chat)
    chat.down = True

    added = await follow_ups.add_follow_up(deps, incident, "U2", "U3", "gate prompts")

    assert chat.said(m.FollowUpAdded) == []
    assert (await events(deps, incident.id))[-1] is EventType.FOLLOW_UP_ADDED
    assert await owed(deps, incident) == 1
    await slack_recovers(deps, chat)
    assert chat.said(m.FollowUpAdded) == [m.FollowUpAdded(added)]
    assert await owed(deps, incident) == 0


async def test_an_example_card_slack_fails_to_post_is_posted_once_and_its_ts_kept() -> None:
    chat = OutageChat()
    deps, incident = await opened(chat)
    chat.down = True

    added = await examples.add_example(deps, incident, "U2", "refund window → 30d", None)
    # Sorted before its card is out: the card, when it comes, shows where it went.
    await examples.sort_example(deps, incident, "U2", added.number, ExampleSet.BLOCKING)

    assert chat.said(m.ExampleCard) == [] and added.card_ts is None
    await slack_recovers(deps, chat)
    [card] = [p for p in chat.posted if isinstance(p.message, m.ExampleCard)]
    assert isinstance(card.message, m.ExampleCard)
    assert card.message.example.set is ExampleSet.BLOCKING
    async with deps.uow() as uow:
        stored = await uow.findings.example(incident.id, added.number)
    assert stored is not None and stored.card_ts == card.ts
    # The card is now known: the next sort edits it in place.
    await examples.sort_example(deps, incident, "U2", added.number, ExampleSet.BACKLOG)
    assert len(card.versions) == 2 and len(chat.said(m.ExampleCard)) == 1


async def test_an_example_card_posted_without_our_hearing_back_is_not_posted_again() -> None:
    chat = OutageChat()
    deps, incident = await opened(chat)
    chat.lose_answers = 1

    added = await examples.add_example(deps, incident, "U2", "refund window → 30d", None)

    await slack_recovers(deps, chat)
    [card] = [p for p in chat.posted if isinstance(p.message, m.ExampleCard)]
    async with deps.uow() as uow:
        stored = await uow.findings.example(incident.id, added.number)
    assert stored is not None and stored.card_ts == card.ts


async def test_a_runbook_switch_offer_slack_fails_to_post_is_posted_once_later() -> None:
    chat = OutageChat()
    deps, incident = await opened(chat)
    chat.down = True

    await triage.record_answers(deps, incident.id, answers(IncidentKind.RETRIEVAL))

    assert chat.said(m.RunbookSwitchOffer) == []
    assert EventType.RUNBOOK_SWITCH_OFFERED in await events(deps, incident.id)
    await slack_recovers(deps, chat)
    assert chat.said(m.RunbookSwitchOffer) == [
        m.RunbookSwitchOffer(incident.id, IncidentKind.QUALITY, IncidentKind.RETRIEVAL)
    ]


async def test_a_triage_reminder_slack_fails_to_post_is_sent_once_however_often_it_runs() -> None:
    chat = OutageChat()
    deps, incident = await opened(chat)
    deps.clock.advance(timedelta(minutes=deps.policy.triage_reminder_minutes))  # type: ignore[attr-defined]
    chat.down = True

    assert await triage.send_due_reminders(deps) == 1  # recorded, and owed to Slack
    assert await triage.send_due_reminders(deps) == 0  # the scheduler again: not twice
    assert chat.said(m.TriageReminder) == []
    await slack_recovers(deps, chat)
    assert await triage.send_due_reminders(deps) == 0
    assert len(chat.said(m.TriageReminder)) == 1
    assert (await events(deps, incident.id)).count(EventType.REMINDER_SENT) == 1


async def test_a_triage_reminder_posted_without_our_hearing_back_is_not_posted_again() -> None:
    chat = OutageChat()
    deps, incident = await opened(chat)
    deps.clock.advance(timedelta(minutes=deps.policy.triage_reminder_minutes))  # type: ignore[attr-defined]
    chat.lose_answers = 1

    await triage.send_due_reminders(deps)
    await slack_recovers(deps, chat)
    await triage.send_due_reminders(deps)

    assert len(chat.said(m.TriageReminder)) == 1
    assert await owed(deps, incident) == 0


async def test_a_review_reminder_slack_fails_to_post_is_sent_once_later() -> None:
    chat = OutageChat()
    deps, incident = await opened(chat)
    deps.clock.advance(timedelta(minutes=42))  # type: ignore[attr-defined]
    await lifecycle.resolve_incident(deps, incident, "U1", "prompt rolled back")
    deps.clock.advance(deps.policy.postmortem_review_after)  # type: ignore[attr-defined]
    chat.down = True

    assert await triage.send_due_reminders(deps) == 1
    assert await triage.send_due_reminders(deps) == 0
    assert chat.said(m.PostmortemReviewDue) == []
    await slack_recovers(deps, chat)
    [due] = chat.said(m.PostmortemReviewDue)
    assert isinstance(due, m.PostmortemReviewDue)
    # As long since resolution as when it fell due, not when Slack came back.
    assert due.since_resolved == deps.policy.postmortem_review_after
    assert (await events(deps, incident.id)).count(EventType.REVIEW_REMINDED) == 1


async def test_a_postmortem_asked_for_while_slack_is_down_is_uploaded_once_later() -> None:
    chat = OutageChat()
    deps, incident = await opened(chat)
    chat.down = True

    told = await lifecycle.post_postmortem(deps, incident, "U2")

    assert told is not None and told.is_error and "as soon as Slack answers" in told.text
    assert chat.uploads == []
    await slack_recovers(deps, chat)
    assert [u.filename.endswith(".md") for u in chat.uploads] == [True, False]  # and picture
    async with deps.uow() as uow:
        posted = [
            e
            for e in await uow.timeline.for_incident(incident.id)
            if e.type is EventType.POSTMORTEM_POSTED
        ]
    assert [e.actor for e in posted] == ["U2"]


async def test_a_runbook_switch_slack_fails_to_show_is_kept_and_shown_once_later() -> None:
    chat = OutageChat()
    deps, incident = await opened(chat)
    old_pages = list(incident.checklist_ts)
    chat.down = True

    await triage.switch_runbook(deps, incident.id, IncidentKind.RETRIEVAL, "U2")

    async with deps.uow() as uow:
        switched = await uow.incidents.get(incident.id)
    assert switched is not None and switched.kind is IncidentKind.RETRIEVAL  # kept
    assert EventType.RUNBOOK_SWITCHED in await events(deps, incident.id)
    await slack_recovers(deps, chat)
    async with deps.uow() as uow:
        switched = await uow.incidents.get(incident.id)
    assert switched is not None
    new_pages = [p for p in chat.posted if p.ts in switched.checklist_ts]
    assert len(new_pages) == len(switched.checklist_ts) >= 1
    all_pages = [p for p in chat.posted if isinstance(p.versions[0], m.ChecklistPage)]
    assert len(all_pages) == len(old_pages) + len(new_pages)  # none twice
    retired = [p for p in chat.posted if p.ts in old_pages]
    assert all(isinstance(p.message, m.Notice) and "replaced" in p.message.text for p in retired)
    assert await owed(deps, incident) == 0


async def test_a_switch_before_the_opening_is_delivered_posts_the_new_checklist_once() -> None:
    chat = OutageChat()
    chat.down = True
    deps = make_deps(chat)
    incident = await open_incident(deps, OpenIncident(IncidentKind.QUALITY, "Drift", "U1"))

    await triage.switch_runbook(deps, incident.id, IncidentKind.RETRIEVAL, "U2")

    await slack_recovers(deps, chat)
    async with deps.uow() as uow:
        switched = await uow.incidents.get(incident.id)
    assert switched is not None and switched.checklist_ts
    pages = [p for p in chat.posted if isinstance(p.message, m.ChecklistPage)]
    assert [p.ts for p in pages] == switched.checklist_ts
    assert all(p.message.incident_id == incident.id for p in pages)  # type: ignore[union-attr]
    assert await owed(deps, incident) == 0
