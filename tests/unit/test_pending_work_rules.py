"""The rules of pending Slack work: the opening's steps, backoff, when to give up."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from bot.domain.kinds import IncidentKind
from bot.domain.pending_work import (
    FIRST_RETRY,
    LONGEST_WAIT,
    REFUSALS_BEFORE_GIVING_UP,
    PendingWork,
    Step,
    gives_up,
    opening_steps,
    retry_delay,
)

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def test_an_opening_creates_the_channel_first_and_asks_the_questions_last() -> None:
    steps = opening_steps(
        IncidentKind.QUALITY, 2, invite={"users": ["U1"]}, alert_summary={"page": "S1"}
    )
    assert [s for s, _ in steps] == [
        Step.CREATE_CHANNEL,
        Step.INVITE,
        Step.TOPIC,
        Step.HEADER,
        Step.CHECKLIST_PAGE,
        Step.CHECKLIST_PAGE,
        Step.QUESTIONS,
        Step.ALERT_SUMMARY,
    ]
    assert [p["page"] for s, p in steps if s is Step.CHECKLIST_PAGE] == [1, 2]


def test_an_unclassified_incident_offers_the_kinds_and_nobody_to_invite_is_no_step() -> None:
    steps = [s for s, _ in opening_steps(IncidentKind.UNKNOWN, 0, invite=None, alert_summary=None)]
    assert steps == [
        Step.CREATE_CHANNEL,
        Step.TOPIC,
        Step.HEADER,
        Step.CLASSIFY_OFFER,
        Step.QUESTIONS,
    ]


def test_the_backoff_doubles_up_to_a_cap_with_jitter() -> None:
    rng = random.Random(7)
    for attempts in range(1, 20):
        base = min(LONGEST_WAIT, FIRST_RETRY * 2 ** (attempts - 1))
        assert base / 2 <= retry_delay(attempts, rng) <= base
    assert retry_delay(30, rng) <= LONGEST_WAIT
    waits = {retry_delay(3, random.Random(seed)) for seed in range(10)}
    assert len(waits) > 1  # replicas do not retry in step


def work(step: Step, attempts: int) -> PendingWork:
    return PendingWork("k", "inc", step, {}, attempts, T0)


def test_passing_failures_are_retried_for_ever_refusals_a_few_times() -> None:
    assert not gives_up(work(Step.HEADER, 1000), passing=True)
    assert not gives_up(work(Step.HEADER, REFUSALS_BEFORE_GIVING_UP - 1), passing=False)
    assert gives_up(work(Step.HEADER, REFUSALS_BEFORE_GIVING_UP), passing=False)
    # A channel Slack refuses for good (restricted_action, invalid_name) is given up on too:
    # tried for ever, the incident would stay pending for ever (its opening is cancelled).
    assert not gives_up(work(Step.CREATE_CHANNEL, 1000), passing=True)
    assert gives_up(work(Step.CREATE_CHANNEL, REFUSALS_BEFORE_GIVING_UP), passing=False)
    assert work(Step.HEADER, 2).tried_before and not work(Step.HEADER, 1).tried_before
    assert timedelta(0) < FIRST_RETRY < LONGEST_WAIT
