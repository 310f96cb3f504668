"""Messages owed to an incident channel, as pending Slack work (Step.POST).

The caller records what happened and queues the post in one unit of work; the pending work
delivers it (services/pending_work.py): once, after Slack recovers, across restarts, and a retry
first looks for what an earlier try may have posted. A post names its records (see Post) and is
drawn here when it is delivered, so it shows things as they are then.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, assert_never

from bot.domain import messages as m
from bot.domain.findings import FailedExample
from bot.domain.incidents import Incident
from bot.domain.kinds import IncidentKind
from bot.domain.pending_work import NewWork, Post, Step
from bot.ports import UnitOfWork
from bot.services.deps import Deps


async def queue_post(
    deps: Deps, uow: UnitOfWork, incident_id: str, post: Post, **fields: Any
) -> None:
    """Owe the incident channel `post`, in the caller's unit of work; `fields` must be JSON."""
    key = f"{incident_id}:{Step.POST.value}:{post.value}:{deps.new_id()}"
    payload = {"post": post.value, **fields}
    await uow.pending_work.add([NewWork(key, incident_id, Step.POST, payload)], deps.clock.now())


async def draw(deps: Deps, incident: Incident, payload: Mapping[str, Any]) -> m.Message | None:
    """The message as things stand; None when what it was about is gone or already shown."""
    post = Post(str(payload["post"]))
    match post:
        case Post.NOTICE:
            return m.Notice(str(payload["text"]), bool(payload.get("is_error")))
        case Post.FOLLOW_UP:
            async with deps.uow() as uow:
                follow_ups = await uow.findings.follow_ups(incident.id)
            number = int(payload["number"])
            found = next((f for f in follow_ups if f.number == number), None)
            return None if found is None else m.FollowUpAdded(found)
        case Post.EXAMPLE_CARD:
            async with deps.uow() as uow:
                example = await uow.findings.example(incident.id, int(payload["number"]))
            if example is None or example.card_ts is not None:
                return None
            return example_card(incident, example)
        case Post.RUNBOOK_SWITCH_OFFER:
            current, suggested = payload["current"], payload["suggested"]
            return m.RunbookSwitchOffer(incident.id, IncidentKind(current), IncidentKind(suggested))
        case Post.TRIAGE_REMINDER:
            return m.TriageReminder(incident, int(payload["minutes"]))
        case Post.REVIEW_DUE:
            since = timedelta(seconds=float(payload["since_resolved"]))
            return m.PostmortemReviewDue(incident, since)
        case _:
            assert_never(post)


async def keep_ts(uow: UnitOfWork, incident_id: str, payload: Mapping[str, Any], ts: str) -> None:
    """Save where the post landed, for the posts that are edited later (in the unit of work
    that marks the step done, so a post is never left without its ts)."""
    if payload["post"] != Post.EXAMPLE_CARD.value:
        return
    example = await uow.findings.example(incident_id, int(payload["number"]))
    if example is not None and example.card_ts is None:
        example.card_ts = ts
        await uow.findings.save_example(example)


def example_card(incident: Incident, example: FailedExample) -> m.ExampleCard:
    answers = incident.answers
    return m.ExampleCard(example, answers.examples_destination if answers else None)
