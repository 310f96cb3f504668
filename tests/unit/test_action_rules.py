"""The pure rules of actions: risk, roles, who may approve or reject, undo, and the texts."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.actions import (
    Action,
    ActionKind,
    ActionPolicy,
    ActionRequest,
    FlagMove,
    RequestStatus,
    Risk,
    RiskRule,
    Role,
    Roles,
    VersionMove,
    held_roles,
    may_request,
)
from bot.domain.registry import Component, FlagKind

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
PROMPT_BACK = VersionMove(Component.PROMPT, "v13", "v12")
MODEL_BACK = VersionMove(Component.MODEL, "gpt-y", "gpt-x")
ROLLOUT_OFF = FlagMove("new-retriever", FlagKind.PERCENTAGE, 50, 0)
ROLLBACK = Action(ActionKind.ROLLBACK, "support-bot", (PROMPT_BACK,))
RESTORE = Action(ActionKind.RESTORE, "support-bot", (PROMPT_BACK, MODEL_BACK))
FLAG = Action(ActionKind.FLAG, "support-bot", (ROLLOUT_OFF,))

EVERYONE = frozenset(Role)
RESPONDER = frozenset({Role.RESPONDER})
COMMANDER = frozenset({Role.COMMANDER})
APPROVER = frozenset({Role.APPROVER})
NOBODY: frozenset[Role] = frozenset()


# Risk


def test_an_action_without_a_matching_rule_has_the_default_risk() -> None:
    assert ActionPolicy().risk_of(ROLLBACK, "production") is Risk.HIGH
    assert ActionPolicy(default_risk=Risk.LOW).risk_of(ROLLBACK, "production") is Risk.LOW


@pytest.mark.parametrize(
    ("rule", "matches"),
    [
        (RiskRule(Risk.LOW), True),
        (RiskRule(Risk.LOW, service="support-bot"), True),
        (RiskRule(Risk.LOW, service="search"), False),
        (RiskRule(Risk.LOW, target="prompt"), True),
        (RiskRule(Risk.LOW, target="model"), False),
        (RiskRule(Risk.LOW, action=ActionKind.ROLLBACK), True),
        (RiskRule(Risk.LOW, action=ActionKind.FLAG), False),
        (RiskRule(Risk.LOW, environment="staging"), True),
        (RiskRule(Risk.LOW, environment="production"), False),
        (RiskRule(Risk.LOW, "support-bot", "prompt", ActionKind.ROLLBACK, "staging"), True),
        (RiskRule(Risk.LOW, "support-bot", "prompt", ActionKind.ROLLBACK, "production"), False),
    ],
)
def test_a_rule_matches_when_every_field_it_sets_matches(rule: RiskRule, matches: bool) -> None:
    expected = Risk.LOW if matches else Risk.HIGH
    assert ActionPolicy(rules=(rule,)).risk_of(ROLLBACK, "staging") is expected


def test_the_first_matching_rule_decides_for_each_move() -> None:
    policy = ActionPolicy(
        rules=(
            RiskRule(Risk.LOW, target="prompt"),
            RiskRule(Risk.HIGH, service="support-bot"),  # would match too, but comes later
        ),
        default_risk=Risk.HIGH,
    )
    assert policy.risk_of(ROLLBACK, "production") is Risk.LOW
    reverse = ActionPolicy(rules=tuple(reversed(policy.rules)))
    assert reverse.risk_of(ROLLBACK, "production") is Risk.HIGH


def test_an_action_is_as_risky_as_its_riskiest_move() -> None:
    prompt_low = ActionPolicy(rules=(RiskRule(Risk.LOW, target="prompt"),))
    assert prompt_low.risk_of(RESTORE, "production") is Risk.HIGH  # the model move is not low
    model_high = ActionPolicy(rules=(RiskRule(Risk.HIGH, target="model"),), default_risk=Risk.LOW)
    assert model_high.risk_of(RESTORE, "production") is Risk.HIGH
    both_low = ActionPolicy(rules=(RiskRule(Risk.LOW, action=ActionKind.RESTORE),))
    assert both_low.risk_of(RESTORE, "production") is Risk.LOW


def test_flag_rules_match_the_flag_name() -> None:
    policy = ActionPolicy(rules=(RiskRule(Risk.LOW, target="new-retriever"),))
    assert policy.risk_of(FLAG, "production") is Risk.LOW
    other = Action(ActionKind.FLAG, "support-bot", (FlagMove("x", FlagKind.BOOLEAN, True, False),))
    assert policy.risk_of(other, "production") is Risk.HIGH


# Roles

ROLES = Roles(
    responders=("U_A", "S_ONCALL"),
    commanders=("U_CMD",),
    approvers=("U_B", "S_LEADS", "S_ONCALL"),
    configured=True,
)
GROUPS = {"S_ONCALL": frozenset({"U_O"}), "S_LEADS": frozenset({"U_L", "U_B"})}


@pytest.mark.parametrize(
    ("user", "held"),
    [
        ("U_A", RESPONDER),
        ("U_CMD", COMMANDER),
        ("U_B", APPROVER),  # named and in a group: held once
        ("U_L", APPROVER),  # through S_LEADS
        ("U_O", frozenset({Role.RESPONDER, Role.APPROVER})),  # S_ONCALL is in two roles
        ("U_STRANGER", NOBODY),
    ],
)
def test_roles_are_held_by_name_or_through_a_group(user: str, held: frozenset[Role]) -> None:
    assert held_roles(ROLES, user, GROUPS) == held


def test_a_group_whose_members_are_unknown_grants_nothing() -> None:
    assert held_roles(ROLES, "U_L", {}) == NOBODY


def test_without_a_roles_section_everyone_responds_and_commands_but_nobody_approves() -> None:
    held = held_roles(Roles(), "U_ANYONE", {})
    assert held == frozenset({Role.RESPONDER, Role.COMMANDER})
    assert Role.APPROVER not in held
    assert may_request(held)


def test_configured_but_empty_roles_grant_nothing() -> None:
    held = held_roles(Roles(configured=True), "U_A", {})
    assert held == NOBODY
    assert not may_request(held)


def test_roles_list_their_groups_once_each() -> None:
    assert ROLES.groups == ("S_ONCALL", "S_LEADS")
    assert ROLES.entries(Role.APPROVER) == ("U_B", "S_LEADS", "S_ONCALL")


# Approving and rejecting


def request(**changes: object) -> ActionRequest:
    base = ActionRequest(
        id="req-1",
        incident_id="inc-1",
        channel_id="C1",
        action=ROLLBACK,
        risk=Risk.HIGH,
        reason="refusals up",
        requested_by="U_A",
        requested_at=NOW,
        expires_at=NOW + timedelta(minutes=15),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


LATER = NOW + timedelta(minutes=5)
EXPIRY = NOW + timedelta(minutes=15)


@pytest.mark.parametrize(
    ("pending", "user", "held", "at", "problem"),
    [
        (request(), "U_B", APPROVER, LATER, None),
        (request(), "U_B", EVERYONE, EXPIRY - timedelta(microseconds=1), None),
        (request(), "U_A", EVERYONE, LATER, "You asked for this action; another approver"),
        (request(), "U_D", RESPONDER | COMMANDER, LATER, "Only approvers may approve"),
        (request(), "U_D", NOBODY, LATER, "Only approvers may approve"),
        (request(), "U_B", APPROVER, EXPIRY, "This request has expired; ask again"),
        (
            request(status=RequestStatus.APPLIED, decided_by="U_C"),
            "U_B",
            APPROVER,
            LATER,
            r"This request is already applied by <@U_C>\.",
        ),
        (
            request(status=RequestStatus.EXPIRED),
            "U_B",
            APPROVER,
            EXPIRY,
            r"This request is already expired\.$",
        ),
        (
            request(status=RequestStatus.REJECTED, decided_by="U_A"),
            "U_A",  # being the requester is not the first problem here
            APPROVER,
            LATER,
            "already rejected by <@U_A>",
        ),
    ],
)
def test_approval_problems(
    pending: ActionRequest, user: str, held: frozenset[Role], at: datetime, problem: str | None
) -> None:
    found = pending.approval_problem(user, held, at)
    if problem is None:
        assert found is None
    else:
        assert found is not None and re.search(problem, found), found


@pytest.mark.parametrize(
    ("pending", "user", "held", "at", "problem"),
    [
        (request(), "U_A", NOBODY, LATER, None),  # the requester may withdraw
        (request(), "U_CMD", COMMANDER, LATER, None),
        (request(), "U_B", APPROVER, LATER, None),
        (request(), "U_D", RESPONDER, LATER, "Only approvers, commanders or the requester"),
        (request(), "U_X", NOBODY, LATER, "Only approvers, commanders or the requester"),
        (request(), "U_A", NOBODY, EXPIRY, "This request has expired"),
        (
            request(status=RequestStatus.APPLYING, decided_by="U_B"),
            "U_CMD",
            COMMANDER,
            LATER,
            "already applying by <@U_B>",
        ),
        (
            request(status=RequestStatus.FAILED, decided_by="U_B"),
            "U_A",
            NOBODY,
            LATER,
            "already failed by <@U_B>",
        ),
    ],
)
def test_rejection_problems(
    pending: ActionRequest, user: str, held: frozenset[Role], at: datetime, problem: str | None
) -> None:
    found = pending.rejection_problem(user, held, at)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found, found


def test_only_a_pending_request_expires() -> None:
    assert request().is_expired(EXPIRY)
    assert not request().is_expired(EXPIRY - timedelta(seconds=1))
    assert not request(status=RequestStatus.APPLIED).is_expired(EXPIRY + timedelta(days=1))


# Undo and texts


def test_the_reverse_of_an_action_swaps_before_and_after_of_every_move() -> None:
    undo = RESTORE.reversed()
    assert undo == Action(
        ActionKind.RESTORE,
        "support-bot",
        (
            VersionMove(Component.PROMPT, "v12", "v13"),
            VersionMove(Component.MODEL, "gpt-x", "gpt-y"),
        ),
    )
    assert FLAG.reversed().moves == (FlagMove("new-retriever", FlagKind.PERCENTAGE, 0, 50),)
    for action in (ROLLBACK, RESTORE, FLAG):
        assert action.reversed().reversed() == action


@pytest.mark.parametrize(
    ("action", "text"),
    [
        (ROLLBACK, "roll back support-bot prompt v13 → v12"),
        (RESTORE, "restore support-bot prompt v13 → v12, model gpt-y → gpt-x"),
        (FLAG, "flip support-bot new-retriever 50% → 0%"),
        (
            Action(
                ActionKind.FLAG,
                "support-bot",
                (FlagMove("strict-grounding", FlagKind.BOOLEAN, False, True),),
            ),
            "flip support-bot strict-grounding off → on",
        ),
        (
            Action(
                ActionKind.KILL_SWITCH,
                "support-bot",
                (FlagMove("kill_switch", FlagKind.KILL_SWITCH, False, True),),
            ),
            "kill switch support-bot kill_switch off → on",
        ),
        (
            Action(
                ActionKind.DRY_RUN,
                "support-bot",
                (FlagMove("dry_run", FlagKind.DRY_RUN, True, False),),
            ),
            "dry-run support-bot dry_run on → off",
        ),
    ],
)
def test_describe_says_what_and_before_and_after(action: Action, text: str) -> None:
    assert action.describe() == text


@pytest.mark.parametrize(
    ("kind", "changes_flags"),
    [
        (ActionKind.ROLLBACK, False),
        (ActionKind.RESTORE, False),
        (ActionKind.FLAG, True),
        (ActionKind.KILL_SWITCH, True),
        (ActionKind.DRY_RUN, True),
    ],
)
def test_which_actions_change_flags(kind: ActionKind, changes_flags: bool) -> None:
    assert Action(kind, "s", ()).changes_flags is changes_flags


def test_targets_name_the_component_or_the_flag() -> None:
    assert PROMPT_BACK.target == "prompt"
    assert ROLLOUT_OFF.target == "new-retriever"
