"""The draft post-mortem delivered: uploaded to the incident channel as a Markdown file with
its timeline picture, and the commander reminded when its review is due."""

from __future__ import annotations

import logging

from bot.domain import messages as m
from bot.domain.incidents import Incident
from bot.domain.postmortem import Measures
from bot.domain.timeline import BOT_ACTOR, EventType
from bot.ports import ChatError, UnitOfWork, Upload
from bot.render.postmortem import duration
from bot.services.deps import Deps
from bot.services.postmortem import postmortem_draft
from bot.services.timeline import record

log = logging.getLogger(__name__)


async def post_postmortem(deps: Deps, incident: Incident, by: str) -> str:
    """Render the post-mortem from the timeline as it stands and upload it to the incident
    channel, with its timeline picture when that could be drawn (the Markdown goes alone
    otherwise); return the Markdown file's ID. Raises ChatError when Slack refuses the
    upload."""
    assert incident.channel_id is not None
    draft = await postmortem_draft(deps, incident.id, picture=True)
    filename = f"postmortem-{incident.id}.md"
    files = [Upload(filename, draft.markdown.encode("utf-8"), f"Post-mortem: {incident.title}")]
    if draft.picture is not None:
        files.append(picture_upload(incident, draft.picture))
    file_id, *picture_id = await deps.chat.upload_files(
        incident.channel_id, files, summary_line(draft.measures)
    )
    async with deps.uow() as uow:
        await record(
            uow,
            incident.id,
            EventType.POSTMORTEM_POSTED,
            by,
            deps.clock.now(),
            f"Posted the draft post-mortem as {filename}",
            file_id=file_id,
            filename=filename,
            **({"picture_file_id": picture_id[0]} if picture_id else {}),
        )
        await uow.commit()
    return file_id


def picture_upload(incident: Incident, png: bytes) -> Upload:
    return Upload(
        f"timeline-{incident.id}.png",
        png,
        f"Timeline: {incident.title}",
        alt_text=(
            f"Timeline of incident {incident.id}: alerts, changes, actions and people's work "
            "on a time axis in UTC, with the alerts' metric where one was given."
        ),
    )


async def post_postmortem_on_resolution(deps: Deps, incident: Incident) -> None:
    """The resolution stands whatever Slack says; a failed upload is told, with the way to
    try again."""
    assert incident.channel_id is not None
    try:
        await post_postmortem(deps, incident, BOT_ACTOR)
    except ChatError as exc:
        log.warning("Uploading the post-mortem of %s failed: %s", incident.id, exc)
        await deps.chat.post(
            incident.channel_id,
            m.Notice(
                f"The draft post-mortem could not be uploaded ({exc}). "
                "Run `/incident postmortem` to try again.",
                is_error=True,
            ),
        )


async def remind_review(deps: Deps, uow: UnitOfWork, incident: Incident) -> int:
    """Tell the commander in the incident channel that the review is due, within the unit of
    work that claimed the reminder; 1 if told, 0 if there is nobody to tell."""
    if incident.resolved_at is None or incident.channel_id is None:
        return 0
    now = deps.clock.now()
    since = now - incident.resolved_at
    await deps.chat.post(incident.channel_id, m.PostmortemReviewDue(incident, since))
    await record(
        uow,
        incident.id,
        EventType.REVIEW_REMINDED,
        BOT_ACTOR,
        now,
        f"Reminded <@{incident.commander}>: the post-mortem review is due",
        commander=incident.commander,
    )
    return 1


def summary_line(measures: Measures) -> str:
    """The measures in one line: the message the file is shared with."""
    parts = [
        (label, value)
        for label, value in (
            ("detect", measures.time_to_detect),
            ("acknowledge", measures.time_to_acknowledge),
            ("mitigate", measures.time_to_mitigate),
            ("resolve", measures.time_to_resolve),
        )
        if value is not None
    ]
    line = "📝 Draft post-mortem"
    if parts:
        line += ". Time to " + " · ".join(f"{label} {duration(value)}" for label, value in parts)
    if measures.bad_change_exposure is not None:
        line += f" · ran on the bad change {duration(measures.bad_change_exposure)}"
    return line + "."
