"""The draft post-mortem delivered: uploaded to the incident channel as a Markdown file with
its timeline picture (by pending Slack work, on resolution or `/incident postmortem`), and the
commander reminded when its review is due."""

from __future__ import annotations

from bot.domain.incidents import Incident
from bot.domain.pending_work import Post
from bot.domain.postmortem import Measures
from bot.domain.timeline import BOT_ACTOR, EventType
from bot.ports import UnitOfWork, Upload
from bot.render.postmortem import duration
from bot.services.deps import Deps
from bot.services.pending_posts import queue_post
from bot.services.postmortem import postmortem_draft
from bot.services.timeline import record


def postmortem_filename(incident: Incident, mark: str | None = None) -> str:
    """The Markdown file's name; a `mark` makes it one upload's own, found again by name."""
    return f"postmortem-{incident.id}" + (f"-{mark}" if mark else "") + ".md"


async def upload_postmortem(
    deps: Deps, incident: Incident, filename: str
) -> tuple[str, str | None]:
    """Upload the post-mortem as it now stands, named `filename`; return the IDs of the
    Markdown file and of its picture (None when it could not be drawn)."""
    assert incident.channel_id is not None
    draft = await postmortem_draft(deps, incident.id, picture=True)
    files = [Upload(filename, draft.markdown.encode("utf-8"), f"Post-mortem: {incident.title}")]
    if draft.picture is not None:
        files.append(picture_upload(incident, draft.picture))
    file_id, *picture_id = await deps.chat.upload_files(
        incident.channel_id, files, summary_line(draft.measures)
    )
    return file_id, picture_id[0] if picture_id else None


async def record_posted(
    uow: UnitOfWork,
    deps: Deps,
    incident: Incident,
    by: str,
    filename: str,
    file_id: str,
    picture_id: str | None,
) -> None:
    await record(
        uow,
        incident.id,
        EventType.POSTMORTEM_POSTED,
        by,
        deps.clock.now(),
        f"Posted the draft post-mortem as {filename}",
        file_id=file_id,
        filename=filename,
        **({"picture_file_id": picture_id} if picture_id else {}),
    )


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


async def remind_review(deps: Deps, uow: UnitOfWork, incident: Incident) -> int:
    """Owe the incident channel the reminder to the commander that the review is due, within
    the unit of work that claimed the reminder; 1 if owed, 0 if there is nobody to tell."""
    if incident.resolved_at is None or incident.channel_id is None:
        return 0
    now = deps.clock.now()
    since = (now - incident.resolved_at).total_seconds()
    await queue_post(deps, uow, incident.id, Post.REVIEW_DUE, since_resolved=since)
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
