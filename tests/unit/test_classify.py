"""An incident of no known kind, as alerts open them: no runbook until someone classifies it."""

from bot.domain import messages as m
from bot.domain.kinds import IncidentKind, Severity
from bot.domain.timeline import EventType
from bot.services import triage
from bot.services.lookup import incident_by_id
from bot.services.opening import OpenIncident, open_incident
from tests.fake_chat import FakeChat
from tests.unit.test_services import answers, events, make_deps


async def test_an_unknown_incident_offers_the_kinds_and_asks_the_five_questions() -> None:
    chat = FakeChat()
    deps = make_deps(chat)
    incident = await open_incident(deps, OpenIncident(IncidentKind.UNKNOWN, "Alert fired", "U1"))

    said = chat.in_channel(incident.channel_id)
    assert [type(s) for s in said] == [m.IncidentHeader, m.ClassifyOffer, m.FiveQuestions]
    header, offer = said[0], said[1]
    assert isinstance(header, m.IncidentHeader) and header.runbook is None
    assert header.runbook_problem == (
        "Not classified yet: choose the kind below and its runbook's checklist is posted."
    )
    assert offer == m.ClassifyOffer(incident.id)
    assert incident.steps == [] and incident.checklist_ts == []  # no checklist page at all
    assert incident.runbook_key is None and incident.severity is Severity.SEV2
    assert chat.topics[incident.channel_id].startswith("Needs classification · SEV2")
    assert await events(deps, incident.id) == [
        EventType.OPENED,
        EventType.CHANNEL_CREATED,
        EventType.QUESTIONS_ASKED,
    ]


async def test_choosing_a_kind_posts_its_checklist_and_updates_the_header() -> None:
    chat = FakeChat()
    deps = make_deps(chat)
    incident = await open_incident(deps, OpenIncident(IncidentKind.UNKNOWN, "Alert fired", "U1"))

    notice = await triage.switch_runbook(deps, incident.id, IncidentKind.RETRIEVAL, "U2")

    assert notice.text == (
        "<@U2> classified this incident as retrieval failure: it follows the retrieval runbook now."
    )
    stored = await incident_by_id(deps, incident.id)
    assert stored.kind is IncidentKind.RETRIEVAL and stored.runbook_key == "retrieval"
    assert stored.steps and stored.checklist_ts
    pages = [s for s in chat.in_channel(incident.channel_id) if isinstance(s, m.ChecklistPage)]
    assert sum(len(p.steps) for p in pages) == len(stored.steps)
    header = next(p.message for p in chat.posted if p.ts == incident.header_ts)  # updated
    assert isinstance(header, m.IncidentHeader)
    assert header.runbook is not None and header.runbook_problem is None
    assert "Retrieval failure" in chat.topics[incident.channel_id]
    async with deps.uow() as uow:
        switched = [
            e
            for e in await uow.timeline.for_incident(incident.id)
            if e.type is EventType.RUNBOOK_SWITCHED
        ]
    assert [(e.text, e.data["previous"]) for e in switched] == [
        ("Classified the incident as retrieval failure: the retrieval runbook", "unknown")
    ]


async def test_question_1_offers_to_classify_and_not_yet_leaves_it_unclassified() -> None:
    chat = FakeChat()
    deps = make_deps(chat)
    incident = await open_incident(deps, OpenIncident(IncidentKind.UNKNOWN, "Alert fired", "U1"))

    await triage.record_answers(deps, incident.id, answers(IncidentKind.COST))
    offer = chat.in_channel(incident.channel_id)[-1]
    assert offer == m.RunbookSwitchOffer(incident.id, IncidentKind.UNKNOWN, IncidentKind.COST)

    notice = await triage.keep_runbook(deps, incident.id, "U2")
    assert notice.text == "<@U2> left the incident unclassified for now."
    assert (await incident_by_id(deps, incident.id)).kind is IncidentKind.UNKNOWN
