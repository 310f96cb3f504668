"""Failed examples (cards with a button per set, and the list) and follow-ups."""

from __future__ import annotations

from bot.domain.findings import FailedExample
from bot.domain.messages import ExampleCard, ExampleList, FollowUpAdded, FollowUpList
from bot.domain.triage import ExampleSet
from bot.slack import ids
from bot.slack.blocks.kit import (
    MESSAGE_BLOCKS_MAX,
    Block,
    RenderedMessage,
    actions,
    button,
    context,
    section,
    sections,
)
from bot.slack.blocks.text import date_token, escape, mention, notification, plural


def render_example_card(card: ExampleCard) -> RenderedMessage:
    example = card.example
    blocks: list[Block] = [
        section(f":test_tube: *Failed example #{example.number}*\n{escape(example.text)}"),
        context(f"{_where(example)} · added by {mention(example.added_by)}"),
    ]
    if card.suggested and example.set is None:
        blocks.append(context(f"Question 5 answered: {card.suggested.label.lower()}."))
    blocks.append(
        actions(
            f"example-{example.number}",
            *(
                button(
                    target.label,
                    f"{ids.ACTION_SORT_EXAMPLE}.{target.value}",
                    example.id,
                    primary=target is (example.set or card.suggested),
                )
                for target in ExampleSet
                if target is not example.set
            ),
        )
    )
    return RenderedMessage(
        notification(f"Failed example #{example.number}: {example.text}"), blocks
    )


def render_example_list(listing: ExampleList) -> RenderedMessage:
    if not listing.examples:
        text = "No failed examples yet. Add one with `/incident example <text or link>`."
        return RenderedMessage("No failed examples yet.", [section(text)])
    groups: list[tuple[str, list[FailedExample]]] = [
        (target.label, [x for x in listing.examples if x.set is target]) for target in ExampleSet
    ]
    groups.append(("Not sorted yet", [x for x in listing.examples if x.set is None]))
    lines = []
    for label, examples in groups:
        if examples:
            lines.append(f"*{label}* ({len(examples)})")
            lines.extend(f"• #{x.number} {escape(x.text)}" for x in examples)
    summary = plural(len(listing.examples), "failed example")
    blocks = sections(
        "\n".join([f"*{summary}*", *lines]),
        max_blocks=MESSAGE_BLOCKS_MAX,
        rest_is_in=f"GET /api/incidents/{listing.incident_id}/examples",
    )
    return RenderedMessage(summary, blocks)


def render_follow_up_added(added: FollowUpAdded) -> RenderedMessage:
    f = added.follow_up
    text = f":pushpin: *Follow-up #{f.number}* for {mention(f.owner)}: {escape(f.text)}"
    blocks = [section(text), context(f"Added by {mention(f.added_by)} · {date_token(f.added_at)}")]
    return RenderedMessage(notification(f"Follow-up #{f.number}: {f.text}"), blocks)


def render_follow_up_list(listing: FollowUpList) -> RenderedMessage:
    if not listing.follow_ups:
        text = "No follow-ups yet. Add one with `/incident followup @owner <what to do>`."
        return RenderedMessage("No follow-ups yet.", [section(text)])
    lines = [f"• #{f.number} {escape(f.text)} · {mention(f.owner)}" for f in listing.follow_ups]
    summary = plural(len(listing.follow_ups), "follow-up")
    return RenderedMessage(summary, sections("\n".join([f"*{summary}*", *lines])))


def _where(example: FailedExample) -> str:
    if example.set is None:
        return "Not sorted yet"
    assert example.sorted_by is not None and example.sorted_at is not None
    return (
        f"*{example.set.label}* (by {mention(example.sorted_by)}, {date_token(example.sorted_at)})"
    )
