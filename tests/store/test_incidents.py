from __future__ import annotations

from dataclasses import replace
from datetime import UTC, timedelta

import pytest

from bot.domain.checklists import ChecklistStep
from bot.domain.kinds import IncidentStatus
from bot.domain.triage import Answer, YesNoUnknown
from bot.ports import UnitOfWorkFactory
from tests.store.examples import T0, T0_UTC, answers, bare_incident, incident


async def test_every_field_round_trips(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.incidents.add(incident())
        await uow.incidents.add(bare_incident())
        await uow.commit()

    async with uow_factory() as uow:
        full = await uow.incidents.get("inc-1")
        bare = await uow.incidents.get("inc-2")

    assert full == incident()
    assert bare == bare_incident()
    assert full is not None and full.answers is not None and bare is not None
    for at in (
        full.opened_at,
        full.resolved_at,
        full.steps[1].checked_at,
        full.answers.answered_at,
        bare.opened_at,
    ):
        assert at is not None and at.tzinfo is UTC
    assert full.opened_at == T0_UTC and full.opened_at.microsecond == T0.microsecond


async def test_get_by_channel_and_missing(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.incidents.add(incident())
        await uow.commit()
        assert await uow.incidents.get_by_channel("C1") == incident()
        assert await uow.incidents.get_by_channel("C-other") is None
        assert await uow.incidents.get("inc-missing") is None


async def test_uncommitted_work_is_rolled_back(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.incidents.add(incident())
        assert await uow.incidents.get("inc-1") == incident()  # a unit of work sees its writes

    async with uow_factory() as uow:
        assert await uow.incidents.get("inc-1") is None


async def test_a_changed_object_is_not_saved_without_update(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await uow.incidents.add(incident())
        loaded = await uow.incidents.get("inc-1")
        assert loaded is not None
        loaded.title = "changed in memory only"
        loaded.steps[0] = loaded.steps[0].check("U9", T0)
        await uow.commit()

    async with uow_factory() as uow:
        assert await uow.incidents.get("inc-1") == incident()


async def test_update_writes_own_fields_and_answers_not_steps(
    uow_factory: UnitOfWorkFactory,
) -> None:
    original = replace(incident(), answers=None, status=IncidentStatus.INVESTIGATING)
    async with uow_factory() as uow:
        await uow.incidents.add(original)
        await uow.commit()

    async with uow_factory() as uow:
        loaded = await uow.incidents.get("inc-1")
        assert loaded is not None
        loaded.resolve(T0 + timedelta(hours=1), "fixed")
        loaded.answers = answers()
        loaded.checklist_ts.append("1795366999.000900")
        loaded.steps[0] = loaded.steps[0].check("U9", T0)  # not written by update()
        await uow.incidents.update(loaded)
        await uow.commit()

    async with uow_factory() as uow:
        stored = await uow.incidents.get("inc-1")
    assert stored is not None
    assert stored.status is IncidentStatus.RESOLVED
    assert stored.summary == "fixed"
    assert stored.answers == answers()
    assert stored.checklist_ts[-1] == "1795366999.000900"
    assert stored.steps == original.steps


async def test_update_replaces_and_clears_answers(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.incidents.add(incident())
        changed = replace(
            incident(), answers=replace(answers(), rollback_available=Answer(YesNoUnknown.YES))
        )
        await uow.incidents.update(changed)
        await uow.commit()
        assert await uow.incidents.get("inc-1") == changed

        await uow.incidents.update(replace(changed, answers=None))
        await uow.commit()
        stored = await uow.incidents.get("inc-1")
        assert stored is not None and stored.answers is None


async def test_update_step_leaves_other_steps_and_fields(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.incidents.add(incident())
        await uow.commit()

    # Two people, two units of work, loaded before either writes: neither undoes the other.
    first, second = uow_factory(), uow_factory()
    async with first, second:
        a = await first.incidents.get("inc-1")
        b = await second.incidents.get("inc-1")
        assert a is not None and b is not None
        await first.incidents.update_step("inc-1", a.steps[0].check("U7", T0))
        await first.commit()
        await second.incidents.update_step("inc-1", b.steps[2].check("U8", T0))
        await second.commit()

    async with uow_factory() as uow:
        stored = await uow.incidents.get("inc-1")
    assert stored is not None
    assert [(s.checked_by, s.checked_at) for s in stored.steps] == [
        ("U7", T0_UTC),
        ("U2", T0_UTC),
        ("U8", T0_UTC),
    ]
    assert replace(stored, steps=[]) == replace(incident(), steps=[])


async def test_update_step_can_uncheck(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.incidents.add(incident())
        await uow.incidents.update_step("inc-1", incident().steps[1].uncheck())
        await uow.commit()
        stored = await uow.incidents.get("inc-1")
    assert stored is not None and not stored.steps[1].done and stored.steps[1].checked_at is None


async def test_replace_steps(uow_factory: UnitOfWorkFactory) -> None:
    new_steps = [
        ChecklistStep(0, "First checks", "Check the retriever's hit rate"),
        ChecklistStep(1, "Rollback", "Pin the previous index", action="rollback:retrieval_index"),
    ]
    async with uow_factory() as uow:
        await uow.incidents.add(incident())
        await uow.incidents.add(bare_incident())
        await uow.incidents.replace_steps("inc-1", new_steps)
        await uow.incidents.replace_steps("inc-2", new_steps)
        await uow.commit()

    async with uow_factory() as uow:
        one = await uow.incidents.get("inc-1")
        two = await uow.incidents.get("inc-2")
        assert one is not None and two is not None
        assert one.steps == new_steps and two.steps == new_steps
        await uow.incidents.replace_steps("inc-1", [])
        await uow.commit()
        emptied = await uow.incidents.get("inc-1")
        assert emptied is not None and emptied.steps == []


async def test_writing_what_is_not_there_fails(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        with pytest.raises(LookupError):
            await uow.incidents.update(incident())
        await uow.incidents.add(bare_incident())
        with pytest.raises(LookupError):
            await uow.incidents.update_step("inc-2", ChecklistStep(0, "First checks", "x"))
