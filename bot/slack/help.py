"""The `/incident` subcommands, as `/incident help` shows them.

One table, so the command parser, the help message and the docs agree on what exists.
"""

from __future__ import annotations

from typing import NamedTuple


class HelpLine(NamedTuple):
    usage: str
    description: str
    example: str

    @property
    def subcommand(self) -> str:
        return self.usage.split()[1]


HELP_LINES = (
    HelpLine(
        "/incident open <kind> <title>",
        "Open an incident channel with the kind's runbook checklist and the five questions. "
        "`/incident open` alone opens a form.",
        "/incident open quality answers cite the old refund policy",
    ),
    HelpLine(
        "/incident status",
        "Show status, elapsed time, checklist progress, the five answers and the commander.",
        "/incident status",
    ),
    HelpLine(
        "/incident update <text>",
        "Post a status update in the incident channel and to stakeholders.",
        "/incident update rolled back prompt to v12, eval score recovering",
    ),
    HelpLine(
        "/incident commander @user",
        "Hand the incident commander role to someone else.",
        "/incident commander @alice",
    ),
    HelpLine(
        "/incident resolve [summary]",
        "Resolve the incident, with an optional one-line summary.",
        "/incident resolve prompt v13 rolled back to v12; evals back above 0.85",
    ),
    HelpLine(
        "/incident postmortem",
        "Assemble the post-mortem from the timeline again and post it here as a Markdown file.",
        "/incident postmortem",
    ),
    HelpLine(
        "/incident note <text>",
        "Add a note to the timeline. React with :pushpin: to any message here to add it too "
        "(with its own time and author); removing the reaction takes it off.",
        "/incident note refunds started failing right after the 09:05 deploy",
    ),
    HelpLine(
        "/incident example [blocking|monitoring|backlog] <text or link>",
        "Attach a failed example; its buttons sort it into the blocking set, the monitoring "
        "set or the backlog. `/incident example #2 blocking` sorts one already added.",
        "/incident example “what is the refund window?” answered with the 2023 policy",
    ),
    HelpLine(
        "/incident examples",
        "List the failed examples by set (exported at /api/incidents/<id>/examples).",
        "/incident examples",
    ),
    HelpLine(
        "/incident followup [@owner] <text>",
        "Add a follow-up with its owner (you, if nobody is named); during the incident or "
        "the review.",
        "/incident followup @bob add refund questions to the blocking eval set",
    ),
    HelpLine(
        "/incident followups",
        "List the follow-ups and their owners.",
        "/incident followups",
    ),
    HelpLine(
        "/incident running [service]",
        "Show what a service runs now: versions, flags, last change and last known-good "
        "per component. In an incident channel, the incident's service.",
        "/incident running support-bot",
    ),
    HelpLine(
        "/incident changes [service] [since]",
        "List recent changes, newest first (since like `90m`, `24h`, `7d`; default 24h).",
        "/incident changes support-bot 7d",
    ),
    HelpLine(
        "/incident known-good <service> <component> <version>",
        "Mark a version the component has run as known-good: a rollback target.",
        "/incident known-good support-bot prompt v12",
    ),
    HelpLine(
        "/incident rollback [service] <component> [version] [because …]",
        "Roll a component back to its last known-good version, or to a version it ran. "
        "High-risk actions wait for an approver.",
        "/incident rollback support-bot prompt v12 because refusals stopped",
    ),
    HelpLine(
        "/incident rollback [service] to <when> [because …]",
        "Restore every component to what ran at a moment (`2h` ago, or a UTC time).",
        "/incident rollback support-bot to 2026-11-22T08:00Z",
    ),
    HelpLine(
        "/incident flag [service] <flag> on|off|<0-100>% [because …]",
        "Turn a flag on or off, or set its rollout percentage.",
        "/incident flag support-bot new-retriever off",
    ),
    HelpLine(
        "/incident kill [service] [on|off] [because …]",
        "Kill switch: pause every action-taking step of the service's agents (`off` resumes).",
        "/incident kill support-bot",
    ),
    HelpLine(
        "/incident dry-run [service] on|off [because …]",
        "Dry-run mode: the agents reason but do not act.",
        "/incident dry-run support-bot on",
    ),
    HelpLine("/incident help", "Show this list.", "/incident help"),
)
