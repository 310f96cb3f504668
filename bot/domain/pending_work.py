"""Pending Slack work: what the bot still owes Slack for an incident, kept as rows.

An incident's opening (channel, invitations, topic, header, checklist, the five questions, the
alert summary) and the messages it owes later (status updates, action cards, notices, reminders,
the post-mortem) are written as work rows in the same transaction as whatever causes them, then
delivered. A Slack failure leaves the row due
again after a backoff, so it delays and never loses; a process that stops mid-step leaves its
lease to expire, and any replica finishes the work.

Each incident's rows run one at a time in the order they were written: a step never runs before
the channel it needs exists, and updates come out in the order people sent them.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from bot.domain.kinds import IncidentKind

# Slack's own retries (slack_sdk's handlers) come first; these spread out what they gave up on.
FIRST_RETRY = timedelta(seconds=5)
LONGEST_WAIT = timedelta(minutes=10)
# A process working a step holds it this long; if it stops, another takes the step over.
# Longer than a step can take (two Slack calls, each at most 15 s before it times out, plus
# slack_sdk's few quick retries), short enough that a crash delays an opening by a minute.
LEASE = timedelta(seconds=60)
# What a step may take before it is given back (released, to be tried again after a backoff).
# Each Slack call times out by itself, but a step makes several (an upload: a URL, the bytes
# and the share, for two files, with retries) and could outlast its lease; another process
# would then claim it and do it a second time while the first still ran. Below the lease by
# enough to record the outcome before the lease runs out.
STEP_TIME_LIMIT = timedelta(seconds=45)
# A step Slack refuses for good (not a passing failure) is tried this many times, then dropped
# with a note on the timeline, so one bad setting does not hold the rest of the incident back.
REFUSALS_BEFORE_GIVING_UP = 3
# The metadata a post carries, so a retry after an ambiguous failure finds it instead of posting
# twice.
METADATA_EVENT_TYPE = "steadyhand_pending_work"


class Step(StrEnum):
    CREATE_CHANNEL = "create_channel"
    INVITE = "invite"  # payload: users, group (a user group, asked for its members then)
    TOPIC = "topic"
    HEADER = "header"
    CLASSIFY_OFFER = "classify_offer"
    # payload: page, pages; posted only as the incident's next page (a switched runbook's
    # pages replace what the opening still owed)
    CHECKLIST_PAGE = "checklist_page"
    CHECKLIST_RETIRED = "checklist_retired"  # payload: pages (their ts), kind (the new one)
    QUESTIONS = "questions"
    ALERT_SUMMARY = "alert_summary"  # payload: page, service_unknown
    STATUS_UPDATE = "status_update"  # payload: channel, author, text, at, for_stakeholders
    HEADER_REFRESH = "header_refresh"  # the header edited to what the incident is now
    QUESTIONS_REFRESH = "questions_refresh"  # the five questions edited to show the answers
    COMMANDER_CHANGED = "commander_changed"  # payload: previous, current, by
    RESOLVED = "resolved"  # payload: by
    ACTION_CARD = "action_card"  # payload: request
    ACTION_CARD_EDIT = "action_card_edit"  # payload: request; drawn as the request is then
    ALL_ALERTS_RESOLVED = "all_alerts_resolved"  # payload: count, by_policy
    VERIFICATION_REPORT = "verification_report"  # payload: request, passed, summary, score,
    # escalation
    # The draft post-mortem and its picture, drawn from the timeline when delivered (only the
    # key is kept: it names the file, so a retry can tell it was shared).
    # payload: by (who asked for it, when someone did)
    POSTMORTEM_UPLOAD = "postmortem_upload"
    # One message for the incident channel, drawn when delivered from what the payload names
    # (see Post); the caller records it on the timeline in the unit of work that queues it.
    POST = "post"  # payload: post (a Post), and that post's own fields


class Post(StrEnum):
    """What a POST step says. Each names its records rather than carrying the message, so it is
    drawn as things stand when Slack finally takes it (an example sorted meanwhile shows its
    set) and fits in a JSON column."""

    NOTICE = "notice"  # payload: text, is_error
    FOLLOW_UP = "follow_up"  # payload: number
    EXAMPLE_CARD = "example_card"  # payload: number; its ts is kept on the example
    RUNBOOK_SWITCH_OFFER = "runbook_switch_offer"  # payload: current, suggested
    TRIAGE_REMINDER = "triage_reminder"  # payload: minutes
    REVIEW_DUE = "review_due"  # payload: since_resolved (seconds, when it fell due)


@dataclass(frozen=True)
class NewWork:
    """A step to be written; the store gives it its place in the incident's order."""

    key: str  # unique; carried in the posted message's metadata
    incident_id: str
    step: Step
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PendingWork:
    key: str
    incident_id: str
    step: Step
    payload: Mapping[str, Any]
    attempts: int  # claims so far, this one included: above 1, an earlier try may have landed
    due_at: datetime
    last_error: str | None = None

    @property
    def tried_before(self) -> bool:
        return self.attempts > 1


def opening_steps(
    kind: IncidentKind,
    checklist_pages: int,
    *,
    invite: Mapping[str, Any] | None,
    alert_summary: Mapping[str, Any] | None,
) -> list[tuple[Step, dict[str, Any]]]:
    """The steps of an incident's opening, in the order they must happen."""
    steps: list[tuple[Step, dict[str, Any]]] = [(Step.CREATE_CHANNEL, {})]
    if invite is not None:
        steps.append((Step.INVITE, dict(invite)))
    steps += [(Step.TOPIC, {}), (Step.HEADER, {})]
    if kind is IncidentKind.UNKNOWN:
        steps.append((Step.CLASSIFY_OFFER, {}))
    steps += [
        (Step.CHECKLIST_PAGE, {"page": n, "pages": checklist_pages})
        for n in range(1, checklist_pages + 1)
    ]
    steps.append((Step.QUESTIONS, {}))
    if alert_summary is not None:
        steps.append((Step.ALERT_SUMMARY, dict(alert_summary)))
    return steps


def retry_delay(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff after the `attempts`-th failed try, capped, with jitter (between
    half and all of the wait) so replicas and incidents do not retry in step."""
    base = min(LONGEST_WAIT, FIRST_RETRY * 2 ** max(0, attempts - 1))
    share = 0.5 + 0.5 * float((rng or random).random())
    return timedelta(seconds=base.total_seconds() * share)


def gives_up(work: PendingWork, passing: bool) -> bool:
    """Whether a failed try is the last: passing failures (Slack down, rate limits, timeouts)
    are retried for as long as it takes; a refusal a few times. That holds for the channel too:
    one Slack refuses for good (`restricted_action`, `invalid_name`) would otherwise leave the
    incident pending for ever; its opening is cancelled instead (see cancels_opening)."""
    if passing:
        return False
    return work.attempts >= REFUSALS_BEFORE_GIVING_UP


def cancels_opening(work: PendingWork) -> bool:
    """Whether giving this step up ends the incident: without a channel it has nowhere to
    live, and every step after it needs one."""
    return work.step is Step.CREATE_CHANNEL
