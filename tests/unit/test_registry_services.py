"""The registry's use cases over the in-memory fakes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import ManualClock
from bot.domain import messages as m
from bot.domain.errors import NotFound, UsageError
from bot.domain.kinds import IncidentKind
from bot.domain.registry import (
    Catalog,
    Component,
    FlagKind,
    FlagSpec,
    FlagState,
    ServiceSpec,
    built_in_flags,
)
from bot.domain.timeline import EventType
from bot.runbooks.loader import load_library
from bot.services import registry
from bot.services.clean_versions import mark_clean_versions
from bot.services.deps import Deps, Policy
from bot.services.lifecycle import resolve_incident
from bot.services.opening import OpenIncident, open_incident
from bot.services.triage_context import five_questions_form
from tests.fake_chat import FakeChat
from tests.fakes import FakeUnitOfWorkFactory
from tests.unit.test_services import ROOT

START = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
ROLLOUT = FlagSpec("new-retriever", FlagKind.PERCENTAGE, 30)
SUPPORT_BOT = ServiceSpec(
    "support-bot",
    {Component.PROMPT: "v12", Component.MODEL: "gpt-x"},
    {**built_in_flags(), "new-retriever": ROLLOUT},
)


def make_deps() -> Deps:
    return Deps(
        uow=FakeUnitOfWorkFactory(),
        chat=FakeChat(),
        clock=ManualClock(START),
        runbooks=load_library(ROOT / "runbooks"),
        policy=Policy(known_good_after=timedelta(hours=24)),
        catalog=Catalog([SUPPORT_BOT, ServiceSpec("search")]),
    )


def clock(deps: Deps) -> ManualClock:
    assert isinstance(deps.clock, ManualClock)
    return deps.clock


async def test_a_change_moves_the_version_from_the_current_one() -> None:
    deps = make_deps()
    first = await registry.record_change(deps, "support-bot", "prompt", "v13", "ci", eval_score=0.7)
    assert (first.from_version, first.to_version, first.at) == ("v12", "v13", START)
    clock(deps).advance(timedelta(minutes=5))
    second = await registry.record_change(deps, "support-bot", "PROMPT", "v14", "U1")
    assert second.from_version == "v13"
    now = await registry.running(deps, "support-bot")
    assert now.versions == {Component.PROMPT: "v14", Component.MODEL: "gpt-x"}
    assert now.last_change == {Component.PROMPT: second}
    assert now.flags["new-retriever"] == FlagState("support-bot", "new-retriever", ROLLOUT.kind, 30)
    assert now.flags["kill_switch"].value is False
    assert await registry.recent_changes(deps, None, timedelta(hours=1)) == [second, first]
    assert await registry.recent_changes(deps, "support-bot", timedelta(minutes=1)) == [second]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("billing", "prompt", "v1"), "Known services: support-bot, search"),
        (("support-bot", "promt", "v1"), "Valid components: model, prompt"),
        (("support-bot", "memory", "v1"), "Its components: prompt, model"),
        (("search", "prompt", "v1"), "none declared"),
        (("support-bot", "prompt", "v 2"), "one word"),
        (("support-bot", "prompt", "v12"), "already runs `v12`"),
    ],
)
async def test_bad_changes_are_refused_with_the_valid_choices(
    args: tuple[str, str, str], says: str
) -> None:
    deps = make_deps()
    with pytest.raises((UsageError, NotFound), match=says):
        await registry.record_change(deps, *args, "ci")
    assert await registry.recent_changes(deps, None, timedelta(days=1)) == []


@pytest.mark.parametrize("score", [-0.1, 1.5, 87.0, float("nan")])
async def test_an_eval_score_is_between_0_and_1(score: float) -> None:
    with pytest.raises(UsageError, match="0 to 1"):
        await registry.record_change(
            make_deps(), "support-bot", "prompt", "v13", "ci", eval_score=score
        )


async def test_a_repeated_idempotency_key_returns_the_first_change() -> None:
    deps = make_deps()
    first = await registry.record_change(
        deps, "support-bot", "prompt", "v13", "ci", idempotency_key="k"
    )
    again = await registry.record_change(
        deps, "support-bot", "prompt", "v13", "ci", idempotency_key="k"
    )
    assert again == first
    assert len(await registry.recent_changes(deps, None, timedelta(days=1))) == 1


async def test_a_change_goes_on_the_timeline_of_open_incidents_of_its_service() -> None:
    deps = make_deps()
    cmd = OpenIncident(IncidentKind.QUALITY, "Answers degraded", "U1", service="support-bot")
    open_one = await open_incident(deps, cmd)
    resolved = await open_incident(
        deps, OpenIncident(IncidentKind.COST, "Bill", "U1", service="support-bot")
    )
    await resolve_incident(deps, resolved, "U1", "done")
    change = await registry.record_change(deps, "support-bot", "prompt", "v13", "ci")
    async with deps.uow() as uow:
        events = await uow.timeline.for_incident(open_one.id)
        closed = await uow.timeline.for_incident(resolved.id)
    recorded = [e for e in events if e.type is EventType.CHANGE_RECORDED]
    assert len(recorded) == 1 and recorded[0].data["change_id"] == change.id
    assert recorded[0].text == "support-bot prompt: v12 → v13"
    assert not [e for e in closed if e.type is EventType.CHANGE_RECORDED]


async def test_known_good_needs_a_version_the_component_ran() -> None:
    deps = make_deps()
    await registry.record_change(deps, "support-bot", "prompt", "v13", "ci")
    with pytest.raises(UsageError, match="Recent versions: `v13`, `v12`"):
        await registry.mark_known_good(deps, "support-bot", "prompt", "v99", "U1", "r")
    mark = await registry.mark_known_good(deps, "support-bot", "prompt", "v12", "U1", "marked")
    assert (await registry.running(deps, "support-bot")).known_good == {Component.PROMPT: mark}


async def test_a_snapshot_is_the_versions_at_a_moment() -> None:
    deps = make_deps()
    await registry.record_change(deps, "support-bot", "prompt", "v13", "ci")
    clock(deps).advance(timedelta(hours=1))
    await registry.record_change(deps, "support-bot", "model", "gpt-y", "ci")
    before = await registry.snapshot(deps, "support-bot", START + timedelta(minutes=30))
    assert before.versions == {Component.PROMPT: "v13", Component.MODEL: "gpt-x"}


async def test_a_version_that_ran_clean_becomes_known_good_once() -> None:
    deps = make_deps()
    await registry.record_change(deps, "support-bot", "prompt", "v13", "ci")
    clock(deps).advance(timedelta(hours=23))
    assert await mark_clean_versions(deps) == 0
    clock(deps).advance(timedelta(hours=1))
    assert await mark_clean_versions(deps) == 1
    assert await mark_clean_versions(deps) == 0
    mark = (await registry.running(deps, "support-bot")).known_good[Component.PROMPT]
    assert (mark.version, mark.reason) == ("v13", "ran clean for 1d")


async def test_an_incident_since_the_change_keeps_it_from_known_good() -> None:
    deps = make_deps()
    await registry.record_change(deps, "support-bot", "prompt", "v13", "ci")
    clock(deps).advance(timedelta(hours=2))
    cmd = OpenIncident(IncidentKind.QUALITY, "Answers degraded", "U1", service="support-bot")
    await open_incident(deps, cmd)
    clock(deps).advance(timedelta(days=3))
    assert await mark_clean_versions(deps) == 0


async def test_opening_an_incident_prefills_questions_two_and_three() -> None:
    deps = make_deps()
    await registry.record_change(deps, "support-bot", "prompt", "v13", "ci", eval_score=0.61)
    await registry.mark_known_good(deps, "support-bot", "prompt", "v12", "U1", "marked")
    clock(deps).advance(timedelta(minutes=10))
    cmd = OpenIncident(IncidentKind.QUALITY, "Answers degraded", "U1", service="support-bot")
    incident = await open_incident(deps, cmd)
    assert isinstance(deps.chat, FakeChat)
    questions = [p.message for p in deps.chat.posted if isinstance(p.message, m.FiveQuestions)]
    context = questions[0].context
    assert context is not None
    assert "v12 → v13 by ci · eval 0.61" in context.changes_text()
    assert "prompt → v12" in context.rollback_text()
    assert "new-retriever (30%)" in context.rollback_text()
    form = await five_questions_form(deps, incident.id)
    assert form.context == context
