"""Action requests over the in-memory fakes: ask, approve, reject, expire, retry, verify, undo.

Alice (U_A) and Dan (U_D) respond, Cmdr (U_CMD) commands, Bob (U_B), Carol (U_C) and the
S_LEADS group approve. Flags are low risk; rollbacks and restores wait for an approver.
"""

from __future__ import annotations

import copy
import itertools
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import ManualClock
from bot.domain.actions import (
    Action,
    ActionKind,
    ActionPolicy,
    ActionRequest,
    FlagMove,
    RequestStatus,
    Risk,
    RiskRule,
    Roles,
    VersionMove,
)
from bot.domain.drivers import (
    BUILTIN_DRIVER,
    DriverResult,
    DriverSpec,
    VerificationResult,
    VerificationSpec,
    WebhookDriverSpec,
)
from bot.domain.errors import Conflict, NotAllowed, UsageError
from bot.domain.incidents import Incident
from bot.domain.kinds import IncidentKind
from bot.domain.messages import ActionCard, Message, VerificationReport
from bot.domain.registry import (
    Catalog,
    Component,
    FlagKind,
    FlagSpec,
    ServiceSpec,
    built_in_flags,
)
from bot.domain.timeline import BOT_ACTOR, EventType, TimelineEvent
from bot.runbooks.loader import load_library
from bot.services import action_plans as plans
from bot.services import registry
from bot.services.actions import (
    approve_action,
    expire_due_requests,
    reject_action,
    request_action,
    retry_action,
)
from bot.services.applying import BUILTIN_DETAIL
from bot.services.asking import ask_flag, ask_restore, ask_rollback, ask_undo_request
from bot.services.deps import Deps, Policy
from bot.services.lifecycle import resolve_incident
from bot.services.opening import OpenIncident, open_incident
from tests.fake_chat import FakeChat
from tests.fakes import FakeUnitOfWorkFactory
from tests.unit.test_services import ROOT

START = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
WEBHOOK = WebhookDriverSpec("https://deploy.example.com/steadyhand", "s3cret")
EVAL = VerificationSpec("eval", "https://evals.example.com/run", threshold=0.85)
SUPPORT_BOT = ServiceSpec(
    "support-bot",
    {Component.PROMPT: "v12", Component.MODEL: "gpt-x", Component.RETRIEVAL_INDEX: "idx-7"},
    {
        **built_in_flags(),
        "new-retriever": FlagSpec("new-retriever", FlagKind.PERCENTAGE, 30),
        "strict-grounding": FlagSpec("strict-grounding", FlagKind.BOOLEAN, False),
    },
    driver=WEBHOOK,
)
ROLES = Roles(
    responders=("U_A", "U_D"),
    commanders=("U_CMD",),
    approvers=("U_B", "U_C", "S_LEADS"),
    configured=True,
)
FLAGS_LOW = ActionPolicy(rules=(RiskRule(Risk.LOW, action=ActionKind.FLAG),))
EXPIRES = FLAGS_LOW.approval_expires_after
ACTION_EVENTS = {t for t in EventType if t.value.startswith("action.")}


class FakeDriver:
    """Answers with the scripted results in turn, then with success; remembers what it got."""

    def __init__(self, *script: DriverResult) -> None:
        self.script = list(script)
        self.requests: list[ActionRequest] = []

    async def apply(self, request: ActionRequest) -> DriverResult:
        self.requests.append(copy.deepcopy(request))
        return self.script.pop(0) if self.script else DriverResult(True, "deployed by webhook")


@dataclass
class FakeDriverFactory:
    driver: FakeDriver
    specs: list[DriverSpec] = field(default_factory=list)

    def __call__(self, spec: DriverSpec) -> FakeDriver:
        self.specs.append(spec)
        return self.driver


class FakeVerifier:
    def __init__(self, *script: VerificationResult) -> None:
        self.script = list(script)
        self.checked: list[tuple[VerificationSpec, str]] = []

    async def verify(self, spec: VerificationSpec, request: ActionRequest) -> VerificationResult:
        self.checked.append((spec, request.id))
        return self.script.pop(0)


@dataclass
class FakeDirectory:
    members: dict[str, frozenset[str]] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    async def group_members(self, group_id: str) -> frozenset[str]:
        self.asked.append(group_id)
        return self.members.get(group_id, frozenset())


class SnapshotChat(FakeChat):
    """FakeChat keeps the message objects it is given; a card holds a request that the
    services go on changing, so keep each version as it was when sent."""

    async def post(self, channel: str, message: Message, *, key: str | None = None) -> str:
        return await super().post(channel, copy.deepcopy(message), key=key)

    async def update(self, channel: str, ts: str, message: Message) -> None:
        await super().update(channel, ts, copy.deepcopy(message))


@dataclass
class World:
    deps: Deps
    chat: SnapshotChat
    driver: FakeDriver
    drivers: FakeDriverFactory
    directory: FakeDirectory
    incident: Incident

    @property
    def channel(self) -> str:
        assert self.incident.channel_id is not None
        return self.incident.channel_id

    @property
    def clock(self) -> ManualClock:
        assert isinstance(self.deps.clock, ManualClock)
        return self.deps.clock

    async def stored(self, request_id: str) -> ActionRequest:
        async with self.deps.uow() as uow:
            found = await uow.actions.get(request_id)
        assert found is not None
        return found

    async def events(self, incident_id: str | None = None) -> list[TimelineEvent]:
        async with self.deps.uow() as uow:
            found = await uow.timeline.for_incident(incident_id or self.incident.id)
        return [e for e in found if e.type in ACTION_EVENTS]

    async def event_types(self) -> list[EventType]:
        return [e.type for e in await self.events()]

    def cards(self, request_id: str) -> list[list[RequestStatus]]:
        """Per card of the request, the statuses it showed, first to last."""
        return [
            [v.request.status for v in p.versions if isinstance(v, ActionCard)]
            for p in self.chat.posted
            if isinstance(p.message, ActionCard) and p.message.request.id == request_id
        ]

    async def prompt(self) -> str:
        return (await registry.running(self.deps, "support-bot")).versions[Component.PROMPT]


async def make_world(
    *,
    script: tuple[DriverResult, ...] = (),
    verifier: FakeVerifier | None = None,
    roles: Roles = ROLES,
    policy: ActionPolicy = FLAGS_LOW,
    service: ServiceSpec = SUPPORT_BOT,
    bad_prompt: bool = True,
) -> World:
    """An open incident on support-bot; with `bad_prompt`, after prompt v12 → v13."""
    chat, driver = SnapshotChat(), FakeDriver(*script)
    drivers = FakeDriverFactory(driver)
    directory = FakeDirectory({"S_LEADS": frozenset({"U_G"})})
    ids = itertools.count(1)
    deps = Deps(
        uow=FakeUnitOfWorkFactory(),
        chat=chat,
        clock=ManualClock(START),
        runbooks=load_library(ROOT / "runbooks"),
        policy=Policy(roles=roles, actions=policy),
        catalog=Catalog([service, ServiceSpec("search", {Component.MODEL: "m1"})]),
        new_id=lambda: f"id-{next(ids)}",
        drivers=drivers,
        verifier=verifier,
        directory=directory,
    )
    if bad_prompt:
        await registry.record_change(deps, "support-bot", "prompt", "v13", "ci")
    incident = await open_incident(
        deps, OpenIncident(IncidentKind.QUALITY, "Refusals up", "U_A", service="support-bot")
    )
    return World(deps, chat, driver, drivers, directory, incident)


async def ask_prompt_back(world: World, user: str = "U_A") -> ActionRequest:
    return await ask_rollback(
        world.deps, world.channel, user, None, "prompt", "v12", "refusals since v13"
    )


# Asking


async def test_a_low_risk_flag_flip_is_applied_at_once() -> None:
    world = await make_world()
    request = await ask_flag(
        world.deps, world.channel, "U_A", None, "new-retriever", "0%", "  bad   answers "
    )

    assert request.status is RequestStatus.APPLIED
    assert request.risk is Risk.LOW
    assert (request.decided_by, request.attempts) == ("U_A", 1)
    assert request.reason == "bad answers"
    flag = (await registry.running(world.deps, "support-bot")).flags["new-retriever"]
    assert (flag.value, flag.updated_by, flag.updated_at) == (0, "U_A", START)
    assert [r.id for r in world.driver.requests] == [request.id]
    assert world.drivers.specs == [WEBHOOK]  # no flag driver: the service's own driver
    assert world.cards(request.id) == [[RequestStatus.APPLYING, RequestStatus.APPLIED]]
    stored = await world.stored(request.id)
    assert stored.status is RequestStatus.APPLIED
    card_ts = next(p.ts for p in world.chat.posted if isinstance(p.message, ActionCard))
    assert (stored.outcome, stored.message_ts) == ("deployed by webhook", card_ts)
    events = await world.events()
    assert [e.type for e in events] == [
        EventType.ACTION_REQUESTED,
        EventType.ACTION_APPROVED,
        EventType.ACTION_APPLIED,
    ]
    assert [e.actor for e in events] == ["U_A", "U_A", BOT_ACTOR]
    assert events[0].text == "asked to flip support-bot new-retriever 30% → 0%"
    assert events[0].data["moves"] == [{"flag": "new-retriever", "before": 30, "after": 0}]
    assert events[2].data["outcome"] == "deployed by webhook"


async def test_an_incident_reason_stands_in_when_none_is_given() -> None:
    world = await make_world()
    request = await ask_flag(world.deps, world.channel, "U_A", None, "strict-grounding", "on", "")
    assert request.reason == "Refusals up"


async def test_a_long_reason_is_refused() -> None:
    world = await make_world()
    with pytest.raises(UsageError, match="under 500"):
        await ask_rollback(world.deps, world.channel, "U_A", None, "prompt", "v12", "x" * 501)


async def test_a_high_risk_rollback_waits_for_an_approver() -> None:
    world = await make_world()
    request = await ask_prompt_back(world)

    assert (request.status, request.risk) == (RequestStatus.PENDING, Risk.HIGH)
    assert request.expires_at == START + EXPIRES
    assert request.action.moves == (VersionMove(Component.PROMPT, "v13", "v12"),)
    assert world.driver.requests == []
    assert await world.prompt() == "v13"
    assert world.cards(request.id) == [[RequestStatus.PENDING]]
    card = world.chat.posted[-1].message
    assert isinstance(card, ActionCard) and card.approvers == ("U_B", "U_C", "S_LEADS")
    assert await world.event_types() == [EventType.ACTION_REQUESTED]


async def test_someone_without_a_role_cannot_ask() -> None:
    world = await make_world()
    with pytest.raises(NotAllowed, match="Only responders, commanders and approvers"):
        await ask_prompt_back(world, "U_STRANGER")
    assert await world.event_types() == []


@pytest.mark.parametrize(
    "roles",
    [Roles(), Roles(responders=("U_A",), configured=True)],
    ids=["no roles section", "no approvers"],
)
async def test_a_high_risk_action_with_no_approvers_is_refused_when_asked(roles: Roles) -> None:
    world = await make_world(roles=roles)
    posted = len(world.chat.posted)
    with pytest.raises(NotAllowed, match=r"needs an approver, but steadyhand\.yml names none"):
        await ask_prompt_back(world)
    async with world.deps.uow() as uow:
        assert await uow.actions.for_incident(world.incident.id) == []
    assert len(world.chat.posted) == posted


async def test_a_resolved_incident_takes_no_actions() -> None:
    world = await make_world()
    await resolve_incident(world.deps, world.incident, "U_A", "fixed")
    action = await plans.plan_rollback(world.deps, "support-bot", "prompt", "v12")
    async with world.deps.uow() as uow:
        incident = await uow.incidents.get(world.incident.id)
    assert incident is not None
    with pytest.raises(Conflict, match="resolved"):
        await request_action(world.deps, incident, action, "U_A", "")


# Approving


async def test_the_requester_cannot_approve_their_own_request() -> None:
    world = await make_world()
    request = await ask_prompt_back(world, "U_B")  # an approver asking
    with pytest.raises(NotAllowed, match="another approver has to approve it"):
        await approve_action(world.deps, request.id, "U_B")
    assert (await world.stored(request.id)).status is RequestStatus.PENDING


@pytest.mark.parametrize("user", ["U_D", "U_CMD", "U_STRANGER"])
async def test_only_approvers_approve(user: str) -> None:
    world = await make_world()
    request = await ask_prompt_back(world)
    with pytest.raises(NotAllowed, match="Only approvers may approve"):
        await approve_action(world.deps, request.id, user)
    assert (await world.stored(request.id)).status is RequestStatus.PENDING
    assert world.driver.requests == []


async def test_an_approved_rollback_is_applied_and_recorded_as_a_change() -> None:
    world = await make_world()
    request = await ask_prompt_back(world)
    world.clock.advance(timedelta(minutes=3))
    approved = await approve_action(world.deps, request.id, "U_B")

    assert [r.id for r in world.driver.requests] == [request.id]
    assert world.driver.requests[0].status is RequestStatus.APPLYING
    stored = await world.stored(request.id)
    assert stored.status is RequestStatus.APPLIED
    assert (stored.decided_by, stored.decided_at, stored.attempts) == (
        "U_B",
        START + timedelta(minutes=3),
        1,
    )
    assert stored.outcome == "deployed by webhook"
    assert approved.id == request.id
    assert await world.prompt() == "v12"
    change = (await registry.running(world.deps, "support-bot")).last_change[Component.PROMPT]
    assert (change.from_version, change.to_version, change.actor) == ("v13", "v12", "U_B")
    assert change.source == f"steadyhand rollback request {request.id}"
    assert change.at == START + timedelta(minutes=3)
    assert world.cards(request.id) == [
        [RequestStatus.PENDING, RequestStatus.APPLIED],
    ]
    events = await world.events()
    assert [(e.type, e.actor) for e in events] == [
        (EventType.ACTION_REQUESTED, "U_A"),
        (EventType.ACTION_APPROVED, "U_B"),
        (EventType.ACTION_APPLIED, BOT_ACTOR),
    ]
    assert events[1].text == "approved: roll back support-bot prompt v13 → v12"
    with pytest.raises(NotAllowed, match="already applied by <@U_B>"):
        await approve_action(world.deps, request.id, "U_C")


async def test_an_approver_in_a_user_group_is_found_through_the_directory() -> None:
    world = await make_world()
    request = await ask_prompt_back(world)
    await approve_action(world.deps, request.id, "U_G")
    assert "S_LEADS" in world.directory.asked
    stored = await world.stored(request.id)
    assert (stored.status, stored.decided_by) == (RequestStatus.APPLIED, "U_G")


async def test_a_rollback_shows_on_other_open_incidents_of_the_service() -> None:
    world = await make_world()
    other = await open_incident(
        world.deps, OpenIncident(IncidentKind.COST, "Spend up", "U_D", service="support-bot")
    )
    request = await ask_prompt_back(world)
    await approve_action(world.deps, request.id, "U_C")
    async with world.deps.uow() as uow:
        theirs = [
            e
            for e in await uow.timeline.for_incident(other.id)
            if e.type is EventType.CHANGE_RECORDED
        ]
        ours = [
            e
            for e in await uow.timeline.for_incident(world.incident.id)
            if e.type is EventType.CHANGE_RECORDED
        ]
    assert [e.text for e in theirs] == ["support-bot prompt: v13 → v12"]
    assert theirs[0].actor == "U_C"
    assert ours == []  # our own timeline has the action events instead


# Rejecting


@pytest.mark.parametrize(
    "user", ["U_A", "U_CMD", "U_C"], ids=["requester", "commander", "approver"]
)
async def test_a_pending_request_can_be_rejected(user: str) -> None:
    world = await make_world()
    request = await ask_prompt_back(world)
    rejected = await reject_action(world.deps, request.id, user)
    assert (rejected.status, rejected.decided_by) == (RequestStatus.REJECTED, user)
    assert world.cards(request.id) == [[RequestStatus.PENDING, RequestStatus.REJECTED]]
    events = await world.events()
    assert [(e.type, e.actor) for e in events][-1] == (EventType.ACTION_REJECTED, user)
    assert world.driver.requests == []
    with pytest.raises(NotAllowed, match=f"already rejected by <@{user}>"):
        await approve_action(world.deps, request.id, "U_B")


async def test_a_plain_responder_cannot_reject_someone_elses_request() -> None:
    world = await make_world()
    request = await ask_prompt_back(world)
    with pytest.raises(NotAllowed, match="Only approvers, commanders or the requester"):
        await reject_action(world.deps, request.id, "U_D")
    assert (await world.stored(request.id)).status is RequestStatus.PENDING


# Expiring


async def test_an_unanswered_request_expires() -> None:
    world = await make_world()
    request = await ask_prompt_back(world)
    world.clock.advance(EXPIRES - timedelta(seconds=1))
    assert await expire_due_requests(world.deps) == 0
    world.clock.advance(timedelta(seconds=1))
    assert await expire_due_requests(world.deps) == 1
    assert await expire_due_requests(world.deps) == 0

    stored = await world.stored(request.id)
    assert (stored.status, stored.decided_at) == (RequestStatus.EXPIRED, START + EXPIRES)
    assert world.cards(request.id) == [[RequestStatus.PENDING, RequestStatus.EXPIRED]]
    events = await world.events()
    assert [(e.type, e.actor) for e in events] == [
        (EventType.ACTION_REQUESTED, "U_A"),
        (EventType.ACTION_EXPIRED, BOT_ACTOR),
    ]
    with pytest.raises(NotAllowed, match="already expired"):
        await approve_action(world.deps, request.id, "U_B")
    assert world.driver.requests == []


async def test_a_click_after_expiry_but_before_the_job_expires_the_request() -> None:
    world = await make_world()
    request = await ask_prompt_back(world)
    world.clock.advance(EXPIRES)
    with pytest.raises(NotAllowed, match="already expired"):
        await approve_action(world.deps, request.id, "U_B")
    assert (await world.stored(request.id)).status is RequestStatus.EXPIRED
    assert world.cards(request.id) == [[RequestStatus.PENDING, RequestStatus.EXPIRED]]
    assert await expire_due_requests(world.deps) == 0
    assert await world.event_types() == [EventType.ACTION_REQUESTED, EventType.ACTION_EXPIRED]


# Failing and retrying


async def test_a_failed_driver_changes_nothing_and_the_action_can_be_retried() -> None:
    world = await make_world(script=(DriverResult(False, "HTTP 503: deployer is down"),))
    request = await ask_prompt_back(world)
    await approve_action(world.deps, request.id, "U_B")

    failed = await world.stored(request.id)
    assert (failed.status, failed.outcome) == (RequestStatus.FAILED, "HTTP 503: deployer is down")
    assert await world.prompt() == "v13"
    events = await world.events()
    assert events[-1].type is EventType.ACTION_FAILED
    assert events[-1].data["outcome"] == "HTTP 503: deployer is down"
    assert world.cards(request.id) == [[RequestStatus.PENDING, RequestStatus.FAILED]]

    world.clock.advance(timedelta(minutes=2))
    retried = await retry_action(world.deps, request.id, "U_D")
    assert retried.id == request.id
    applied = await world.stored(request.id)
    assert (applied.status, applied.attempts) == (RequestStatus.APPLIED, 2)
    assert applied.decided_by == "U_B"  # the approval still stands
    assert await world.prompt() == "v12"
    change = (await registry.running(world.deps, "support-bot")).last_change[Component.PROMPT]
    assert change.actor == "U_B"
    assert [e.type for e in await world.events()][-2:] == [
        EventType.ACTION_REQUESTED,  # retried by U_D
        EventType.ACTION_APPLIED,
    ]
    assert len(world.driver.requests) == 2
    with pytest.raises(Conflict, match="Only a failed action can be retried"):
        await retry_action(world.deps, request.id, "U_A")


async def test_a_timed_out_driver_says_so() -> None:
    world = await make_world(script=(DriverResult(False, "no answer within 5 s", timed_out=True),))
    request = await ask_prompt_back(world)
    await approve_action(world.deps, request.id, "U_B")
    stored = await world.stored(request.id)
    assert stored.status is RequestStatus.FAILED
    assert stored.outcome == "timed out: no answer within 5 s"


async def test_a_failed_action_is_too_old_to_retry_after_it_would_have_expired() -> None:
    world = await make_world(script=(DriverResult(False, "HTTP 500"),))
    request = await ask_prompt_back(world)
    await approve_action(world.deps, request.id, "U_B")
    world.clock.advance(EXPIRES)
    with pytest.raises(Conflict, match="too old to retry"):
        await retry_action(world.deps, request.id, "U_A")
    assert (await world.stored(request.id)).status is RequestStatus.FAILED


async def test_someone_without_a_role_cannot_retry() -> None:
    world = await make_world(script=(DriverResult(False, "HTTP 500"),))
    request = await ask_prompt_back(world)
    await approve_action(world.deps, request.id, "U_B")
    with pytest.raises(NotAllowed, match="may retry"):
        await retry_action(world.deps, request.id, "U_STRANGER")


async def test_a_request_overtaken_by_a_change_fails_without_applying() -> None:
    world = await make_world()
    request = await ask_prompt_back(world)
    await registry.record_change(world.deps, "support-bot", "prompt", "v14", "ci")
    await approve_action(world.deps, request.id, "U_B")

    stored = await world.stored(request.id)
    assert stored.status is RequestStatus.FAILED
    assert stored.outcome is not None
    assert "prompt changed to `v14` since this was asked (it was `v13`)" in stored.outcome
    assert "nothing applied" in stored.outcome
    assert world.driver.requests == []
    assert await world.prompt() == "v14"


async def test_without_a_driver_factory_an_outside_driver_fails_plainly() -> None:
    world = await make_world()
    deps = replace(world.deps, drivers=None)
    request = await ask_rollback(deps, world.channel, "U_A", None, "prompt", "v12", "r")
    await approve_action(deps, request.id, "U_B")
    stored = await world.stored(request.id)
    assert stored.status is RequestStatus.FAILED
    assert stored.outcome == "no driver for this service is set up in this process"


async def test_the_built_in_driver_needs_no_outside_system() -> None:
    world = await make_world(service=replace(SUPPORT_BOT, driver=BUILTIN_DRIVER))
    request = await ask_prompt_back(world)
    await approve_action(world.deps, request.id, "U_B")
    stored = await world.stored(request.id)
    assert (stored.status, stored.outcome) == (RequestStatus.APPLIED, BUILTIN_DETAIL)
    assert world.drivers.specs == []


# Verifying and undoing


async def test_a_passing_verification_is_reported_and_recorded() -> None:
    verifier = FakeVerifier(VerificationResult(True, "score 0.91 ≥ 0.85", 0.91))
    world = await make_world(verifier=verifier, service=replace(SUPPORT_BOT, verification=EVAL))
    request = await ask_prompt_back(world)
    await approve_action(world.deps, request.id, "U_B")

    assert verifier.checked == [(EVAL, request.id)]
    report = world.chat.posted[-1].message
    assert isinstance(report, VerificationReport)
    assert report.result.passed and report.request.id == request.id
    assert (await world.stored(request.id)).verification == "passed: score 0.91 ≥ 0.85"
    verified = (await world.events())[-1]
    assert verified.type is EventType.ACTION_VERIFIED
    assert (verified.data["passed"], verified.data["score"]) == (True, 0.91)
    assert verified.text == "verified roll back support-bot prompt v13 → v12"


async def test_a_failed_verification_can_be_undone() -> None:
    verifier = FakeVerifier(VerificationResult(False, "score 0.62 < 0.85", 0.62))
    world = await make_world(verifier=verifier, service=replace(SUPPORT_BOT, verification=EVAL))
    request = await ask_prompt_back(world)
    await approve_action(world.deps, request.id, "U_B")

    stored = await world.stored(request.id)
    assert stored.status is RequestStatus.APPLIED  # it ran; it just did not help
    assert stored.verification == "FAILED: score 0.62 < 0.85"
    verified = (await world.events())[-1]
    assert (verified.type, verified.data["passed"], verified.data["score"]) == (
        EventType.ACTION_VERIFIED,
        False,
        0.62,
    )
    assert verified.text.startswith("verification FAILED after roll back")
    report = world.chat.posted[-1].message
    assert isinstance(report, VerificationReport) and not report.result.passed

    undo = await ask_undo_request(world.deps, request.id, "U_A")
    assert undo.id != request.id
    assert undo.action == Action(
        ActionKind.ROLLBACK, "support-bot", (VersionMove(Component.PROMPT, "v12", "v13"),)
    )
    assert (undo.status, undo.reason) == (RequestStatus.PENDING, f"undo request {request.id}")
    verifier.script.append(VerificationResult(True, "score 0.9 ≥ 0.85", 0.9))
    await approve_action(world.deps, undo.id, "U_C")
    assert await world.prompt() == "v13"


# Planning


async def test_a_rollback_without_a_version_goes_to_the_last_known_good_one() -> None:
    world = await make_world()
    with pytest.raises(UsageError, match=r"no known-good version other than the one running"):
        await plans.plan_rollback(world.deps, "support-bot", "prompt", None)
    await registry.mark_known_good(world.deps, "support-bot", "prompt", "v13", "ci", "evals")
    with pytest.raises(UsageError, match=r"Recent versions: `v13`, `v12`\."):
        await plans.plan_rollback(world.deps, "support-bot", "prompt", None)
    await registry.mark_known_good(world.deps, "support-bot", "prompt", "v12", "ci", "evals")
    action = await plans.plan_rollback(world.deps, "support-bot", "prompt", None)
    assert action.moves == (VersionMove(Component.PROMPT, "v13", "v12"),)


@pytest.mark.parametrize(
    ("component", "version", "says"),
    [
        ("prompt", "v99", r"never ran `v99`\. Recent versions: `v13`, `v12`\."),
        ("prompt", "v13", "already runs `v13`"),
        ("prompt", "v 1", "one word"),
        ("memory", "m1", "Its components: prompt, model, retrieval_index"),
    ],
)
async def test_bad_rollbacks_are_refused(component: str, version: str, says: str) -> None:
    world = await make_world()
    with pytest.raises(UsageError, match=says):
        await plans.plan_rollback(world.deps, "support-bot", component, version)


@pytest.mark.parametrize(
    ("flag", "value", "says"),
    [
        ("strict-grounding", "25%", "`strict-grounding` is on or off; got `25%`"),
        ("new-retriever", "150%", "rollout percentage: give 0-100%"),
        ("kill_switch", "50%", "`kill_switch` is on or off"),
        ("new-retriever", "30", "already 30"),
        (
            "new-retriver",
            "on",
            "has no flag `new-retriver`. Its flags: dry_run, kill_switch, new-retriever, "
            "strict-grounding",
        ),
    ],
)
async def test_bad_flag_flips_are_refused(flag: str, value: str, says: str) -> None:
    world = await make_world()
    with pytest.raises(UsageError, match=re.escape(says)):
        await plans.plan_flag(world.deps, "support-bot", flag, value)


async def test_a_percentage_flag_takes_on_and_off_as_100_and_0() -> None:
    world = await make_world()
    action = await plans.plan_flag(world.deps, "support-bot", "new-retriever", "off")
    assert action.moves == (FlagMove("new-retriever", FlagKind.PERCENTAGE, 30, 0),)
    full = await plans.plan_flag(world.deps, "support-bot", "new-retriever", "ON")
    assert full.moves == (FlagMove("new-retriever", FlagKind.PERCENTAGE, 30, 100),)
    switch = await plans.plan_switch(world.deps, "support-bot", ActionKind.KILL_SWITCH, True)
    assert switch.kind is ActionKind.KILL_SWITCH
    assert switch.describe() == "kill switch support-bot kill_switch off → on"


async def test_a_restore_moves_only_the_components_that_differ() -> None:
    world = await make_world(bad_prompt=False)
    deps = world.deps
    await registry.record_change(deps, "support-bot", "prompt", "v13", "ci")
    world.clock.advance(timedelta(hours=1))
    await registry.record_change(deps, "support-bot", "model", "gpt-y", "ci")
    world.clock.advance(timedelta(hours=1))

    half_way = await plans.plan_restore(deps, "support-bot", START + timedelta(minutes=30))
    assert half_way.moves == (VersionMove(Component.MODEL, "gpt-y", "gpt-x"),)
    before = await plans.plan_restore(deps, "support-bot", START - timedelta(minutes=1))
    assert before == Action(
        ActionKind.RESTORE,
        "support-bot",
        (
            VersionMove(Component.PROMPT, "v13", "v12"),
            VersionMove(Component.MODEL, "gpt-y", "gpt-x"),
        ),
    )
    with pytest.raises(UsageError, match="runs the same versions as then; nothing to restore"):
        await plans.plan_restore(deps, "support-bot", world.clock.now())
    with pytest.raises(UsageError, match="moment in the past"):
        await plans.plan_restore(deps, "support-bot", world.clock.now() + timedelta(minutes=1))


async def test_a_restore_applies_several_components_in_one_request() -> None:
    world = await make_world(bad_prompt=False)
    deps = world.deps
    world.clock.advance(timedelta(minutes=1))
    await registry.record_change(deps, "support-bot", "prompt", "v13", "ci")
    await registry.record_change(deps, "support-bot", "retrieval_index", "idx-8", "ci")
    world.clock.advance(timedelta(minutes=10))

    request = await ask_restore(
        deps, world.channel, "U_A", "support-bot", timedelta(minutes=10, seconds=30), None, ""
    )
    assert request.action.kind is ActionKind.RESTORE and len(request.action.moves) == 2
    assert request.risk is Risk.HIGH
    await approve_action(deps, request.id, "U_B")

    running = await registry.running(deps, "support-bot")
    assert running.versions == SUPPORT_BOT.components
    changes = await registry.recent_changes(deps, "support-bot", timedelta(hours=1))
    ours = [c for c in changes if c.source == f"steadyhand restore request {request.id}"]
    assert sorted((c.component, c.from_version, c.to_version) for c in ours) == [
        (Component.PROMPT, "v13", "v12"),
        (Component.RETRIEVAL_INDEX, "idx-8", "idx-7"),
    ]
    assert {c.actor for c in ours} == {"U_B"}
    assert len(world.driver.requests) == 1
    assert [e.type for e in await world.events()].count(EventType.ACTION_APPLIED) == 1


async def test_a_request_cut_off_while_applying_becomes_failed_and_retryable() -> None:
    world = await make_world()
    request = await ask_prompt_back(world)
    # The process stops between claiming the request and applying it.
    async with world.deps.uow() as uow:
        await uow.actions.transition(
            request.id,
            [RequestStatus.PENDING],
            RequestStatus.APPLYING,
            by="U_B",
            at=START,
            started=world.clock.now(),
        )
        await uow.commit()
    world.clock.advance(timedelta(minutes=9))
    assert await expire_due_requests(world.deps) == 0  # a slow driver is not a stopped one
    world.clock.advance(timedelta(minutes=2))
    assert await expire_due_requests(world.deps) == 1

    failed = await world.stored(request.id)
    assert failed.status is RequestStatus.FAILED
    assert failed.outcome is not None and failed.outcome.startswith("interrupted")
    assert (await world.events())[-1].type is EventType.ACTION_FAILED
    assert world.cards(request.id)[-1][-1] is RequestStatus.FAILED
    assert await world.prompt() == "v13"
