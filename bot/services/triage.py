"""The five questions: answers, the runbook switch they may suggest, and the reminder."""

from __future__ import annotations

from datetime import timedelta

from bot.domain import messages as m
from bot.domain.checklists import pages, steps_from_runbook
from bot.domain.incidents import Incident
from bot.domain.kinds import IncidentKind
from bot.domain.pending_work import Post, Step
from bot.domain.reminders import Reminder, ReminderKind
from bot.domain.timeline import BOT_ACTOR, EventType
from bot.domain.triage import LAYER_LABELS, TriageAnswers
from bot.services.deps import Deps
from bot.services.lookup import incident_by_id
from bot.services.pending_posts import queue_post
from bot.services.pending_work import deliver_pending, queue
from bot.services.postmortem_delivery import remind_review
from bot.services.timeline import record


async def record_answers(deps: Deps, incident_id: str, answers: TriageAnswers) -> None:
    incident = await incident_by_id(deps, incident_id)
    incident.ensure_open()
    first_time = incident.answers is None
    incident.answers = answers
    offer = answers.failure_layer is not incident.kind
    async with deps.uow() as uow:
        await uow.incidents.update(incident)
        await record(
            uow,
            incident_id,
            EventType.QUESTIONS_ANSWERED,
            answers.answered_by,
            answers.answered_at,
            "Answered the five questions" if first_time else "Edited the five answers",
            answers={q: a for q, a in answers.as_lines()},
            failure_layer=answers.failure_layer.value,
            examples_destination=answers.examples_destination.value,
        )
        if offer:
            await record(
                uow,
                incident_id,
                EventType.RUNBOOK_SWITCH_OFFERED,
                BOT_ACTOR,
                deps.clock.now(),
                _offered(incident.kind, answers.failure_layer),
                current=incident.kind.value,
                suggested=answers.failure_layer.value,
            )
        # Owed to Slack with the answers: the questions' message shows them, and the offer.
        await queue(deps, uow, incident_id, (Step.QUESTIONS_REFRESH, {}))
        if offer:
            await queue_post(
                deps,
                uow,
                incident_id,
                Post.RUNBOOK_SWITCH_OFFER,
                current=incident.kind.value,
                suggested=answers.failure_layer.value,
            )
        await uow.commit()
    await deliver_pending(deps, incident_id)


async def switch_runbook(deps: Deps, incident_id: str, kind: IncidentKind, user: str) -> m.Notice:
    """Make the incident a `kind` incident: its runbook's checklist replaces the old one. The
    switch is recorded and what the channel is owed (the old pages marked replaced, the new
    pages, the header, the topic) queued in one unit of work, then delivered."""
    incident = await incident_by_id(deps, incident_id)
    incident.ensure_open()
    if incident.kind is kind:
        return m.Notice(f"This is already a {kind.value} incident.")
    previous, old_pages = incident.kind, incident.checklist_ts
    runbook = deps.runbooks.default_for(kind)
    incident.kind = kind
    incident.runbook_key = runbook.key if runbook else None
    incident.runbook_version = runbook.version if runbook else None
    incident.steps = steps_from_runbook(runbook) if runbook else []
    incident.checklist_ts = []  # the new pages' ts, kept as each is posted
    new_pages = len(pages(incident.steps))
    async with deps.uow() as uow:
        await uow.incidents.replace_steps(incident.id, incident.steps)
        await uow.incidents.update(incident)
        await record(
            uow,
            incident.id,
            EventType.RUNBOOK_SWITCHED,
            user,
            deps.clock.now(),
            _switched(previous, kind),
            previous=previous.value,
            current=kind.value,
            runbook=incident.runbook_key,
            runbook_version=incident.runbook_version,
        )
        await queue(
            deps,
            uow,
            incident.id,
            (Step.CHECKLIST_RETIRED, {"pages": list(old_pages), "kind": kind.value}),
            *[
                (Step.CHECKLIST_PAGE, {"page": n, "pages": new_pages})
                for n in range(1, new_pages + 1)
            ],
            (Step.HEADER_REFRESH, {}),
            (Step.TOPIC, {}),
        )
        await uow.commit()
    await deliver_pending(deps, incident.id)
    if previous is IncidentKind.UNKNOWN:
        return m.Notice(
            f"<@{user}> classified this incident as {kind.label.lower()}: "
            f"it follows the {kind.value} runbook now."
        )
    return m.Notice(
        f"<@{user}> switched this incident to the {kind.value} runbook ({LAYER_LABELS[kind]})."
    )


def _offered(current: IncidentKind, suggested: IncidentKind) -> str:
    if current is IncidentKind.UNKNOWN:
        return f"Offered to classify the incident as {suggested.label.lower()}"
    return f"Offered to switch from the {current.value} runbook to the {suggested.value} runbook"


def _switched(previous: IncidentKind, kind: IncidentKind) -> str:
    if previous is IncidentKind.UNKNOWN:
        return f"Classified the incident as {kind.label.lower()}: the {kind.value} runbook"
    return f"Switched from the {previous.value} runbook to the {kind.value} runbook"


async def send_due_reminders(deps: Deps, batch: int = 100) -> int:
    """Send each durable reminder that has fallen due: the five questions still unanswered,
    or the post-mortem review.

    One reminder per unit of work: claiming it, recording it on the timeline and owing its post
    to Slack (pending work) are committed together, so a scheduler that runs again finds it
    fired and never queues it twice (on PostgreSQL a claim skips the rows another holds), and a
    Slack failure only delays the post. Returns how many were sent (queued).
    """
    sent = 0
    told: set[str] = set()
    for _ in range(batch):
        async with deps.uow() as uow:
            due = await uow.reminders.claim_due(deps.clock.now(), limit=1)
            if not due:
                break
            incident = await uow.incidents.get(due[0].incident_id)
            if _still_unanswered(incident, due[0].kind):
                assert incident is not None and incident.channel_id is not None
                minutes = deps.policy.triage_reminder_minutes
                await queue_post(deps, uow, incident.id, Post.TRIAGE_REMINDER, minutes=minutes)
                await record(
                    uow,
                    incident.id,
                    EventType.REMINDER_SENT,
                    BOT_ACTOR,
                    deps.clock.now(),
                    "Reminded the channel: the five questions are "
                    f"unanswered after {minutes} minutes",
                )
                sent += 1
                told.add(incident.id)
            elif _waiting_for_its_channel(incident, due[0].kind):
                # Its opening is still owed to Slack: remind once there is a channel to remind.
                assert incident is not None
                later = deps.clock.now() + timedelta(minutes=deps.policy.triage_reminder_minutes)
                await uow.reminders.add(
                    Reminder(deps.new_id(), incident.id, ReminderKind.FIVE_QUESTIONS, later)
                )
            elif due[0].kind is ReminderKind.POSTMORTEM_REVIEW and incident is not None:
                reminded = await remind_review(deps, uow, incident)
                sent += reminded
                if reminded:
                    told.add(incident.id)
            await uow.commit()
    for incident_id in sorted(told):
        await deliver_pending(deps, incident_id)
    return sent


def _waiting_for_its_channel(incident: Incident | None, kind: ReminderKind) -> bool:
    return (
        kind is ReminderKind.FIVE_QUESTIONS
        and incident is not None
        and incident.is_open
        and incident.channel_id is None
    )


def _still_unanswered(incident: Incident | None, kind: ReminderKind) -> bool:
    return (
        kind is ReminderKind.FIVE_QUESTIONS
        and incident is not None
        and incident.is_open
        and incident.answers is None
        and incident.channel_id is not None
    )


async def keep_runbook(deps: Deps, incident_id: str, user: str) -> m.Notice:
    incident = await incident_by_id(deps, incident_id)
    if incident.kind is IncidentKind.UNKNOWN:
        kept = "left the incident unclassified for now"
    else:
        kept = f"kept the {incident.kind.value} runbook"
    async with deps.uow() as uow:
        await record(
            uow, incident.id, EventType.RUNBOOK_KEPT, user, deps.clock.now(), kept.capitalize()
        )
        await uow.commit()
    return m.Notice(f"<@{user}> {kept}.")
