"""Delivering pending Slack work: each step done once, resumed after failures and restarts.

A step is claimed (a lease, so one process at a time works on an incident), done against Slack,
and marked done in the same unit of work that saves what it produced (the channel's ID, a
message's ts). A Slack failure releases it with a backoff; a process that dies leaves the lease
to expire. Either way the step may have half happened, so each one first checks:

- creating the channel remembers the chosen name before asking Slack; a retry that finds that
  name taken adopts the channel the bot is in rather than making a second one;
- a post carries its work key in the message's metadata; a retry first looks for it in the
  channel's recent history;
- the post-mortem's file carries its work key in its name; a retry first looks for it among
  the files shared in the channel's recent history;
- inviting and setting the topic can simply be done again.

A step that runs too long is given back before its lease runs out (STEP_TIME_LIMIT), so no
other process claims it while it still runs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain import messages as m
from bot.domain.checklists import pages
from bot.domain.drivers import VerificationResult
from bot.domain.incidents import Incident, channel_name
from bot.domain.pending_work import (
    NewWork,
    PendingWork,
    Step,
    cancels_opening,
    gives_up,
    retry_delay,
)
from bot.domain.timeline import BOT_ACTOR, EventType
from bot.ports import ChannelNameTaken, ChatError, UnitOfWork
from bot.services.deps import Deps
from bot.services.incident_texts import runbook_problem, topic
from bot.services.pending_posts import draw, keep_ts
from bot.services.postmortem_delivery import postmortem_filename, record_posted, upload_postmortem
from bot.services.timeline import record
from bot.services.triage_context import triage_context

log = logging.getLogger(__name__)

MAX_NAME_ATTEMPTS = 20
# Bounds one run, so a request or a tick never spins; what is left waits for the next.
MOST_STEPS_PER_RUN = 500


@dataclass(frozen=True)
class Delivered:
    done: int = 0
    failed: int = 0


async def deliver_pending(deps: Deps, incident_id: str | None = None) -> Delivered:
    """Do the work that is due, every incident's (the scheduler) or one incident's (right
    after the request that queued it)."""
    done = failed = 0
    while done + failed < MOST_STEPS_PER_RUN:
        # One at a time, claimed just before it runs: a batch claimed at once would see its
        # last leases run out while the first incidents are worked on.
        async with deps.uow() as uow:
            claimed = await uow.pending_work.claim(
                deps.clock.now(), incident_id=incident_id, limit=1
            )
            await uow.commit()
        if not claimed:
            break
        for work in claimed:
            chain_done, chain_failed = await _run_chain(deps, work)
            done, failed = done + chain_done, failed + chain_failed
    return Delivered(done, failed)


async def deliver_now(deps: Deps, incident_id: str) -> str | None:
    """Deliver the incident's due work; None if nothing is left, else why."""
    await deliver_pending(deps, incident_id)
    return await still_owed(deps, incident_id)


async def deliver_or_tell(deps: Deps, incident_id: str, done: str, verb: str) -> m.Notice | None:
    """Deliver the incident's due work; if Slack fails, say what is kept and that it will
    follow (`done`: what is kept; `verb`: what happens to it in the channel)."""
    await deliver_pending(deps, incident_id)
    return await owed_notice(deps, incident_id, done, verb)


async def owed_notice(deps: Deps, incident_id: str, done: str, verb: str) -> m.Notice | None:
    """What to tell the person who asked, when the incident still owes Slack work."""
    problem = await still_owed(deps, incident_id)
    if problem is None:
        return None
    return m.Notice(
        f"{done}, but Slack has not taken it yet ({problem}). "
        f"It will be {verb} in the channel as soon as Slack answers again.",
        is_error=True,
    )


async def queue(
    deps: Deps, uow: UnitOfWork, incident_id: str, *steps: tuple[Step, dict[str, Any]]
) -> None:
    """Add steps to the incident's pending work, in the caller's unit of work."""
    work = [
        NewWork(f"{incident_id}:{step.value}:{deps.new_id()}", incident_id, step, payload)
        for step, payload in steps
    ]
    await uow.pending_work.add(work, deps.clock.now())


async def still_owed(deps: Deps, incident_id: str) -> str | None:
    """Why the incident still owes Slack work (Slack's last error), or None if it owes none."""
    async with deps.uow() as uow:
        pending = await uow.pending_work.pending(incident_id)
    if not pending:
        return None
    return pending[0].last_error or "still under way"


async def _run_chain(deps: Deps, work: PendingWork) -> tuple[int, int]:
    """Do the claimed step and the incident's steps after it, each claimed in the unit of work
    that marks the one before done (one transaction a step, which matters under load), until
    one fails or none is left; return how many were done and failed."""
    done = 0
    following: PendingWork | None = work
    while following is not None and done < MOST_STEPS_PER_RUN:
        current = following
        try:
            following = await _within_lease(deps, current)
        except ChatError as exc:
            await _failed(deps, current, exc)
            return done, 1
        done += 1
    return done, 0


async def _within_lease(deps: Deps, work: PendingWork) -> PendingWork | None:
    """Do the step, or give it back unfinished before its lease runs out: a step still running
    when another process may claim it would be done twice. What it left half done is found by
    the next try, as after any failure whose outcome is unknown."""
    seconds = deps.step_time_limit.total_seconds()
    limit = asyncio.timeout(seconds)
    try:
        async with limit:
            return await _do(deps, work)
    except TimeoutError:
        if not limit.expired():  # a time limit of the step's own, e.g. the database's
            raise
        raise ChatError(
            f"Slack did not finish {_what(work)} within {seconds:.0f} s", passing=True
        ) from None


async def _failed(deps: Deps, work: PendingWork, exc: ChatError) -> None:
    now = deps.clock.now()
    given_up = gives_up(work, exc.passing)
    if given_up and cancels_opening(work):
        await _cancel_opening(deps, work, exc)
        return
    async with deps.uow() as uow:
        if given_up:
            log.error("Gave up on %s for incident %s: %s", work.step, work.incident_id, exc)
            await uow.pending_work.done(work.key, now)
            await _record_dropped(uow, work, now, exc, f"Slack refused {_what(work)}")
        else:
            wait = retry_delay(work.attempts)
            log.warning(
                "%s for incident %s failed (try %d), again in %.0f s: %s",
                work.step,
                work.incident_id,
                work.attempts,
                wait.total_seconds(),
                exc,
            )
            await uow.pending_work.failed(work.key, str(exc), now + wait)
        await uow.commit()
    if given_up and work.step in _TOLD_WHEN_GIVEN_UP:
        await _tell_given_up(deps, work, _TOLD_WHEN_GIVEN_UP[work.step].format(error=exc))


async def _record_dropped(
    uow: UnitOfWork, work: PendingWork, now: datetime, exc: ChatError, what: str, also: str = ""
) -> None:
    gave_up = f"gave up {also}".rstrip()
    await record(
        uow,
        work.incident_id,
        EventType.SLACK_WORK_DROPPED,
        BOT_ACTOR,
        now,
        f"{what} {work.attempts} times; {gave_up}: {exc}",
        step=work.step.value,
        error=str(exc),
    )


# What the opener is told when Slack will not make the channel: what it said, and what to do.
_OPENING_CANCELLED = (
    "Could not open the incident “{title}”: Slack refused to create its channel {tries} times "
    "({error}), so it is cancelled and nothing more will be tried. Fix what Slack names (a "
    "workspace setting that restricts who may create channels, a name it will not take) and "
    "run `/incident open` again."
)

# What the channel is told when a step is given up, where people can do it themselves.
_TOLD_WHEN_GIVEN_UP = {
    Step.POSTMORTEM_UPLOAD: (
        "The draft post-mortem could not be uploaded ({error}). "
        "Run `/incident postmortem` to try again."
    ),
}


async def _cancel_opening(deps: Deps, work: PendingWork, exc: ChatError) -> None:
    """Slack will not make the incident's channel: drop all the work it still owes, close it
    as cancelled (so the next alert of its group opens a new one), and tell who opened it."""
    now = deps.clock.now()
    log.error("Gave up opening incident %s: %s", work.incident_id, exc)
    async with deps.uow() as uow:
        incident = await uow.incidents.get(work.incident_id)
        for owed in await uow.pending_work.pending(work.incident_id):
            await uow.pending_work.done(owed.key, now)
        await _record_dropped(
            uow, work, now, exc, "Slack refused to create the channel", "and cancelled the incident"
        )
        if incident is not None and incident.is_open:
            incident.resolve(now, f"Cancelled: Slack refused to create its channel ({exc})")
            await uow.incidents.update(incident)
            await uow.reminders.cancel_for(incident.id)
        await uow.commit()
    if incident is not None:
        told = _OPENING_CANCELLED.format(title=incident.title, error=exc, tries=work.attempts)
        await _tell_opener(deps, incident, m.Notice(told, is_error=True))


async def _tell_opener(deps: Deps, incident: Incident, message: m.Message) -> None:
    """Best effort, in a direct message (the person who ran `/incident open`), else in the
    stakeholders' channel (an alert has no person to tell); the timeline says it either way."""
    person = None if incident.opened_by == BOT_ACTOR else incident.opened_by
    for where in (person, deps.policy.stakeholder_channel):
        if not where:
            continue
        try:
            await deps.chat.post(where, message)
            return
        except ChatError as exc:
            log.warning("Could not tell %s about incident %s: %s", where, incident.id, exc)


async def _tell_given_up(deps: Deps, work: PendingWork, text: str) -> None:
    """Best effort: the timeline already says it was given up."""
    async with deps.uow() as uow:
        incident = await uow.incidents.get(work.incident_id)
    if incident is None or incident.channel_id is None:
        return
    try:
        await deps.chat.post(incident.channel_id, m.Notice(text, is_error=True))
    except ChatError as exc:
        log.warning("Could not tell incident %s: %s", work.incident_id, exc)


async def _do(deps: Deps, work: PendingWork) -> PendingWork | None:
    """Do one step; return the incident's next step, claimed, if it is due."""
    async with deps.uow() as uow:
        incident = await uow.incidents.get(work.incident_id)
    if incident is None:  # nothing left to do it for
        return await _finish(deps, work, None)
    if work.step is Step.CREATE_CHANNEL:
        return await _create_channel(deps, work, incident)
    # Never after a channel given up: that cancels the opening and drops every step after it.
    if incident.channel_id is None:
        raise ChatError(f"incident {incident.id} has no channel yet", passing=True)
    return await _STEPS[work.step](deps, work, incident, incident.channel_id)


async def _finish(deps: Deps, work: PendingWork, uow: UnitOfWork | None) -> PendingWork | None:
    """Mark the step done and claim the incident's next one, in the caller's unit of work
    (committed by it) or in its own."""
    if uow is None:
        async with deps.uow() as own:
            following = await _finish(deps, work, own)
            await own.commit()
        return following
    now = deps.clock.now()
    await uow.pending_work.done(work.key, now)
    claimed = await uow.pending_work.claim(now, incident_id=work.incident_id, limit=1)
    return claimed[0] if claimed else None


async def _finish_saving(
    deps: Deps, work: PendingWork, save: Callable[[UnitOfWork], Awaitable[None]]
) -> PendingWork | None:
    """Save what the step produced (a message's ts, a timeline event) and mark it done in one
    unit of work, so a step is never done without what it made being kept."""
    async with deps.uow() as uow:
        await save(uow)
        following = await _finish(deps, work, uow)
        await uow.commit()
    return following


# Opening


async def _create_channel(deps: Deps, work: PendingWork, incident: Incident) -> PendingWork | None:
    if incident.channel_id is None:
        channel, name = await _channel_for(deps, incident, adopt=work.tried_before)
    else:
        channel, name = incident.channel_id, incident.channel_name or ""
    async with deps.uow() as uow:
        fresh = await uow.incidents.get(incident.id)
        assert fresh is not None
        fresh.channel_id, fresh.channel_name = channel, name
        await uow.incidents.update(fresh)
        await record(
            uow,
            incident.id,
            EventType.CHANNEL_CREATED,
            BOT_ACTOR,
            deps.clock.now(),
            f"Created #{name}",
            channel=channel,
        )
        following = await _finish(deps, work, uow)
        await uow.commit()
    return following


async def _channel_for(deps: Deps, incident: Incident, *, adopt: bool) -> tuple[str, str]:
    """Ask for the remembered name (the first choice is remembered when the incident is
    stored), then the next ones, each remembered before Slack is asked for it."""
    names = [
        channel_name(incident.opened_at, incident.title, n) for n in range(1, MAX_NAME_ATTEMPTS + 1)
    ]
    remembered = incident.channel_name
    if remembered is not None:
        names = [remembered, *(n for n in names if n != remembered)]
    for name in names:
        async with deps.uow() as uow:
            if await uow.incidents.holds_channel_name(name, other_than=incident.id):
                continue
        if name != incident.channel_name:
            await _remember_name(deps, incident.id, name)
            incident.channel_name = name
        try:
            return await deps.chat.create_channel(name), name
        except ChannelNameTaken:
            # An earlier try asked for this very name and may have got it without hearing
            # back: a channel of that name the bot is in, which no other incident holds, is
            # that one. Any other taken name is somebody else's; try the next.
            if adopt and name == remembered and (adopted := await deps.chat.find_channel(name)):
                return adopted, name
    raise ChatError(
        f"no free channel name for “{incident.title}”; rename or archive old incident channels"
    )


async def _remember_name(deps: Deps, incident_id: str, name: str) -> None:
    async with deps.uow() as uow:
        fresh = await uow.incidents.get(incident_id)
        assert fresh is not None
        fresh.channel_name = name
        await uow.incidents.update(fresh)
        await uow.commit()


async def _invite(
    deps: Deps, work: PendingWork, incident: Incident, channel: str
) -> PendingWork | None:
    users = set(work.payload.get("users") or [])
    group = work.payload.get("group")
    if group and deps.directory is not None:
        users |= await deps.directory.group_members(str(group))
    if users:
        await deps.chat.invite(channel, sorted(users))
    return await _finish(deps, work, None)


async def _topic(
    deps: Deps, work: PendingWork, incident: Incident, channel: str
) -> PendingWork | None:
    await deps.chat.set_topic(channel, topic(incident))
    return await _finish(deps, work, None)


async def _header(
    deps: Deps, work: PendingWork, incident: Incident, channel: str
) -> PendingWork | None:
    runbook = deps.runbooks.get(incident.runbook_key) if incident.runbook_key else None
    problem = runbook_problem(deps, incident.kind, runbook)
    ts = await _post_once(deps, work, channel, m.IncidentHeader(incident, runbook, problem))
    return await _save(deps, work, incident.id, header_ts=ts)


async def _classify_offer(
    deps: Deps, work: PendingWork, incident: Incident, channel: str
) -> PendingWork | None:
    await _post_once(deps, work, channel, m.ClassifyOffer(incident.id))
    return await _finish(deps, work, None)


async def _checklist_page(
    deps: Deps, work: PendingWork, incident: Incident, channel: str
) -> PendingWork | None:
    chunks = pages(incident.steps)
    number = int(work.payload["page"])
    # Only the next page of the checklist the incident has now: after a runbook switch, what
    # the opening still owed posts the new pages, and the switch's own steps the rest.
    if number > len(chunks) or len(incident.checklist_ts) != number - 1:
        return await _finish(deps, work, None)
    page = m.ChecklistPage(incident.id, number, len(chunks), tuple(chunks[number - 1]))
    ts = await _post_once(deps, work, channel, page)
    async with deps.uow() as uow:
        fresh = await uow.incidents.get(incident.id)
        assert fresh is not None
        if len(fresh.checklist_ts) == number - 1:
            fresh.checklist_ts = [*fresh.checklist_ts, ts]
            await uow.incidents.update(fresh)
        following = await _finish(deps, work, uow)
        await uow.commit()
    return following


async def _checklist_retired(
    deps: Deps, work: PendingWork, incident: Incident, channel: str
) -> PendingWork | None:
    kind = str(work.payload["kind"])
    replaced = m.Notice(f"This checklist was replaced by the {kind} runbook's, posted below.")
    for ts in work.payload.get("pages") or []:
        await deps.chat.update(channel, str(ts), replaced)
    return await _finish(deps, work, None)


async def _questions(
    deps: Deps, work: PendingWork, incident: Incident, channel: str
) -> PendingWork | None:
    context = await triage_context(deps, incident)
    ts = await _post_once(deps, work, channel, m.FiveQuestions(incident, context))
    async with deps.uow() as uow:
        await record(
            uow,
            incident.id,
            EventType.QUESTIONS_ASKED,
            BOT_ACTOR,
            deps.clock.now(),
            "Asked the five questions",
        )
        following = await _save(deps, work, incident.id, questions_ts=ts, uow=uow)
        await uow.commit()
    return following


async def _alert_summary(
    deps: Deps, work: PendingWork, incident: Incident, channel: str
) -> PendingWork | None:
    async with deps.uow() as uow:
        alerts = await uow.alerts.for_incident(incident.id)
    page, unknown = work.payload.get("page"), work.payload.get("service_unknown")
    summary = m.AlertSummary(tuple(alerts), page, unknown)
    ts = await _post_once(deps, work, channel, summary)
    return await _finish_saving(
        deps, work, lambda uow: uow.alerts.save_summary(incident.id, ts, all_resolved_told=False)
    )


# Later messages


async def _status_update(
    deps: Deps, work: PendingWork, incident: Incident, channel: str
) -> PendingWork | None:
    p = work.payload
    at = datetime.fromisoformat(str(p["at"]))
    copy = bool(p.get("for_stakeholders"))
    where = str(p["channel"]) if copy else channel  # the copy goes to the stakeholders' channel
    update = m.StatusUpdate(incident, str(p["author"]), str(p["text"]), at, copy)
    await _post_once(deps, work, where, update)
    return await _finish(deps, work, None)


async def _header_refresh(
    deps: Deps, work: PendingWork, incident: Incident, channel: str
) -> PendingWork | None:
    if incident.header_ts is not None:
        runbook = deps.runbooks.get(incident.runbook_key) if incident.runbook_key else None
        problem = runbook_problem(deps, incident.kind, runbook)
        header = m.IncidentHeader(incident, runbook, problem)
        await deps.chat.update(channel, incident.header_ts, header)
    return await _finish(deps, work, None)


async def _questions_refresh(
    deps: Deps, work: PendingWork, incident: Incident, channel: str
) -> PendingWork | None:
    if incident.questions_ts is not None:
        await deps.chat.update(channel, incident.questions_ts, m.FiveQuestions(incident))
    return await _finish(deps, work, None)


async def _commander_changed(
    deps: Deps, work: PendingWork, incident: Incident, channel: str
) -> PendingWork | None:
    p = work.payload
    changed = m.CommanderChanged(str(p["previous"]), str(p["current"]), str(p["by"]))
    await _post_once(deps, work, channel, changed)
    return await _finish(deps, work, None)


async def _resolved(
    deps: Deps, work: PendingWork, incident: Incident, channel: str
) -> PendingWork | None:
    await _post_once(deps, work, channel, m.IncidentResolved(incident, str(work.payload["by"])))
    return await _finish(deps, work, None)


async def _action_card(
    deps: Deps, work: PendingWork, incident: Incident, channel: str
) -> PendingWork | None:
    request_id = str(work.payload["request"])
    async with deps.uow() as uow:
        request = await uow.actions.get(request_id)
    if request is None or request.message_ts is not None:
        return await _finish(deps, work, None)
    card = m.ActionCard(request, deps.policy.roles.approvers)
    ts = await _post_once(deps, work, request.channel_id, card)
    async with deps.uow() as uow:
        fresh = await uow.actions.get(request_id)
        assert fresh is not None
        fresh.message_ts = ts
        await uow.actions.save_outcome(fresh)
        following = await _finish(deps, work, uow)
        await uow.commit()
    return following


async def _action_card_edit(
    deps: Deps, work: PendingWork, incident: Incident, channel: str
) -> PendingWork | None:
    async with deps.uow() as uow:
        request = await uow.actions.get(str(work.payload["request"]))
    if request is not None and request.message_ts is not None:
        card = m.ActionCard(request, deps.policy.roles.approvers)
        await deps.chat.update(request.channel_id, request.message_ts, card)
    return await _finish(deps, work, None)


async def _verification_report(
    deps: Deps, work: PendingWork, incident: Incident, channel: str
) -> PendingWork | None:
    p = work.payload
    async with deps.uow() as uow:
        request = await uow.actions.get(str(p["request"]))
    if request is not None:
        score = p.get("score")
        result = VerificationResult(
            bool(p["passed"]), str(p["summary"]), None if score is None else float(score)
        )
        escalation = None if p.get("escalation") is None else str(p["escalation"])
        report = m.VerificationReport(request, result, escalation)
        await _post_once(deps, work, request.channel_id, report)
    return await _finish(deps, work, None)


async def _all_alerts_resolved(
    deps: Deps, work: PendingWork, incident: Incident, channel: str
) -> PendingWork | None:
    p = work.payload
    told = m.AllAlertsResolved(incident.id, int(p["count"]), bool(p["by_policy"]))
    await _post_once(deps, work, channel, told)
    return await _finish(deps, work, None)


async def _postmortem_upload(
    deps: Deps, work: PendingWork, incident: Incident, channel: str
) -> PendingWork | None:
    # files.completeUploadExternal takes no metadata: the work key is in the file's name,
    # which the channel's history lists with the message the files were shared in.
    filename = postmortem_filename(incident, work.key.rsplit(":", 1)[-1])
    shared = await deps.chat.find_shared_file(channel, filename) if work.tried_before else None
    if shared is not None:  # an earlier try shared it without hearing back (picture unknown)
        file_id, picture_id = shared, None
    else:
        file_id, picture_id = await upload_postmortem(deps, incident, filename)
    by = str(work.payload.get("by") or BOT_ACTOR)
    return await _finish_saving(
        deps,
        work,
        lambda uow: record_posted(uow, deps, incident, by, filename, file_id, picture_id),
    )


async def _post(
    deps: Deps, work: PendingWork, incident: Incident, channel: str
) -> PendingWork | None:
    message = await draw(deps, incident, work.payload)
    if message is None:  # what it was about is gone, or already shown
        return await _finish(deps, work, None)
    ts = await _post_once(deps, work, channel, message)
    return await _finish_saving(deps, work, lambda uow: keep_ts(uow, incident.id, work.payload, ts))


async def _post_once(deps: Deps, work: PendingWork, channel: str, message: m.Message) -> str:
    if work.tried_before:
        found = await deps.chat.find_posted(channel, work.key)
        if found is not None:
            return found
    return await deps.chat.post(channel, message, key=work.key)


async def _save(
    deps: Deps,
    work: PendingWork,
    incident_id: str,
    *,
    header_ts: str | None = None,
    questions_ts: str | None = None,
    uow: UnitOfWork | None = None,
) -> PendingWork | None:
    """Save a message's ts on the incident, read afresh so nothing else it holds is undone."""
    if uow is None:
        async with deps.uow() as own:
            following = await _save(
                deps, work, incident_id, header_ts=header_ts, questions_ts=questions_ts, uow=own
            )
            await own.commit()
        return following
    fresh = await uow.incidents.get(incident_id)
    assert fresh is not None
    if header_ts is not None:
        fresh.header_ts = header_ts
    if questions_ts is not None:
        fresh.questions_ts = questions_ts
    await uow.incidents.update(fresh)
    return await _finish(deps, work, uow)


def _what(work: PendingWork) -> str:
    return work.step.value.replace("_", " ")


_STEPS: dict[Step, Callable[[Deps, PendingWork, Incident, str], Awaitable[PendingWork | None]]] = {
    Step.INVITE: _invite,
    Step.TOPIC: _topic,
    Step.HEADER: _header,
    Step.CLASSIFY_OFFER: _classify_offer,
    Step.CHECKLIST_PAGE: _checklist_page,
    Step.CHECKLIST_RETIRED: _checklist_retired,
    Step.QUESTIONS: _questions,
    Step.ALERT_SUMMARY: _alert_summary,
    Step.STATUS_UPDATE: _status_update,
    Step.HEADER_REFRESH: _header_refresh,
    Step.QUESTIONS_REFRESH: _questions_refresh,
    Step.COMMANDER_CHANGED: _commander_changed,
    Step.RESOLVED: _resolved,
    Step.ACTION_CARD: _action_card,
    Step.ACTION_CARD_EDIT: _action_card_edit,
    Step.VERIFICATION_REPORT: _verification_report,
    Step.ALL_ALERTS_RESOLVED: _all_alerts_resolved,
    Step.POSTMORTEM_UPLOAD: _postmortem_upload,
    Step.POST: _post,
}
