"""Actions: rollbacks, flag flips, the kill switch and dry-run mode, and the requests that
carry them through approval to a driver.

An action is a list of moves (a component from one version to another, or a flag from one
value to another) on one service. A request wraps an action with who asked, why, its risk and
where it stands. Whether a person may ask or approve is decided here from their roles; who is in
a Slack user group is resolved at the edge and handed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.registry import Component, FlagKind


class ActionKind(StrEnum):
    ROLLBACK = "rollback"  # one component to another version
    RESTORE = "restore"  # every component to the versions of an earlier snapshot
    FLAG = "flag"  # a flag on, off, or to a rollout percentage
    KILL_SWITCH = "kill_switch"  # pause every action-taking step of the service's agents
    DRY_RUN = "dry_run"  # the agents reason but do not act


class Risk(StrEnum):
    LOW = "low"  # runs at once for anyone who may act
    HIGH = "high"  # waits for an approver who is not the requester


class RequestStatus(StrEnum):
    PENDING = "pending"  # waits for approval
    APPLYING = "applying"  # claimed by exactly one process; the driver is at work
    APPLIED = "applied"
    FAILED = "failed"  # the driver failed or timed out; nothing changed, it may be retried
    REJECTED = "rejected"
    EXPIRED = "expired"


class Role(StrEnum):
    RESPONDER = "responders"  # may ask for any action; low-risk ones run at once
    COMMANDER = "commanders"  # as responders, and may reject or withdraw pending requests
    APPROVER = "approvers"  # may approve high-risk requests of others


def flag_value_text(kind: FlagKind, value: bool | int) -> str:
    if kind is FlagKind.PERCENTAGE:
        return f"{int(value)}%"
    return "on" if value else "off"


@dataclass(frozen=True)
class VersionMove:
    component: Component
    before: str
    after: str

    @property
    def target(self) -> str:
        return self.component.value

    def text(self) -> str:
        return f"{self.component.value} {self.before} → {self.after}"


@dataclass(frozen=True)
class FlagMove:
    flag: str
    kind: FlagKind
    before: bool | int
    after: bool | int

    @property
    def target(self) -> str:
        return self.flag

    def text(self) -> str:
        before, after = (
            flag_value_text(self.kind, self.before),
            flag_value_text(self.kind, self.after),
        )
        return f"{self.flag} {before} → {after}"


Move = VersionMove | FlagMove


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    service: str
    moves: tuple[Move, ...]

    @property
    def changes_flags(self) -> bool:
        return self.kind in (ActionKind.FLAG, ActionKind.KILL_SWITCH, ActionKind.DRY_RUN)

    def describe(self) -> str:
        """`roll back support-bot prompt v13 → v12`: what, and before → after."""
        verb = {
            ActionKind.ROLLBACK: "roll back",
            ActionKind.RESTORE: "restore",
            ActionKind.FLAG: "flip",
            ActionKind.KILL_SWITCH: "kill switch",
            ActionKind.DRY_RUN: "dry-run",
        }[self.kind]
        return f"{verb} {self.service} " + ", ".join(m.text() for m in self.moves)

    def reversed(self) -> Action:
        """The action that undoes this one, e.g. after a failed verification."""
        moves: list[Move] = []
        for move in self.moves:
            if isinstance(move, VersionMove):
                moves.append(VersionMove(move.component, move.after, move.before))
            else:
                moves.append(FlagMove(move.flag, move.kind, move.after, move.before))
        return Action(self.kind, self.service, tuple(moves))


@dataclass(frozen=True)
class RiskRule:
    """Matches an action when every field it sets matches; unset fields match anything."""

    risk: Risk
    service: str | None = None
    target: str | None = None  # a component or a flag name
    action: ActionKind | None = None
    environment: str | None = None

    def matches(self, action: Action, move: Move, environment: str) -> bool:
        return (
            self.service in (None, action.service)
            and self.target in (None, move.target)
            and self.action in (None, action.kind)
            and self.environment in (None, environment)
        )


@dataclass(frozen=True)
class ActionPolicy:
    """Risk per service, component or flag, action and environment: for each move the first
    rule that matches decides, and an action is as risky as its riskiest move."""

    rules: tuple[RiskRule, ...] = ()
    default_risk: Risk = Risk.HIGH  # unlisted actions wait for approval: the safe default
    approval_expires_after: timedelta = timedelta(minutes=15)

    def risk_of(self, action: Action, environment: str) -> Risk:
        risks = [self._move_risk(action, move, environment) for move in action.moves]
        return Risk.HIGH if Risk.HIGH in risks else Risk.LOW

    def _move_risk(self, action: Action, move: Move, environment: str) -> Risk:
        for rule in self.rules:
            if rule.matches(action, move, environment):
                return rule.risk
        return self.default_risk


@dataclass(frozen=True)
class Roles:
    """Slack user IDs (U…, W…) and user group IDs (S…) per role. Without a `roles` section
    everyone responds and commands, and nobody approves: high-risk actions cannot run until
    approvers are named."""

    responders: tuple[str, ...] = ()
    commanders: tuple[str, ...] = ()
    approvers: tuple[str, ...] = ()
    configured: bool = False

    def entries(self, role: Role) -> tuple[str, ...]:
        return {
            Role.RESPONDER: self.responders,
            Role.COMMANDER: self.commanders,
            Role.APPROVER: self.approvers,
        }[role]

    @property
    def groups(self) -> tuple[str, ...]:
        every = self.responders + self.commanders + self.approvers
        return tuple(dict.fromkeys(e for e in every if is_group_id(e)))


def is_group_id(entry: str) -> bool:
    return entry.startswith("S")


def held_roles(roles: Roles, user: str, groups: dict[str, frozenset[str]]) -> frozenset[Role]:
    """The roles `user` holds; `groups` maps each user group ID to its members."""
    if not roles.configured:
        return frozenset({Role.RESPONDER, Role.COMMANDER})
    held = set()
    for role in Role:
        for entry in roles.entries(role):
            if entry == user or user in groups.get(entry, frozenset()):
                held.add(role)
    return frozenset(held)


def may_request(held: frozenset[Role]) -> bool:
    return bool(held)  # every role may ask


@dataclass
class ActionRequest:
    id: str
    incident_id: str
    channel_id: str
    action: Action
    risk: Risk
    reason: str
    requested_by: str
    requested_at: datetime
    expires_at: datetime
    status: RequestStatus = RequestStatus.PENDING
    decided_by: str | None = None  # the approver, the rejecter, or the requester of a low-risk one
    decided_at: datetime | None = None
    message_ts: str | None = None  # the approval (or progress) message in the channel
    outcome: str | None = None  # the driver's own text on failure, or what was applied
    attempts: int = 0
    verification: str | None = None  # the last verification's one-line result
    applying_since: datetime | None = None  # when the current attempt started

    def is_expired(self, now: datetime) -> bool:
        return self.status is RequestStatus.PENDING and now >= self.expires_at

    def approval_problem(self, user: str, held: frozenset[Role], now: datetime) -> str | None:
        """Why `user` may not approve now, or None when they may."""
        if (problem := self._decided_problem(now)) is not None:
            return problem
        if user == self.requested_by:
            return "You asked for this action; another approver has to approve it."
        if Role.APPROVER not in held:
            return "Only approvers may approve this action (see `roles` in steadyhand.yml)."
        return None

    def rejection_problem(self, user: str, held: frozenset[Role], now: datetime) -> str | None:
        if (problem := self._decided_problem(now)) is not None:
            return problem
        if user == self.requested_by or held & {Role.APPROVER, Role.COMMANDER}:
            return None
        return "Only approvers, commanders or the requester may reject this action."

    def _decided_problem(self, now: datetime) -> str | None:
        if self.status is not RequestStatus.PENDING:
            who = f" by <@{self.decided_by}>" if self.decided_by else ""
            return f"This request is already {self.status.value}{who}."
        if self.is_expired(now):
            return "This request has expired; ask again if the action is still needed."
        return None
