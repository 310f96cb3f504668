"""The post-mortem, assembled from an incident, its timeline and what changed before it.

`assemble` is one pass over the timeline (sorted by each event's own time, which is linear when
the store already returns it in that order), so an incident with 50,000 events takes a fraction
of a second. Rendering it is `bot.render`'s job; nothing here formats for a reader beyond the
one-line texts the events already carry, and the one line that stands for each run of
notifications that only repeated an alert (bot/domain/repeats.py).

The measures, each a `timedelta` or None when its signal is missing:

- time to detect: first signal → opened. The first signal is the earliest `starts_at` an alert
  reported (the monitor's own time), else the earliest ALERT_FIRING event. None without alerts,
  or when the first alert started after the incident was opened (people noticed first).
- time to acknowledge: opened → the first thing a person did in the incident after it opened:
  a checklist tick or untick, the five answers, a status update, a commander change, a runbook
  switch or keep, an action request, approval or rejection, or resolving. The opening itself
  does not count, nor anything done by the bot, an alert or a deploy pipeline.
- time to mitigate: opened → the first action (rollback, restore, flag flip, kill switch,
  dry-run) applied after opening whose verification, if any ran, did not fail.
- time to resolve: opened → resolved. None while the incident is open.
- bad-change exposure: how long the service ran on the change that was rolled back: from the
  deploy of the version the first mitigating rollback or restore moved away from (the latest
  change to that version of that component, at or before the rollback) to that rollback.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from operator import attrgetter, itemgetter
from typing import Any

from bot.domain.alerts import TrackedAlert
from bot.domain.findings import DEFAULT_PIN_REACTION, FailedExample, FollowUp, PinnedMessage
from bot.domain.incidents import Incident
from bot.domain.registry import Change
from bot.domain.repeats import collapse_repeats
from bot.domain.timeline import BOT_ACTOR, EventType, TimelineEvent
from bot.domain.triage import ExampleSet

# What a person does in an incident; the first of these after opening is the acknowledgement.
HUMAN_WORK = frozenset(
    {
        EventType.STEP_CHECKED,
        EventType.STEP_UNCHECKED,
        EventType.QUESTIONS_ANSWERED,
        EventType.STATUS_UPDATE,
        EventType.COMMANDER_CHANGED,
        EventType.RUNBOOK_SWITCHED,
        EventType.RUNBOOK_KEPT,
        EventType.ACTION_REQUESTED,
        EventType.ACTION_APPROVED,
        EventType.ACTION_REJECTED,
        EventType.RESOLVED,
        EventType.NOTE_ADDED,
        EventType.EXAMPLE_ADDED,
        EventType.EXAMPLE_SORTED,
        EventType.FOLLOW_UP_ADDED,
    }
)
CHANGE_WINDOW = timedelta(hours=24)
ROLLBACKS = frozenset({"rollback", "restore"})
_ACTIONS = frozenset(t for t in EventType if t.startswith("action."))
_ACTION_VERBS = {
    "rollback": "roll back",
    "restore": "restore",
    "flag": "flip",
    "kill_switch": "kill switch",
    "dry_run": "dry-run",
}


# Slots: no per-instance dict, so fewer objects for the garbage collector to walk (which was
# half of assembling 50,000 events).
@dataclass(frozen=True, slots=True)
class Moment:
    """One instant, in UTC and in the display time zone."""

    utc: datetime
    zone: tzinfo

    @property
    def local(self) -> datetime:
        # Worked out when shown rather than for each of 50,000 events: the timeline's rows
        # format their zone times a minute at a time (bot.render.postmortem.timeline_table).
        return self.utc.astimezone(self.zone)


@dataclass(frozen=True, slots=True)
class Entry:
    at: Moment
    type: str  # an EventType (a str: its value)
    actor: str
    text: str


@dataclass(frozen=True)
class Timeline:
    """Every event, with the changes deployed in the window before opening and the pinned
    messages, in time order.

    Its entries are made as they are read, not held: 50,000 of them, long-lived, cost the
    garbage collector a full pass while assembling (a third of the time it took)."""

    zone: tzinfo
    events: Sequence[TimelineEvent]  # in time order
    # What is not a recorded event: changes deployed before opening and pinned messages, in
    # time order; before events at the same time.
    unrecorded: tuple[Entry, ...]

    def __iter__(self) -> Iterator[Entry]:
        zone = self.zone
        made = (Entry(Moment(e.at, zone), e.type, e.actor, e.text) for e in self.events)
        return heapq.merge(self.unrecorded, made, key=_entry_time)

    def __len__(self) -> int:
        return len(self.events) + len(self.unrecorded)

    def rows(self) -> Iterator[tuple[datetime, tzinfo, str, str]]:
        """Each entry's time, zone, actor and text, without making the entries."""
        zone = self.zone
        unrecorded = ((u.at.utc, zone, u.actor, u.text) for u in self.unrecorded)
        events = ((e.at, zone, e.actor, e.text) for e in self.events)
        return heapq.merge(unrecorded, events, key=itemgetter(0))


@dataclass(frozen=True)
class ChangeRecord:
    at: Moment
    service: str
    component: str
    from_version: str | None
    to_version: str
    actor: str
    source: str | None
    eval_score: float | None


@dataclass(frozen=True)
class Move:
    target: str  # a component or a flag
    before: str
    after: str


@dataclass(frozen=True)
class Verification:
    at: Moment
    passed: bool
    score: float | None
    summary: str


@dataclass
class ActionRecord:
    request_id: str
    kind: str
    service: str
    moves: tuple[Move, ...]
    risk: str
    reason: str
    requested_by: str
    requested_at: Moment
    approved_by: str | None = None
    approved_at: Moment | None = None
    status: str = "pending"  # applied | failed | rejected | expired | pending
    decided_by: str | None = None  # who rejected it
    finished_at: Moment | None = None
    outcome: str | None = None  # the driver's text
    attempts: int = 1
    verifications: list[Verification] = field(default_factory=list)

    @property
    def describe(self) -> str:
        moves = ", ".join(f"{m.target} {m.before} → {m.after}" for m in self.moves)
        return f"{_ACTION_VERBS.get(self.kind, self.kind)} {self.service} {moves}"

    @property
    def low_risk(self) -> bool:
        return self.risk == "low"


@dataclass
class AlertRecord:
    source: str
    fingerprint: str
    text: str  # the first notification's line
    first_at: Moment
    starts_at: Moment | None
    value: str | None
    threshold: str | None
    last_value: str | None
    notifications: int = 1
    resolved_at: Moment | None = None


@dataclass(frozen=True)
class Update:
    at: Moment
    actor: str
    text: str


@dataclass(frozen=True)
class CommanderChange:
    at: Moment
    by: str
    previous: str
    current: str


@dataclass(frozen=True)
class Step:
    position: int
    section: str
    text: str
    checked_by: str | None
    checked_at: Moment | None

    @property
    def done(self) -> bool:
        return self.checked_by is not None


@dataclass(frozen=True)
class VersionTrail:
    """One component's versions: at opening, at the end, and every move in between."""

    component: str
    at_open: str | None
    at_end: str | None
    moves: tuple[ChangeRecord, ...]


@dataclass(frozen=True)
class Note:
    """A `/incident note`, or a message people pinned (at the message's own time)."""

    at: Moment
    author: str
    text: str
    pinned_by: tuple[str, ...] = ()  # empty for a note


@dataclass(frozen=True)
class ExampleRecord:
    number: int
    text: str
    set: str | None  # an ExampleSet value; None: never sorted
    added_by: str
    added_at: Moment
    sorted_by: str | None


@dataclass(frozen=True)
class ExampleGroup:
    label: str  # "Blocking set" …, or "Not sorted"
    examples: tuple[ExampleRecord, ...]


@dataclass(frozen=True)
class FollowUpRecord:
    number: int
    text: str
    owner: str
    added_by: str
    added_at: Moment


@dataclass(frozen=True)
class Findings:
    """What responders kept besides the timeline, as the store gives it."""

    pinned: tuple[PinnedMessage, ...] = ()
    examples: tuple[FailedExample, ...] = ()
    follow_ups: tuple[FollowUp, ...] = ()
    pin_reaction: str = DEFAULT_PIN_REACTION  # named where the post-mortem says how to pin


@dataclass(frozen=True)
class Measures:
    time_to_detect: timedelta | None
    time_to_acknowledge: timedelta | None
    time_to_mitigate: timedelta | None
    time_to_resolve: timedelta | None
    bad_change_exposure: timedelta | None
    first_signal_at: Moment | None = None
    acknowledged_by: str | None = None
    mitigated_by: str | None = None  # the action, described
    bad_change: ChangeRecord | None = None


@dataclass(frozen=True)
class PostMortem:
    incident_id: str
    title: str
    kind: str
    kind_label: str
    severity: str
    status: str
    service: str | None
    opened_by: str
    commander: str
    opened_at: Moment
    resolved_at: Moment | None
    summary: str | None
    runbook_key: str | None
    runbook_version: str | None
    display_zone: str
    generated_at: Moment
    change_window: timedelta  # how far before opening `changes_before` looked
    measures: Measures
    changes_before: tuple[ChangeRecord, ...]  # newest last
    changes_during: tuple[ChangeRecord, ...]
    timeline: Timeline
    answers: tuple[tuple[str, str], ...]  # (question, answer), empty when unanswered
    answered_by: str | None
    answered_at: Moment | None
    steps: tuple[Step, ...]
    actions: tuple[ActionRecord, ...]
    alerts: tuple[AlertRecord, ...]
    updates: tuple[Update, ...]
    commander_changes: tuple[CommanderChange, ...]
    version_trails: tuple[VersionTrail, ...]
    notes: tuple[Note, ...] = ()  # notes and pinned messages, in time order
    examples: tuple[ExampleRecord, ...] = ()  # in the order they were added
    follow_ups: tuple[FollowUpRecord, ...] = ()
    pin_reaction: str = DEFAULT_PIN_REACTION
    # Every recorded event, in time order, repeats not collapsed: what the picture draws.
    recorded: Sequence[TimelineEvent] = ()

    @property
    def example_groups(self) -> tuple[ExampleGroup, ...]:
        """The examples by set, as question 5 sorts them; sets with none are left out."""
        groups = [
            ExampleGroup(target.label, tuple(x for x in self.examples if x.set == target.value))
            for target in ExampleSet
        ]
        groups.append(ExampleGroup("Not sorted", tuple(x for x in self.examples if not x.set)))
        return tuple(g for g in groups if g.examples)

    @property
    def done_steps(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.done)

    @property
    def skipped_steps(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if not s.done)

    @property
    def verifications(self) -> tuple[tuple[ActionRecord, Verification], ...]:
        return tuple((a, v) for a in self.actions for v in a.verifications)


def is_person(actor: str) -> bool:
    """Slack users are people; the bot and alert sources (`alert:…`) are not."""
    return actor != BOT_ACTOR and not actor.startswith("alert:")


def assemble(
    incident: Incident,
    events: Iterable[TimelineEvent],
    changes_before: Iterable[Change],
    *,
    now: datetime,
    display_zone: tzinfo,
    change_window: timedelta = CHANGE_WINDOW,
    findings: Findings = Findings(),
    alerts: Sequence[TrackedAlert] = (),
) -> PostMortem:
    """`changes_before`: the service's changes, in any order; only those in `change_window`
    before opening are kept (later ones are on the timeline when they matter). `alerts`: the
    incident's alerts as tracked, which count the notifications that only repeated them."""
    assembler = _Assembler(incident, display_zone, change_window)
    return assembler.run(events, changes_before, now, findings, alerts)


class _Assembler:
    def __init__(self, incident: Incident, zone: tzinfo, window: timedelta) -> None:
        self.incident = incident
        self.zone = zone
        self.window = window
        self.opened = incident.opened_at
        self.actions: dict[str, ActionRecord] = {}
        self.alerts: dict[tuple[str, str], AlertRecord] = {}
        self.updates: list[Update] = []
        self.commanders: list[CommanderChange] = []
        self.during: list[ChangeRecord] = []
        self.change_ids: set[str] = set()
        self.first_signal: datetime | None = None
        self.first_firing: datetime | None = None
        self.ack: TimelineEvent | None = None
        self.failed_verification: set[str] = set()
        self.parsed: dict[str, datetime | None] = {}  # each alert repeats its startsAt
        self.notes: list[Note] = []

    def moment(self, at: datetime) -> Moment:
        return Moment(at, self.zone)

    def run(
        self,
        events: Iterable[TimelineEvent],
        changes: Iterable[Change],
        now: datetime,
        findings: Findings,
        alerts: Sequence[TrackedAlert] = (),
    ) -> PostMortem:
        incident = self.incident
        # Stable: events at the same time keep the order they were recorded in.
        ordered = sorted(events, key=attrgetter("at"))
        for event in ordered:
            self.take(event)
        for tracked in alerts:
            record = self.alerts.get((tracked.source.value, tracked.fingerprint))
            if record is not None and tracked.incident_id == incident.id:
                record.notifications = max(record.notifications, tracked.notifications)
        before = sorted(
            (
                self.change(c)
                for c in changes
                if self.opened - self.window <= c.at <= self.opened and c.id not in self.change_ids
            ),
            key=lambda c: c.at.utc,
        )
        change_entries = [
            Entry(c.at, EventType.CHANGE_RECORDED, c.actor, change_text(c)) for c in before
        ]
        pinned = [self.pinned(p) for p in findings.pinned]
        pin_entries = [
            Entry(n.at, EventType.MESSAGE_PINNED, n.author, f"📌 {n.text}") for n in pinned
        ]
        # Stable: a change stays before a message pinned at the same second.
        unrecorded = tuple(sorted(change_entries + pin_entries, key=_entry_time))
        notes = sorted([*self.notes, *pinned], key=lambda n: n.at.utc)
        actions = tuple(self.actions.values())
        answers = incident.answers
        return PostMortem(
            incident_id=incident.id,
            title=incident.title,
            kind=incident.kind.value,
            kind_label=incident.kind.label,
            severity=incident.severity.value,
            status=incident.status.value,
            service=incident.service,
            opened_by=incident.opened_by,
            commander=incident.commander,
            opened_at=self.moment(self.opened),
            resolved_at=self.moment(incident.resolved_at) if incident.resolved_at else None,
            summary=incident.summary,
            runbook_key=incident.runbook_key,
            runbook_version=incident.runbook_version,
            display_zone=str(self.zone),
            generated_at=self.moment(now),
            change_window=self.window,
            measures=self.measures(before, actions),
            changes_before=tuple(before),
            changes_during=tuple(self.during),
            timeline=Timeline(self.zone, collapse_repeats(ordered, alerts), unrecorded),
            answers=tuple(answers.as_lines()) if answers else (),
            answered_by=answers.answered_by if answers else None,
            answered_at=self.moment(answers.answered_at) if answers else None,
            steps=tuple(
                Step(
                    s.position,
                    s.section,
                    s.text,
                    s.checked_by,
                    self.moment(s.checked_at) if s.checked_at else None,
                )
                for s in incident.steps
            ),
            actions=actions,
            alerts=tuple(self.alerts.values()),
            updates=tuple(self.updates),
            commander_changes=tuple(self.commanders),
            version_trails=self.trails(before, actions),
            notes=tuple(notes),
            examples=tuple(self.example(x) for x in findings.examples),
            follow_ups=tuple(
                FollowUpRecord(f.number, f.text, f.owner, f.added_by, self.moment(f.added_at))
                for f in findings.follow_ups
            ),
            pin_reaction=findings.pin_reaction,
            recorded=ordered,
        )

    def pinned(self, pinned: PinnedMessage) -> Note:
        message = pinned.message
        return Note(self.moment(pinned.posted_at), message.author, message.text, pinned.pinned_by)

    def example(self, example: FailedExample) -> ExampleRecord:
        return ExampleRecord(
            example.number,
            example.text,
            example.set.value if example.set else None,
            example.added_by,
            self.moment(example.added_at),
            example.sorted_by,
        )

    def take(self, event: TimelineEvent) -> None:
        kind, data = event.type, event.data
        if (
            self.ack is None
            and kind in HUMAN_WORK
            and event.at >= self.opened
            and is_person(event.actor)
        ):
            self.ack = event
        if kind is EventType.ALERT_FIRING or kind is EventType.ALERT_RESOLVED:
            self.alert(event)
            return
        at = self.moment(event.at)
        if kind in _ACTIONS:
            self.action(event, at)
        elif kind is EventType.STATUS_UPDATE:
            self.updates.append(Update(at, event.actor, event.text))
        elif kind is EventType.NOTE_ADDED:
            self.notes.append(Note(at, event.actor, event.text))
        elif kind is EventType.COMMANDER_CHANGED:
            previous, current = str(data.get("previous", "")), str(data.get("current", ""))
            self.commanders.append(CommanderChange(at, event.actor, previous, current))
        elif kind is EventType.CHANGE_RECORDED:
            self.change_ids.add(str(data.get("change_id", "")))
            self.during.append(
                ChangeRecord(
                    at,
                    str(data.get("service", "")),
                    str(data.get("component", "")),
                    data.get("from_version"),
                    str(data.get("to_version", "")),
                    event.actor,
                    data.get("source"),
                    data.get("eval_score"),
                )
            )

    def action(self, event: TimelineEvent, at: Moment) -> None:
        data, kind = event.data, event.type
        request_id = str(data.get("request_id", ""))
        record = self.actions.get(request_id)
        if record is None:
            record = self.actions[request_id] = ActionRecord(
                request_id=request_id,
                kind=str(data.get("action", "")),
                service=str(data.get("service", "")),
                moves=tuple(_move(m) for m in data.get("moves", ())),
                risk=str(data.get("risk", "")),
                reason=str(data.get("reason", "")),
                requested_by=str(data.get("requested_by", event.actor)),
                requested_at=at,
                attempts=0,
            )
        if kind is EventType.ACTION_REQUESTED:
            record.attempts += 1
        elif kind is EventType.ACTION_APPROVED:
            record.approved_by, record.approved_at = event.actor, at
        elif kind is EventType.ACTION_REJECTED:
            record.status, record.decided_by, record.finished_at = "rejected", event.actor, at
        elif kind is EventType.ACTION_EXPIRED:
            record.status, record.finished_at = "expired", at
        elif kind is EventType.ACTION_APPLIED or kind is EventType.ACTION_FAILED:
            record.status = "applied" if kind is EventType.ACTION_APPLIED else "failed"
            record.finished_at, record.outcome = at, data.get("outcome")
        elif kind is EventType.ACTION_VERIFIED:
            passed = bool(data.get("passed"))
            score = data.get("score")
            record.verifications.append(
                Verification(at, passed, score, str(data.get("summary", "")))
            )
            if not passed:
                self.failed_verification.add(request_id)

    def alert(self, event: TimelineEvent) -> None:
        # Most notifications repeat an alert already heard: Moments only for what is kept.
        data = event.data
        key = (str(data.get("source", "")), str(data.get("fingerprint", "")))
        raw = data.get("starts_at")
        if not isinstance(raw, str):
            starts = None
        elif raw in self.parsed:
            starts = self.parsed[raw]
        else:
            starts = self.parsed[raw] = _parse_time(raw)
        if starts is not None and (self.first_signal is None or starts < self.first_signal):
            self.first_signal = starts
        record = self.alerts.get(key)
        if event.type is EventType.ALERT_RESOLVED:
            if record is not None:
                record.resolved_at = self.moment(event.at)
            return
        if self.first_firing is None:
            self.first_firing = event.at  # events come sorted: the first is the earliest
        value = data.get("value")
        if record is None:
            self.alerts[key] = AlertRecord(
                key[0],
                key[1],
                event.text,
                self.moment(event.at),
                self.moment(starts) if starts else None,
                value,
                data.get("threshold"),
                value,
            )
        else:
            record.notifications += 1
            record.last_value = value if value is not None else record.last_value

    def change(self, change: Change) -> ChangeRecord:
        return ChangeRecord(
            self.moment(change.at),
            change.service,
            change.component.value,
            change.from_version,
            change.to_version,
            change.actor,
            change.source,
            change.eval_score,
        )

    def measures(self, before: Sequence[ChangeRecord], actions: Sequence[ActionRecord]) -> Measures:
        opened = self.opened
        signal = self.first_signal or self.first_firing
        detect = opened - signal if signal is not None and signal <= opened else None
        ack = self.ack
        mitigation = next(
            (
                a
                for a in sorted(
                    (a for a in actions if a.status == "applied" and a.finished_at),
                    key=lambda a: a.finished_at.utc if a.finished_at else opened,
                )
                if a.finished_at is not None
                and a.finished_at.utc >= opened
                and a.request_id not in self.failed_verification
            ),
            None,
        )
        bad, exposure = self.exposure([*before, *self.during], actions)
        resolved = self.incident.resolved_at
        return Measures(
            time_to_detect=detect,
            time_to_acknowledge=ack.at - opened if ack else None,
            time_to_mitigate=(
                mitigation.finished_at.utc - opened
                if mitigation and mitigation.finished_at
                else None
            ),
            time_to_resolve=resolved - opened if resolved else None,
            bad_change_exposure=exposure,
            first_signal_at=self.moment(signal) if signal else None,
            acknowledged_by=ack.actor if ack else None,
            mitigated_by=mitigation.describe if mitigation else None,
            bad_change=bad,
        )

    def exposure(
        self, changes: Sequence[ChangeRecord], actions: Sequence[ActionRecord]
    ) -> tuple[ChangeRecord | None, timedelta | None]:
        deploys: dict[tuple[str, str, str], list[ChangeRecord]] = {}
        for change in changes:
            deploys.setdefault((change.service, change.component, change.to_version), []).append(
                change
            )
        rollbacks = sorted(
            (
                a
                for a in actions
                if a.kind in ROLLBACKS
                and a.status == "applied"
                and a.finished_at is not None
                and a.request_id not in self.failed_verification
            ),
            key=lambda a: a.finished_at.utc if a.finished_at else self.opened,
        )
        for action in rollbacks:
            assert action.finished_at is not None
            applied = action.finished_at.utc
            for move in action.moves:
                found = [
                    c
                    for c in deploys.get((action.service, move.target, move.before), ())
                    if c.at.utc <= applied
                ]
                if found:
                    bad = max(found, key=lambda c: c.at.utc)
                    return bad, applied - bad.at.utc
        return None, None

    def trails(
        self, before: Sequence[ChangeRecord], actions: Sequence[ActionRecord]
    ) -> tuple[VersionTrail, ...]:
        moves = [*before, *self.during]
        for action in actions:
            if action.status != "applied" or action.finished_at is None:
                continue
            for move in action.moves:
                if action.kind in ROLLBACKS:
                    moves.append(
                        ChangeRecord(
                            action.finished_at,
                            action.service,
                            move.target,
                            move.before,
                            move.after,
                            action.approved_by or action.requested_by,
                            f"{action.kind} request {action.request_id}",
                            None,
                        )
                    )
        by_component: dict[str, list[ChangeRecord]] = {}
        for change in sorted(moves, key=lambda c: c.at.utc):
            by_component.setdefault(change.component, []).append(change)
        trails = []
        for component, changes in by_component.items():
            earlier = [c for c in changes if c.at.utc <= self.opened]
            later = [c for c in changes if c.at.utc > self.opened]
            at_open = earlier[-1].to_version if earlier else later[0].from_version
            trails.append(VersionTrail(component, at_open, changes[-1].to_version, tuple(changes)))
        return tuple(trails)


def _entry_time(entry: Entry) -> datetime:
    return entry.at.utc


def _move(raw: dict[str, Any]) -> Move:
    target = raw.get("component") or raw.get("flag") or "?"
    return Move(str(target), _value(raw.get("before")), _value(raw.get("after")))


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, int):
        return f"{value}%"  # only percentage flags have numbers
    return str(value)


def _parse_time(text: object) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.utcoffset() is not None else None


def change_text(change: ChangeRecord) -> str:
    """`support-bot prompt: v12 → v13 (eval 0.84)`: a change in one line."""
    text = f"{change.service} {change.component}: {change.from_version or '(first)'} → "
    text += change.to_version
    if change.eval_score is not None:
        text += f" (eval {change.eval_score:.2f})"
    return text
