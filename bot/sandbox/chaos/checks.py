"""What became of everything sent, read from the bot's database and the sandbox Slack: opened,
half-opened, lost and duplicated."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import select

from bot.domain.timeline import EventType
from bot.sandbox.chaos.shared import Sent, action_ids, read_rows
from bot.sandbox.sandbox import SlackSandbox
from bot.sandbox.seed import ALICE, BOB, BOT_USER_ID
from bot.slack.ids import ACTION_APPROVE, ACTION_OPEN_TRIAGE
from bot.store.models import AlertRow, ChecklistStepRow, IncidentRow, TimelineEventRow

PAGED_FOR_ALERTS = frozenset({ALICE, BOB})  # the S_ONCALL group `alerts.page` names


@dataclass
class Outcome:
    """What became of a run: the tally sent, and what the check found."""

    sent: Sent
    database: str
    opened: int = 0  # incidents fully opened
    incidents: int = 0
    half_opened: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    faults: Counter[str] = field(default_factory=Counter)
    slack_calls: int = 0
    settled_s: float = 0.0
    quiet: bool = False
    tracebacks: int = 0
    errors: Counter[str] = field(default_factory=Counter)  # the bot log's exception lines
    log_tail: str = ""

    @property
    def met(self) -> bool:
        return not (self.half_opened or self.lost or self.duplicated)

    @property
    def killed(self) -> str:
        sent = self.sent
        if not sent.killed_at:
            return f"bot not killed ({sent.bot_starts} starts)"
        return (
            f"bot killed -9 at {sent.killed_at:.1f} s, listening again at {sent.back_at:.1f} s "
            f"({sent.bot_starts} starts)"
        )

    def report(self) -> str:
        sent = self.sent
        faults = ", ".join(f"{kind} ×{n}" for kind, n in sorted(self.faults.items()))
        acked = " ".join(f"{c}={sent.acked[c]}/{n}" for c, n in sorted(sent.commands.items()))
        lines = [
            f"chaos      database={self.database} {self.killed}",
            f"slack      {self.slack_calls} Web API calls; faults: {faults or 'none'}",
            f"accepted   alert notifications {sent.accepted_deliveries}/{sent.deliveries} "
            f"answered 2xx (retries {sent.alert_retries}, rejected 4xx "
            f"{sum(sent.rejected.values())}{dict(sent.rejected) or ''}, gave up {sent.gave_up})"
            f", distinct alerts {len(sent.accepted_alerts)}",
            f"           commands acked {sum(sent.acked.values())}/{sum(sent.commands.values())}"
            f" ({acked}; Slack retries {sent.slack_retries}); acked with an error "
            f"{sum(sent.refused.values())}{dict(sent.refused) or ''}; not sent (open not "
            f"accepted or no channel) {sent.skipped}; Approve clicks acked {sent.approvals}",
            f"settled    {self.settled_s:.0f} s after the traffic "
            f"({'quiet' if self.quiet else 'still busy at the bound'}); "
            f"bot log: {self.tracebacks} tracebacks",
            *(f"bot log    {n}× {line}" for line, n in self.errors.most_common(5)),
            *(f"ack said   {n}× {text}" for text, n in sent.said.most_common(6)),
            f"opened     {self.opened} of {self.incidents} incidents fully opened",
            *_listed("half-opened", self.half_opened),
            *_listed("lost", self.lost),
            *_listed("duplicated", self.duplicated),
            f"summary    accepted={sent.accepted_deliveries + sum(sent.acked.values())} "
            f"opened={self.opened} half_opened={len(self.half_opened)} lost={len(self.lost)} "
            f"duplicated={len(self.duplicated)}: target 0/0/0 "
            f"{'met' if self.met else 'NOT met'}",
        ]
        return "\n".join(lines)


def _listed(label: str, items: list[str], most: int = 12) -> Iterator[str]:
    yield f"{label:<10} {len(items)}"
    for item in items[:most]:
        yield f"             - {item}"
    if len(items) > most:
        yield f"             … and {len(items) - most} more"


async def check(outcome: Outcome, sandbox: SlackSandbox, database_url: str) -> None:
    sent = outcome.sent
    incidents = await read_rows(
        database_url,
        lambda c: c.execute(
            select(
                IncidentRow.id,
                IncidentRow.title,
                IncidentRow.kind,
                IncidentRow.service,
                IncidentRow.status,
                IncidentRow.channel_id,
            )
        ),
    )
    alerts = await read_rows(
        database_url,
        lambda c: c.execute(select(AlertRow.source, AlertRow.fingerprint, AlertRow.incident_id)),
    )
    steps = Counter(
        row.incident_id
        for row in await read_rows(
            database_url, lambda c: c.execute(select(ChecklistStepRow.incident_id))
        )
    )
    updates = await read_rows(
        database_url,
        lambda c: c.execute(
            select(TimelineEventRow.incident_id, TimelineEventRow.text).where(
                TimelineEventRow.type == EventType.STATUS_UPDATE.value
            )
        ),
    )
    outcome.incidents = len(incidents)
    alerted = {str(a.incident_id) for a in alerts}
    complete: set[str] = set()
    named_channels = {str(i.channel_id) for i in incidents if i.channel_id}
    for incident in incidents:
        label = f"“{incident.title}” ({incident.kind}, {incident.service or 'no service'})"
        from_alerts = incident.id in alerted
        full = FullOpening(
            steps[incident.id],
            paged=PAGED_FOR_ALERTS if from_alerts else frozenset({ALICE}),
            alert_summary=from_alerts,
        )
        channel_id = str(incident.channel_id) if incident.channel_id else None
        missing, doubled = opening_gaps(sandbox, channel_id, full)
        if missing:
            outcome.half_opened.append(f"{label}: no {', no '.join(missing)}")
        else:
            complete.add(incident.id)
        outcome.duplicated += [f"{label}: {what}" for what in doubled]
    outcome.opened = len(complete)

    # Channels the bot made that no incident names: an opening cut off and started over
    # (a second channel), or one abandoned (half-opened).
    titles = [str(i.title) for i in incidents if i.channel_id]
    for channel in sandbox.workspace.channels.values():
        if channel.creator != BOT_USER_ID or channel.id in named_channels:
            continue
        same = [t for t in titles if _named_for(channel.name, t)]
        if same:
            outcome.duplicated.append(f"#{channel.name}: a second channel for “{same[0]}”")
        else:
            outcome.half_opened.append(f"#{channel.name}: a channel no incident names")

    # Alerts: each accepted one in exactly one fully opened incident, each group in one.
    incident_of = {f"{a.source}:{a.fingerprint}": str(a.incident_id) for a in alerts}
    for key, group in sorted(sent.accepted_alerts.items(), key=lambda item: item[1]):
        if incident_of.get(key) not in complete:
            why = "not stored" if key not in incident_of else "its incident is not fully opened"
            outcome.lost.append(f"accepted alert {key} ({group}): {why}")
    by_group: dict[str, set[str]] = {}
    for key, group in sent.accepted_alerts.items():
        if key in incident_of:
            by_group.setdefault(group, set()).add(incident_of[key])
    outcome.duplicated += [
        f"alert group {group}: {len(ids)} incidents"
        for group, ids in by_group.items()
        if len(ids) > 1
    ]

    # Commands.
    by_title = Counter(str(i.title) for i in incidents)
    resolved = {str(i.title) for i in incidents if i.status == "resolved"}
    for title, acked in sent.opens.items():
        if acked and not by_title[title]:
            outcome.lost.append(f"acked `/incident open` “{title}”: no incident")
        if by_title[title] > 1:
            outcome.duplicated.append(f"`/incident open` “{title}”: {by_title[title]} incidents")
    recorded = Counter(str(u.text) for u in updates)
    shown = _shown_updates(sandbox)
    for text in sent.updates:
        where = [
            w for w, count in (("timeline", recorded[text]), ("channel", shown[text])) if not count
        ]
        if where:
            outcome.lost.append(f"acked update “{text}”: not in the {' nor the '.join(where)}")
        twice = [
            w for w, count in (("timeline", recorded[text]), ("channel", shown[text])) if count > 1
        ]
        if twice:
            outcome.duplicated.append(f"update “{text}”: twice in the {' and the '.join(twice)}")
    for title, card_channel in sent.cardless.items():
        # The card may have come after the responder gave up waiting; only none at all is lost.
        if not any(ACTION_APPROVE in action_ids(m) for m in sandbox.messages(card_channel)):
            outcome.lost.append(f"acked `/incident rollback` in “{title}”: no card to approve")
    for title in sent.resolves:
        if title not in resolved:
            outcome.lost.append(f"acked `/incident resolve` of “{title}”: still open")


@dataclass(frozen=True)
class FullOpening:
    """What an incident's channel holds once fully opened, besides topic, header, checklist
    and the five questions."""

    steps: int  # checklist steps
    paged: frozenset[str] = frozenset()  # people invited: the opener, or the paged group
    alert_summary: bool = False  # an incident alerts opened shows them in one summary


def opening_gaps(
    sandbox: SlackSandbox, channel_id: str | None, full: FullOpening
) -> tuple[list[str], list[str]]:
    """What an incident's channel lacks of a full opening, and what it has twice."""
    if not channel_id:
        return ["channel"], []
    channel = sandbox.workspace.channels.get(channel_id)
    if channel is None:
        return ["channel in Slack"], []
    messages = sandbox.messages(channel.id)
    headers = [m for m in messages if any(b.get("type") == "header" for b in m.get("blocks", []))]
    questions = [m for m in messages if ACTION_OPEN_TRIAGE in action_ids(m)]
    summaries = [m for m in messages if str(m.get("text", "")).startswith("Alerts: ")]
    positions = Counter(
        block["block_id"]
        for m in messages
        for block in m.get("blocks", [])
        if str(block.get("block_id", "")).startswith("step-")
    )
    missing = []
    if not channel.topic.value:
        missing.append("topic")
    if not headers:
        missing.append("header")
    if len(positions) < full.steps:
        missing.append(f"checklist ({len(positions)} of {full.steps} steps)")
    if not questions:
        missing.append("five questions")
    if not full.paged <= set(channel.members):
        missing.append("paging (" + ", ".join(sorted(full.paged - set(channel.members))) + ")")
    if full.alert_summary and not summaries:
        missing.append("alert summary")
    doubled = []
    if len(headers) > 1:
        doubled.append(f"{len(headers)} headers")
    if len(questions) > 1:
        doubled.append(f"{len(questions)} five-questions messages")
    if any(n > 1 for n in positions.values()):
        doubled.append("checklist posted twice")
    if len(summaries) > 1:
        doubled.append(f"{len(summaries)} alert summaries")
    return missing, doubled


def _shown_updates(sandbox: SlackSandbox) -> Counter[str]:
    """How often each status update appears across the incident channels."""
    shown: Counter[str] = Counter()
    for channel in sandbox.workspace.channels.values():
        for message in sandbox.messages(channel.id):
            text = str(message.get("text", ""))
            if text.startswith("Status update: "):
                shown[text.removeprefix("Status update: ")] += 1
    return shown


def _named_for(channel: str, title: str) -> bool:
    """Whether the bot would name `channel` so for `title` (`inc-YYYYMMDD-slug[-n]`)."""
    slug = re.sub(r"[^a-z0-9_]+", "-", title.lower()).strip("-_")[:60]
    return re.fullmatch(rf"inc-\d{{8}}-{re.escape(slug)}.*?(-\d+)?", channel) is not None
