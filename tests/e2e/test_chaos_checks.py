"""The chaos harness's reading of a channel, on what the real bot posts: a full opening is
seen as full, and a message posted twice is seen twice (so a chaos run's zero means zero)."""

from __future__ import annotations

from bot.sandbox.chaos import FullOpening, opening_gaps
from bot.sandbox.entities import MessageContent
from bot.sandbox.seed import ALICE, BOB
from bot.stage import Stage
from tests.e2e.helpers import incident_of, only_incident_channel


async def test_a_full_opening_has_no_gaps_and_a_repost_is_doubled(stage: Stage) -> None:
    await stage.command("alice", "#general", "open quality Answers cite the old policy")
    channel = only_incident_channel(stage.sandbox)
    incident = await incident_of(stage, channel)
    full = FullOpening(len(incident.steps), paged=frozenset({ALICE}))

    assert opening_gaps(stage.sandbox, channel.id, full) == ([], [])

    # As a retry after a lost answer would: the header and the first checklist page again.
    workspace = stage.sandbox.workspace
    for ts in (incident.header_ts, incident.checklist_ts[0]):
        assert ts is not None
        original = workspace.message(channel.id, ts).content
        workspace.post(
            channel, stage.sandbox.bot_user_id, MessageContent(original.text, original.blocks)
        )
    missing, doubled = opening_gaps(stage.sandbox, channel.id, full)
    assert missing == []
    assert doubled == ["2 headers", "checklist posted twice"]


async def test_an_unopened_channel_lacks_everything(stage: Stage) -> None:
    await stage.command("alice", "#general", "open quality Answers cite the old policy")
    channel = only_incident_channel(stage.sandbox)
    incident = await incident_of(stage, channel)
    empty = stage.sandbox.add_channel("inc-20261122-empty").id
    full = FullOpening(len(incident.steps), paged=frozenset({BOB}), alert_summary=True)

    missing, doubled = opening_gaps(stage.sandbox, empty, full)
    assert missing == [
        "topic",
        "header",
        f"checklist (0 of {len(incident.steps)} steps)",
        "five questions",
        f"paging ({BOB})",
        "alert summary",
    ]
    assert doubled == []
