"""Failed examples: attached during the incident, sorted into the blocking set, the monitoring
set or the backlog (question 5), listed by set in the post-mortem and exported for evals."""

from __future__ import annotations

from bot.domain import messages as m
from bot.domain.errors import NotFound
from bot.domain.findings import MAX_EXAMPLE, FailedExample, bounded_text
from bot.domain.incidents import Incident
from bot.domain.pending_work import Post
from bot.domain.timeline import EventType
from bot.domain.triage import ExampleSet
from bot.services.deps import Deps
from bot.services.lookup import incident_by_id
from bot.services.pending_posts import example_card, queue_post
from bot.services.pending_work import deliver_pending
from bot.services.timeline import record

_USAGE = "/incident example <the input that failed, or a link to it>"


async def add_example(
    deps: Deps, incident: Incident, by: str, text: str, into: ExampleSet | None
) -> FailedExample:
    """Keep it, and post its card (with a button per set) in the incident channel: owed to
    Slack in the same unit of work, so a Slack failure delays the card and never loses it;
    the card's ts is kept on the example when it is posted."""
    assert incident.channel_id is not None
    text = bounded_text(text, MAX_EXAMPLE, "failed example", _USAGE)
    now = deps.clock.now()
    example = FailedExample(deps.new_id(), incident.id, 0, text, by, now)
    if into is not None:
        example.sort_into(into, by, now)
    async with deps.uow() as uow:
        example = await uow.findings.add_example(example)
        await record(
            uow,
            incident.id,
            EventType.EXAMPLE_ADDED,
            by,
            now,
            f"Failed example #{example.number}{_in(example.set)}: {text}",
            example_id=example.id,
            number=example.number,
            set=example.set.value if example.set else None,
        )
        await queue_post(deps, uow, incident.id, Post.EXAMPLE_CARD, number=example.number)
        await uow.commit()
    await deliver_pending(deps, incident.id)
    async with deps.uow() as uow:
        return await uow.findings.example(incident.id, example.number) or example


async def sort_example(
    deps: Deps, incident: Incident, by: str, number: int, into: ExampleSet
) -> FailedExample:
    async with deps.uow() as uow:
        example = await uow.findings.example(incident.id, number)
    if example is None:
        raise NotFound(f"This incident has no failed example #{number}.")
    return await _sort(deps, incident, example, by, into)


async def sort_example_by_id(
    deps: Deps, example_id: str, by: str, into: ExampleSet
) -> FailedExample:
    async with deps.uow() as uow:
        example = await uow.findings.example_by_id(example_id)
        incident = await uow.incidents.get(example.incident_id) if example else None
    if example is None or incident is None:
        raise NotFound("That failed example no longer exists.")
    return await _sort(deps, incident, example, by, into)


async def examples_of(deps: Deps, incident_id: str) -> tuple[Incident, list[FailedExample]]:
    """The incident and its examples, in the order they were added."""
    incident = await incident_by_id(deps, incident_id)
    async with deps.uow() as uow:
        return incident, await uow.findings.examples(incident_id)


async def list_examples(deps: Deps, incident: Incident) -> m.ExampleList:
    async with deps.uow() as uow:
        examples = await uow.findings.examples(incident.id)
    return m.ExampleList(incident.id, tuple(examples))


async def _sort(
    deps: Deps, incident: Incident, example: FailedExample, by: str, into: ExampleSet
) -> FailedExample:
    if example.set is into:
        return example  # a second click on the same set: nothing moved
    now = deps.clock.now()
    previous = example.sort_into(into, by, now)
    async with deps.uow() as uow:
        await uow.findings.save_example(example)
        await record(
            uow,
            incident.id,
            EventType.EXAMPLE_SORTED,
            by,
            now,
            f"Failed example #{example.number} sorted into {into.label.lower()}"
            + (f" (was {previous.label.lower()})" if previous else ""),
            example_id=example.id,
            number=example.number,
            set=into.value,
            previous=previous.value if previous else None,
        )
        await uow.commit()
    if example.card_ts and incident.channel_id:
        await deps.chat.update(
            incident.channel_id, example.card_ts, example_card(incident, example)
        )
    return example


def _in(target: ExampleSet | None) -> str:
    return f" ({target.label.lower()})" if target else ""
