"""Pins, notes, examples and follow-ups as services, over the fakes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.domain.errors import NotFound, UsageError
from bot.domain.findings import ChannelMessage, pinned_messages
from bot.domain.kinds import IncidentKind
from bot.domain.messages import ExampleCard, FollowUpAdded
from bot.domain.timeline import EventType
from bot.domain.triage import ExampleSet
from bot.ports import ChatError
from bot.services import examples, follow_ups, pins
from bot.services.deps import Deps
from bot.services.lookup import incident_in_channel
from bot.services.opening import OpenIncident, open_incident
from tests.fake_chat import FakeChat
from tests.unit.test_services import events, make_deps


class Messages:
    """A MessageReader over a dict, or one that refuses."""

    def __init__(self, found: dict[str, ChannelMessage] | None = None) -> None:
        self.found = found

    async def message(self, channel: str, ts: str) -> ChannelMessage | None:
        if self.found is None:
            raise ChatError("Slack refused reading the message: missing_scope")
        return self.found.get(ts)


async def opened(deps: Deps) -> str:
    incident = await open_incident(deps, OpenIncident(IncidentKind.QUALITY, "Drift", "U1"))
    assert incident.channel_id is not None
    return incident.channel_id


async def test_a_message_that_cannot_be_read_is_still_pinned_at_its_own_time() -> None:
    deps = replace(make_deps(), messages=Messages(None))
    channel = await opened(deps)

    assert await pins.pin_message(deps, channel, "1795338123.000200", "U2", "pushpin", "U3")

    incident = await incident_in_channel(deps, channel)
    async with deps.uow() as uow:
        [pinned] = pinned_messages(await uow.findings.pins(incident.id))
    assert pinned.message == ChannelMessage(
        channel, "1795338123.000200", "U3", "(message not readable)"
    )
    assert pinned.pinned_by == ("U2",)


async def test_only_the_pin_reaction_in_an_incident_channel_pins() -> None:
    said = ChannelMessage("C-x", "1795338123.000200", "U3", "hello")
    deps = replace(make_deps(pin_reaction="star"), messages=Messages({said.ts: said}))
    channel = await opened(deps)

    assert not await pins.pin_message(deps, channel, said.ts, "U2", "pushpin", "U3")
    assert not await pins.pin_message(deps, "C-elsewhere", said.ts, "U2", "star", "U3")
    assert await pins.pin_message(deps, channel, said.ts, "U2", "star", "U3")
    assert not await pins.pin_message(deps, channel, said.ts, "U2", "star", "U3")  # again
    assert not await pins.unpin_message(deps, channel, said.ts, "U2", "pushpin")
    assert await pins.unpin_message(deps, channel, said.ts, "U2", "star")


async def test_a_note_is_recorded_and_an_empty_or_huge_one_refused() -> None:
    deps = make_deps()
    channel = await opened(deps)
    incident = await incident_in_channel(deps, channel)

    await pins.add_note(deps, incident, "U2", "  EU only  ")
    with pytest.raises(UsageError, match="Give the note"):
        await pins.add_note(deps, incident, "U2", "   ")
    with pytest.raises(UsageError, match="keep it under 3000"):
        await pins.add_note(deps, incident, "U2", "x" * 3001)

    assert (await events(deps, incident.id))[-1] is EventType.NOTE_ADDED


async def test_sorting_an_example_updates_its_card_and_records_the_move() -> None:
    chat = FakeChat()
    deps = make_deps(chat)
    incident = await incident_in_channel(deps, await opened(deps))

    added = await examples.add_example(deps, incident, "U1", "refund window → 30d", None)
    await examples.sort_example(deps, incident, "U2", added.number, ExampleSet.BLOCKING)
    await examples.sort_example(deps, incident, "U2", added.number, ExampleSet.BLOCKING)  # same
    moved = await examples.sort_example_by_id(deps, added.id, "U3", ExampleSet.BACKLOG)

    card = next(p for p in chat.posted if isinstance(p.message, ExampleCard))
    assert [v.example.set for v in card.versions if isinstance(v, ExampleCard)][-1] is (
        ExampleSet.BACKLOG
    )
    assert (moved.set, moved.sorted_by) == (ExampleSet.BACKLOG, "U3")
    kinds = await events(deps, incident.id)
    assert kinds.count(EventType.EXAMPLE_SORTED) == 2  # the repeat moved nothing
    with pytest.raises(NotFound, match="no failed example #9"):
        await examples.sort_example(deps, incident, "U2", 9, ExampleSet.BLOCKING)
    with pytest.raises(NotFound):
        await examples.sort_example_by_id(deps, "gone", "U2", ExampleSet.BLOCKING)


async def test_a_follow_up_without_an_owner_belongs_to_whoever_added_it() -> None:
    chat = FakeChat()
    deps = make_deps(chat)
    incident = await incident_in_channel(deps, await opened(deps))

    mine = await follow_ups.add_follow_up(deps, incident, "U2", None, "alert on pass rate")
    theirs = await follow_ups.add_follow_up(deps, incident, "U2", "U3", "gate prompts")

    assert (mine.owner, mine.number, theirs.owner, theirs.number) == ("U2", 1, "U3", 2)
    assert [p.message for p in chat.posted if isinstance(p.message, FollowUpAdded)] == [
        FollowUpAdded(mine),
        FollowUpAdded(theirs),
    ]
    listed = await follow_ups.list_follow_ups(deps, incident)
    assert listed.follow_ups == (mine, theirs)
