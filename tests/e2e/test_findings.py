"""Pins, notes, failed examples and follow-ups through the real bot and the sandbox Slack:
reactions arrive as Slack's events, commands and clicks as Slack sends them, and the
post-mortem and the examples export are read back as a reader would."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx

from bot.clock import ManualClock
from bot.sandbox.entities import Channel
from bot.sandbox.seed import ALICE, BOB, CAROL, GENERAL_CHANNEL
from bot.services.postmortem import postmortem_markdown
from bot.slack import ids
from bot.stage import Stage
from tests.e2e.conftest import START, StageFactory
from tests.e2e.helpers import action_ids, incident_of, only_incident_channel, text_of

TOKEN = "test-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def opened(stage: Stage, kind: str = "quality") -> Channel:
    await stage.command("alice", "#general", f"open {kind} Answers cite the old refund policy")
    return only_incident_channel(stage.sandbox)


async def postmortem(stage: Stage, channel: Channel) -> str:
    incident = await incident_of(stage, channel)
    return await postmortem_markdown(stage.runtime.deps, incident.id)


async def test_a_pin_reaction_puts_the_message_on_the_timeline_at_its_own_time(
    stage: Stage, clock: ManualClock
) -> None:
    channel = await opened(stage)
    clock.advance(timedelta(minutes=5))
    ts = stage.sandbox.say("bob", channel.id, "7 of 20 refund answers cite the 2023 policy")
    clock.advance(timedelta(minutes=10))  # pinned later: the timeline shows when it was said

    await stage.driver.react("alice", channel.id, ts, "pushpin")
    await stage.settle()

    text = await postmortem(stage, channel)
    said = (START + timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M:%S")
    assert f"| {said} UTC | @U_BOB | 📌 7 of 20 refund answers cite the 2023 policy |" in text
    assert "@U_BOB: 7 of 20 refund answers cite the 2023 policy (pinned by @U_ALICE)" in text
    [read] = stage.sandbox.calls_to("conversations.history")
    assert read["latest"] == ts


async def test_removing_the_reaction_takes_it_off_once_nobody_pins_it(stage: Stage) -> None:
    channel = await opened(stage)
    ts = stage.sandbox.say("bob", channel.id, "the index swap happened at 09:02")
    for person in ("alice", "carol"):
        await stage.driver.react(person, channel.id, ts, "pushpin")
    await stage.settle()

    await stage.driver.unreact("alice", channel.id, ts, "pushpin")
    await stage.settle()
    assert "index swap happened at 09:02 (pinned by @U_CAROL)" in await postmortem(stage, channel)

    await stage.driver.unreact("carol", channel.id, ts, "pushpin")
    await stage.settle()
    assert "index swap" not in await postmortem(stage, channel)


async def test_a_redelivered_reaction_event_counts_once_and_cannot_undo_a_removal(
    stage: Stage,
) -> None:
    channel = await opened(stage)
    ts = stage.sandbox.say("bob", channel.id, "refunds fail only in the EU region")
    added = await stage.driver.react("alice", channel.id, ts, "pushpin")
    await stage.settle()
    await stage.driver.unreact("alice", channel.id, ts, "pushpin")
    await stage.settle()

    # Slack retries the old reaction_added (same event_id) after the removal.
    retried = await stage.driver.redeliver(added)
    await stage.settle()

    assert added.status_code == retried.status_code == 200
    assert "EU region" not in await postmortem(stage, channel)


async def test_a_pinned_thread_reply_is_read_from_its_thread(stage: Stage) -> None:
    channel = await opened(stage)
    root = stage.sandbox.say("alice", channel.id, "what changed at 09:00?")
    reply = stage.sandbox.say("bob", channel.id, "the prompt went to v13", thread_ts=root)

    await stage.driver.react("carol", channel.id, reply, "pushpin")
    await stage.settle()

    assert "@U_BOB: the prompt went to v13 (pinned by @U_CAROL)" in await postmortem(stage, channel)
    assert stage.sandbox.calls_to("conversations.replies")


async def test_other_reactions_and_other_channels_are_left_alone(stage: Stage) -> None:
    channel = await opened(stage)
    here = stage.sandbox.say("bob", channel.id, "looking at traces")
    elsewhere = stage.sandbox.say("bob", GENERAL_CHANNEL, "lunch?")

    await stage.driver.react("alice", channel.id, here, "eyes")
    await stage.driver.react("alice", GENERAL_CHANNEL, elsewhere, "pushpin")
    await stage.settle()

    text = await postmortem(stage, channel)
    assert "looking at traces" not in text and "lunch" not in text
    assert stage.sandbox.calls_to("conversations.history") == []  # never read


async def test_the_pin_reaction_is_configurable(make_stage: StageFactory, tmp_path: Path) -> None:
    config = tmp_path / "steadyhand.yml"
    config.write_text("pin_reaction: ':star:'\n")
    async with make_stage(env={"STEADYHAND_CONFIG": str(config)}) as stage:
        channel = await opened(stage)
        starred = stage.sandbox.say("bob", channel.id, "starred line")
        pushpinned = stage.sandbox.say("bob", channel.id, "pushpinned line")
        await stage.driver.react("alice", channel.id, starred, "star")
        await stage.driver.react("alice", channel.id, pushpinned, "pushpin")
        await stage.settle()
        text = await postmortem(stage, channel)
    assert "starred line (pinned by @U_ALICE)" in text and "pushpinned" not in text
    assert "react with :star: to a message" not in text  # there is a pinned message now


async def test_a_note_goes_on_the_timeline(stage: Stage) -> None:
    channel = await opened(stage)
    await stage.command("bob", channel.id, "note EU refunds <@U_CAROL|carol> is checking")

    [confirmation] = stage.sandbox.ephemerals(BOB, channel.id)
    assert "Noted" in text_of(confirmation)
    assert "@U_BOB: EU refunds @carol is checking" in await postmortem(stage, channel)

    await stage.command("bob", channel.id, "note")
    assert "Say what to note" in text_of(stage.sandbox.ephemerals(BOB, channel.id)[-1])


async def test_failed_examples_are_sorted_by_button_or_command_and_exported(
    make_stage: StageFactory,
) -> None:
    async with make_stage(env={"STEADYHAND_API_TOKENS": TOKEN}) as stage:
        channel = await opened(stage)
        await stage.command(
            "alice", channel.id, "example “How long do refunds take?” → 30 days (it is 14)"
        )
        card = stage.sandbox.messages(channel.id)[-1]
        assert "Failed example #1" in text_of(card) and "Not sorted yet" in text_of(card)
        assert action_ids(card) == {
            f"{ids.ACTION_SORT_EXAMPLE}.{s}" for s in ("blocking", "monitoring", "backlog")
        }

        await stage.driver.click(
            "bob", channel.id, card["ts"], f"{ids.ACTION_SORT_EXAMPLE}.blocking"
        )
        await stage.settle()
        card = stage.sandbox.messages(channel.id)[-1]
        assert "*Blocking set*" in text_of(card) and f"<@{BOB}>" in text_of(card)
        assert f"{ids.ACTION_SORT_EXAMPLE}.blocking" not in action_ids(card)

        await stage.command(
            "carol", channel.id, "example monitoring <https://traces.example.com/t/8841>"
        )
        await stage.command("carol", channel.id, "example #1 backlog")
        first = stage.sandbox.message(channel.id, card["ts"])  # updated in place
        assert "*Backlog*" in text_of(first.to_slack(stage.sandbox.workspace.team))

        await stage.command("alice", channel.id, "examples")
        listing = text_of(stage.sandbox.ephemerals(ALICE, channel.id)[-1])
        assert "*Monitoring set* (1)" in listing and "*Backlog* (1)" in listing

        await stage.command("alice", channel.id, "example #7 blocking")
        assert "no failed example #7" in text_of(stage.sandbox.ephemerals(ALICE, channel.id)[-1])

        incident = await incident_of(stage, channel)
        async with httpx.AsyncClient(base_url=stage.base_url) as client:
            url = f"/api/incidents/{incident.id}/examples"
            everything = await client.get(url, headers=AUTH)
            monitoring = await client.get(url, params={"set": "monitoring"}, headers=AUTH)
            wrong_set = await client.get(url, params={"set": "urgent"}, headers=AUTH)
            missing = await client.get("/api/incidents/nope/examples", headers=AUTH)
            anonymous = await client.get(url)
        text = await postmortem(stage, channel)

    assert everything.status_code == 200, everything.text
    body = everything.json()
    assert body["incident"]["id"] == incident.id and body["incident"]["kind"] == "quality"
    [one, two] = body["examples"]
    assert (one["number"], one["set"], one["sorted_by"]) == (1, "backlog", CAROL)
    assert one["text"] == "“How long do refunds take?” → 30 days (it is 14)"
    assert (two["set"], two["links"]) == ("monitoring", ["https://traces.example.com/t/8841"])
    assert two["added_by"] == CAROL and two["added_at"].endswith("Z")
    assert [x["number"] for x in monitoring.json()["examples"]] == [2]
    assert wrong_set.status_code == 400 and "unknown set 'urgent'" in wrong_set.json()["error"]
    assert missing.status_code == 404 and anonymous.status_code == 401
    assert "### Backlog\n\n- #1 “How long do refunds take?”" in text
    assert "### Monitoring set\n\n- #2 " in text


async def test_an_unsorted_example_suggests_question_5_s_answer(stage: Stage) -> None:
    channel = await opened(stage)
    incident = await incident_of(stage, channel)
    assert incident.questions_ts is not None
    await stage.driver.click("bob", channel.id, incident.questions_ts, ids.ACTION_OPEN_TRIAGE)
    await stage.settle()
    view = stage.sandbox.open_views(BOB)[-1]
    await stage.driver.view_submission(
        "bob",
        view["id"],
        values={"q1": "quality", "q2": "no", "q3": "no", "q4": "no", "q5": "monitoring"},
    )
    await stage.settle()

    await stage.command("alice", channel.id, "example refunds in CHF quote EUR")

    card = stage.sandbox.messages(channel.id)[-1]
    assert "Question 5 answered: monitoring set" in text_of(card)
    [suggested] = [
        e
        for block in card["blocks"]
        if block["type"] == "actions"
        for e in block["elements"]
        if e.get("style") == "primary"
    ]
    assert suggested["action_id"] == f"{ids.ACTION_SORT_EXAMPLE}.monitoring"


async def test_follow_ups_have_owners_and_can_be_added_in_the_review(
    stage: Stage, clock: ManualClock
) -> None:
    channel = await opened(stage)
    await stage.command("bob", channel.id, "followup <@U_CAROL|carol> gate prompts on refund evals")
    said = stage.sandbox.messages(channel.id)[-1]
    assert f"Follow-up #1* for <@{CAROL}>" in text_of(said)

    await stage.command("alice", channel.id, "resolve prompt rolled back")
    clock.advance(timedelta(days=2))
    await stage.command("alice", channel.id, "followup alert on refund eval pass rate")
    await stage.command("alice", channel.id, "followups")

    listing = text_of(stage.sandbox.ephemerals(ALICE, channel.id)[-1])
    assert "#1 gate prompts on refund evals · <@U_CAROL>" in listing
    assert "#2 alert on refund eval pass rate · <@U_ALICE>" in listing  # the adder owns it
    text = await postmortem(stage, channel)
    assert "- [ ] #1 gate prompts on refund evals: owner @U_CAROL (added by @U_BOB" in text
    assert "- [ ] #2 alert on refund eval pass rate: owner @U_ALICE" in text


async def test_a_pin_is_kept_even_when_slack_will_not_give_the_message(stage: Stage) -> None:
    channel = await opened(stage)
    ts = stage.sandbox.say("bob", channel.id, "what Slack will not hand over")
    stage.sandbox.fail_next("conversations.history", "internal_error")

    await stage.driver.react("alice", channel.id, ts, "pushpin")
    await stage.settle()

    text = await postmortem(stage, channel)
    assert "@U_BOB: (message not readable) (pinned by @U_ALICE)" in text
