"""Delivering the post-mortem over fakes: the upload on resolution, its failure, the command,
and the review reminder."""

from collections.abc import Sequence
from datetime import timedelta

from bot.domain import messages as m
from bot.domain.incidents import Incident
from bot.domain.kinds import IncidentKind
from bot.domain.pending_work import Step
from bot.domain.reminders import ReminderKind
from bot.domain.timeline import EventType
from bot.ports import ChatError, Upload
from bot.services import lifecycle, triage
from bot.services.deps import Deps
from bot.services.opening import OpenIncident, open_incident
from tests.fake_chat import FakeChat
from tests.fakes import FakeUnitOfWorkFactory
from tests.unit.test_services import START, events, make_deps


class RefusingChat(FakeChat):
    """Slack refuses every upload."""

    async def upload_files(self, channel: str, files: Sequence[Upload], comment: str) -> list[str]:
        raise ChatError("Slack refused the file upload: not_in_channel")


async def resolved(chat: FakeChat, **policy: object) -> tuple[Deps, Incident]:
    deps = make_deps(chat, **policy)
    incident = await open_incident(deps, OpenIncident(IncidentKind.QUALITY, "Old policy", "U1"))
    deps.clock.advance(timedelta(minutes=42))  # type: ignore[attr-defined]
    await lifecycle.resolve_incident(deps, incident, "U1", "prompt rolled back")
    return deps, incident


def reminders(deps: Deps) -> list[tuple[ReminderKind, object]]:
    assert isinstance(deps.uow, FakeUnitOfWorkFactory)
    return sorted((r.kind, r.due_at) for r in deps.uow.db.tables.reminders.values())


async def test_resolving_uploads_the_markdown_and_schedules_the_review() -> None:
    chat = FakeChat()
    deps, incident = await resolved(chat)

    [upload, picture] = chat.uploads
    assert picture.filename == f"timeline-{incident.id}.png"
    assert picture.content.startswith(b"\x89PNG") and picture.comment == upload.comment
    assert upload.channel == incident.channel_id
    # Named for its pending work, so a retry can tell it was shared (see test_pending_work).
    assert upload.filename.startswith(f"postmortem-{incident.id}-")
    assert upload.filename.endswith(".md")
    assert upload.content.decode().startswith("# Post-mortem: Old policy")
    assert upload.title == "Post-mortem: Old policy"
    assert upload.comment == "📝 Draft post-mortem. Time to acknowledge 42m 00s · resolve 42m 00s."
    resolved_at = START + timedelta(minutes=42)
    assert reminders(deps) == [(ReminderKind.POSTMORTEM_REVIEW, resolved_at + timedelta(days=3))]
    assert (await events(deps, incident.id))[-2:] == [
        EventType.RESOLVED,
        EventType.POSTMORTEM_POSTED,
    ]


async def test_a_refused_upload_leaves_the_incident_resolved_and_the_upload_owed() -> None:
    chat = RefusingChat()
    deps, incident = await resolved(chat)

    assert incident.resolved_at is not None
    said = chat.in_channel(incident.channel_id or "")
    assert isinstance(said[-1], m.IncidentResolved)
    assert EventType.POSTMORTEM_POSTED not in await events(deps, incident.id)
    async with deps.uow() as uow:
        [owed] = await uow.pending_work.pending(incident.id)
    assert owed.step is Step.POSTMORTEM_UPLOAD and "not_in_channel" in (owed.last_error or "")
    assert [kind for kind, _ in reminders(deps)] == [ReminderKind.POSTMORTEM_REVIEW]


async def test_the_command_uploads_a_fresh_draft_and_a_refusal_is_told() -> None:
    chat = FakeChat()
    deps, incident = await resolved(chat)
    deps.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]

    assert await lifecycle.post_postmortem(deps, incident, "U2") is None

    assert len(chat.uploads) == 4
    async with deps.uow() as uow:
        posted = [
            e
            for e in await uow.timeline.for_incident(incident.id)
            if e.type is EventType.POSTMORTEM_POSTED
        ]
    assert [e.actor for e in posted] == ["steadyhand", "U2"]
    assert posted[-1].data == {
        "file_id": chat.uploads[-2].file_id,
        "filename": chat.uploads[-2].filename,
        "picture_file_id": chat.uploads[-1].file_id,
    }
    assert chat.uploads[-2].filename != chat.uploads[0].filename  # each upload its own name
    refusing = Deps(deps.uow, RefusingChat(), deps.clock, deps.runbooks)
    told = await lifecycle.post_postmortem(refusing, incident, "U2")
    assert told is not None and told.is_error and "not_in_channel" in told.text


async def test_the_review_reminder_fires_once_when_due() -> None:
    chat = FakeChat()
    deps, incident = await resolved(chat, postmortem_review_after=timedelta(days=2))

    deps.clock.advance(timedelta(days=2) - timedelta(minutes=1))  # type: ignore[attr-defined]
    assert await triage.send_due_reminders(deps) == 0
    deps.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
    assert await triage.send_due_reminders(deps) == 1
    assert await triage.send_due_reminders(deps) == 0

    due = chat.in_channel(incident.channel_id or "")[-1]
    assert isinstance(due, m.PostmortemReviewDue)
    assert due.since_resolved == timedelta(days=2) and due.incident.commander == "U1"
    assert (await events(deps, incident.id))[-1] is EventType.REVIEW_REMINDED
