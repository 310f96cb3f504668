"""The use cases against in-memory fakes: no Slack, no database, no clock."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.domain import messages as m
from bot.domain.errors import Conflict, NotAnIncidentChannel, UsageError
from bot.domain.kinds import IncidentKind, IncidentStatus, Severity
from bot.domain.registry import Catalog, ServiceSpec
from bot.domain.runbooks import RunbookLibrary
from bot.domain.timeline import EventType
from bot.domain.triage import Answer, ExampleSet, TriageAnswers, YesNoUnknown
from bot.ports import ChatError
from bot.runbooks.loader import load_library
from bot.services import lifecycle, triage
from bot.services.checklists import set_step
from bot.services.deps import Deps, Policy
from bot.services.lookup import incident_by_id, incident_in_channel
from bot.services.opening import OpenIncident, open_incident
from bot.services.pending_work import deliver_pending
from bot.services.requests import first_delivery
from tests.fake_chat import FakeChat
from tests.fakes import FakeUnitOfWorkFactory

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def make_deps(
    chat: FakeChat | None = None,
    library: RunbookLibrary | None = None,
    services: tuple[str, ...] = (),
    **policy: object,
) -> Deps:
    return Deps(
        uow=FakeUnitOfWorkFactory(),
        chat=chat or FakeChat(),
        clock=ManualClock(START),
        runbooks=library or load_library(ROOT / "runbooks"),
        policy=Policy(**policy),  # type: ignore[arg-type]
        catalog=Catalog([ServiceSpec(name) for name in services]),
    )


async def events(deps: Deps, incident_id: str) -> list[EventType]:
    async with deps.uow() as uow:
        return [e.type for e in await uow.timeline.for_incident(incident_id)]


def answers(layer: IncidentKind = IncidentKind.QUALITY) -> TriageAnswers:
    return TriageAnswers(
        failure_layer=layer,
        recent_change=Answer(YesNoUnknown.YES, "prompt v13 at 08:40"),
        rollback_available=Answer(YesNoUnknown.YES, "flag support-bot.prompt"),
        human_review_needed=Answer(YesNoUnknown.UNKNOWN),
        examples_destination=ExampleSet.BLOCKING,
        answered_by="U2",
        answered_at=START + timedelta(minutes=5),
    )


async def test_opening_posts_header_checklist_and_questions_and_records_it() -> None:
    chat = FakeChat()
    deps = make_deps(chat)
    incident = await open_incident(
        deps, OpenIncident(IncidentKind.QUALITY, "Answers degraded", "U1")
    )

    assert incident.channel_name == "inc-20261122-answers-degraded"
    assert chat.members[incident.channel_id] == {"U1"}
    assert "Quality drift" in chat.topics[incident.channel_id]
    said = chat.in_channel(incident.channel_id)
    assert isinstance(said[0], m.IncidentHeader) and said[0].runbook is not None
    assert isinstance(said[-1], m.FiveQuestions)
    pages = [s for s in said if isinstance(s, m.ChecklistPage)]
    assert sum(len(p.steps) for p in pages) == len(incident.steps) > 0
    assert incident.severity is Severity.SEV2  # the runbook's default
    stored = await incident_by_id(deps, incident.id)
    assert stored.header_ts and stored.questions_ts and stored.checklist_ts
    assert await events(deps, incident.id) == [
        EventType.OPENED,
        EventType.CHANNEL_CREATED,
        EventType.QUESTIONS_ASKED,
    ]


async def test_a_taken_channel_name_gets_a_suffix() -> None:
    chat = FakeChat(taken_names=["inc-20261122-x", "inc-20261122-x-2"])
    incident = await open_incident(make_deps(chat), OpenIncident(IncidentKind.COST, "x", "U1"))
    assert incident.channel_name == "inc-20261122-x-3"


async def test_unknown_service_is_refused_with_the_valid_ones() -> None:
    deps = make_deps(services=("support-bot", "search"))
    with pytest.raises(UsageError, match="support-bot, search"):
        await open_incident(deps, OpenIncident(IncidentKind.COST, "x", "U1", service="nope"))
    assert not deps.uow.committed  # type: ignore[attr-defined]


async def test_without_a_runbook_the_header_says_why() -> None:
    chat = FakeChat()
    deps = make_deps(chat, RunbookLibrary([], []))
    incident = await open_incident(deps, OpenIncident(IncidentKind.TOOL, "x", "U1"))
    header = chat.in_channel(incident.channel_id)[0]
    assert isinstance(header, m.IncidentHeader) and header.runbook is None
    assert "no tool runbook" in (header.runbook_problem or "").lower()
    assert incident.steps == []


async def test_long_checklists_are_split_into_pages_without_losing_steps() -> None:
    chat = FakeChat()
    library = load_library(ROOT / "tests" / "fixtures" / "runbooks_long")
    deps = make_deps(chat, library)
    incident = await open_incident(deps, OpenIncident(IncidentKind.QUALITY, "long", "U1"))
    pages = [s for s in chat.in_channel(incident.channel_id) if isinstance(s, m.ChecklistPage)]
    assert len(pages) >= 3
    assert [s.position for p in pages for s in p.steps] == list(range(len(incident.steps)))
    assert all(p.pages == len(pages) for p in pages)


async def test_ticking_a_step_records_who_and_when_and_redraws_its_page() -> None:
    chat = FakeChat()
    deps = make_deps(chat)
    incident = await open_incident(deps, OpenIncident(IncidentKind.QUALITY, "x", "U1"))
    deps.clock.advance(timedelta(minutes=2))  # type: ignore[attr-defined]
    await set_step(deps, incident, 1, True, "U2")
    await set_step(
        deps, await incident_by_id(deps, incident.id), 1, True, "U3"
    )  # a repeat changes nothing
    stored = await incident_by_id(deps, incident.id)
    assert stored.steps[1].checked_by == "U2"
    assert stored.steps[1].checked_at == START + timedelta(minutes=2)
    page = next(p for p in chat.posted if isinstance(p.message, m.ChecklistPage))
    assert len(page.versions) == 2 and page.message.steps[1].done
    await set_step(deps, await incident_by_id(deps, incident.id), 1, False, "U2")
    assert not (await incident_by_id(deps, incident.id)).steps[1].done
    with pytest.raises(UsageError):
        await set_step(deps, incident, 999, True, "U2")
    assert (await events(deps, incident.id)).count(EventType.STEP_CHECKED) == 1


async def test_answers_matching_the_kind_update_the_questions_message() -> None:
    chat = FakeChat()
    deps = make_deps(chat)
    incident = await open_incident(deps, OpenIncident(IncidentKind.QUALITY, "x", "U1"))
    await triage.record_answers(deps, incident.id, answers())
    stored = await incident_by_id(deps, incident.id)
    assert stored.answers == answers()
    questions = next(p for p in chat.posted if isinstance(p.message, m.FiveQuestions))
    assert questions.message.incident.answers == answers()
    assert not any(isinstance(s, m.RunbookSwitchOffer) for s in chat.in_channel(stored.channel_id))


async def test_a_different_layer_offers_a_switch_and_switching_replaces_the_checklist() -> None:
    chat = FakeChat()
    deps = make_deps(chat)
    incident = await open_incident(deps, OpenIncident(IncidentKind.QUALITY, "x", "U1"))
    await triage.record_answers(deps, incident.id, answers(IncidentKind.RETRIEVAL))
    offer = chat.in_channel(incident.channel_id)[-1]
    assert offer == m.RunbookSwitchOffer(incident.id, IncidentKind.QUALITY, IncidentKind.RETRIEVAL)

    await triage.switch_runbook(deps, incident.id, IncidentKind.RETRIEVAL, "U2")
    stored = await incident_by_id(deps, incident.id)
    assert stored.kind is IncidentKind.RETRIEVAL and stored.runbook_key == "retrieval"
    assert stored.checklist_ts != incident.checklist_ts
    old_page = next(p for p in chat.posted if p.ts == incident.checklist_ts[0])
    assert isinstance(old_page.message, m.Notice)
    assert "Retrieval" in chat.topics[incident.channel_id]
    assert EventType.RUNBOOK_SWITCHED in await events(deps, incident.id)


async def test_the_reminder_fires_once_and_only_when_unanswered() -> None:
    chat = FakeChat()
    deps = make_deps(chat)
    unanswered = await open_incident(deps, OpenIncident(IncidentKind.QUALITY, "a", "U1"))
    answered = await open_incident(deps, OpenIncident(IncidentKind.COST, "b", "U1"))
    await triage.record_answers(deps, answered.id, answers(IncidentKind.COST))

    deps.clock.advance(timedelta(minutes=14))  # type: ignore[attr-defined]
    assert await triage.send_due_reminders(deps) == 0
    deps.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
    assert await triage.send_due_reminders(deps) == 1
    assert await triage.send_due_reminders(deps) == 0
    reminders = [p for p in chat.posted if isinstance(p.message, m.TriageReminder)]
    assert [r.channel for r in reminders] == [unanswered.channel_id]
    assert EventType.REMINDER_SENT in await events(deps, unanswered.id)


async def test_status_update_is_copied_to_stakeholders() -> None:
    chat = FakeChat()
    deps = make_deps(chat, stakeholder_channel="C0STAKE")
    incident = await open_incident(deps, OpenIncident(IncidentKind.QUALITY, "x", "U1"))
    await lifecycle.post_status_update(deps, incident, "U1", "rolled back prompt")
    copied = chat.in_channel("C0STAKE")
    assert len(copied) == 1 and isinstance(copied[0], m.StatusUpdate)
    assert copied[0].for_stakeholders and copied[0].text == "rolled back prompt"
    with pytest.raises(UsageError):
        await lifecycle.post_status_update(deps, incident, "U1", "   ")


async def test_handing_over_and_resolving() -> None:
    chat = FakeChat()
    deps = make_deps(chat)
    incident = await open_incident(deps, OpenIncident(IncidentKind.QUALITY, "x", "U1"))
    await lifecycle.hand_over_command(deps, incident, "U2", "U1")
    assert chat.members[incident.channel_id] == {"U1", "U2"}
    with pytest.raises(UsageError):
        await lifecycle.hand_over_command(deps, incident, "U2", "U1")
    deps.clock.advance(timedelta(minutes=42))  # type: ignore[attr-defined]
    await lifecycle.resolve_incident(deps, incident, "U2", "prompt rolled back")
    stored = await incident_in_channel(deps, incident.channel_id)
    assert stored.status is IncidentStatus.RESOLVED and stored.commander == "U2"
    assert stored.resolved_at == START + timedelta(minutes=42)
    with pytest.raises(Conflict):
        await lifecycle.resolve_incident(deps, stored, "U2", None)
    kinds = await events(deps, incident.id)
    assert kinds[-3:] == [
        EventType.COMMANDER_CHANGED,
        EventType.RESOLVED,
        EventType.POSTMORTEM_POSTED,
    ]
    deps.clock.advance(timedelta(minutes=30))  # type: ignore[attr-defined]
    assert await triage.send_due_reminders(deps) == 0  # resolved: no reminder


async def test_commands_outside_an_incident_channel_say_so() -> None:
    with pytest.raises(NotAnIncidentChannel):
        await incident_in_channel(make_deps(), "CGENERAL")


async def test_each_request_key_is_handled_once() -> None:
    deps = make_deps()
    assert await first_delivery(deps, "trigger_id:1")
    assert not await first_delivery(deps, "trigger_id:1")
    assert await first_delivery(deps, "trigger_id:2")


class SlowChannels(FakeChat):
    """Slack cannot make channels until told it can."""

    def __init__(self) -> None:
        super().__init__()
        self.down = True

    async def create_channel(self, name: str) -> str:
        if self.down:
            raise ChatError("Slack refused conversations.create: internal_error", passing=True)
        return await super().create_channel(name)


async def test_the_reminder_waits_for_an_opening_slack_has_not_finished() -> None:
    chat = SlowChannels()
    deps = make_deps(chat)
    incident = await open_incident(deps, OpenIncident(IncidentKind.QUALITY, "a", "U1"))
    assert incident.channel_id is None  # recorded, its opening owed
    deps.clock.advance(timedelta(minutes=15))  # type: ignore[attr-defined]
    assert await triage.send_due_reminders(deps) == 0  # nowhere to remind yet

    chat.down = False
    await deliver_pending(deps)
    deps.clock.advance(timedelta(minutes=15))  # type: ignore[attr-defined]
    assert await triage.send_due_reminders(deps) == 1
    opened = await incident_by_id(deps, incident.id)
    reminders = [p for p in chat.posted if isinstance(p.message, m.TriageReminder)]
    assert [r.channel for r in reminders] == [opened.channel_id]
