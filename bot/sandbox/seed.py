"""The people and places every new sandbox starts with.

Fixed ids make tests and demo transcripts readable (`U_ALICE` rather than `U08Q3…`).
"""

from __future__ import annotations

from collections.abc import Callable

from bot.sandbox.entities import Team, User, Usergroup
from bot.sandbox.workspace import Workspace

TEAM_ID = "T_SANDBOX"
BOT_USER_ID = "U_BOT"
BOT_ID = "B_BOT"
ALICE = "U_ALICE"
BOB = "U_BOB"
CAROL = "U_CAROL"
ONCALL_GROUP = "S_ONCALL"
MANAGERS_GROUP = "S_MANAGERS"
GENERAL_CHANNEL = "C_GENERAL"

# steadyhand.yml for this team and the support-bot service it runs: on call responds, managers
# approve, and only flag flips are low-risk. It ends inside support-bot's settings, for the
# demo (bot/demo.py) and the chaos scenario (bot/sandbox/chaos/scenario.py) to go on from.
TEAM_CONFIG = """
roles:
  responders: [S_ONCALL]
  approvers: [S_MANAGERS]
policy:
  default_risk: high
  rules:
    - {risk: low, action: flag}
services:
  support-bot:
    components: {model: gpt-4o-2024-08-06, prompt: v12, retrieval_index: kb-2026-11-01}
"""


def seeded_workspace(clock: Callable[[], float], *, trigger_ttl: float = 3.0) -> Workspace:
    team = Team(id=TEAM_ID, name="Steadyhand Sandbox", domain="steadyhand-sandbox")
    workspace = Workspace(team, clock, trigger_ttl=trigger_ttl)
    people = [
        User(BOT_USER_ID, "steadyhand", "Steadyhand", "", bot_id=BOT_ID),
        User(ALICE, "alice", "Alice Archer", "alice@example.com", tz="Europe/Paris"),
        User(BOB, "bob", "Bob Baker", "bob@example.com", tz="America/New_York"),
        User(CAROL, "carol", "Carol Chen", "carol@example.com", tz="UTC", is_admin=True),
    ]
    for person in people:
        workspace.users[person.id] = person
    created = int(clock())
    for group in [
        Usergroup(ONCALL_GROUP, "oncall", "AI on-call", [ALICE, BOB], created, "Who is on call"),
        Usergroup(MANAGERS_GROUP, "managers", "Incident managers", [CAROL], created),
    ]:
        workspace.usergroups[group.id] = group
    # The bot is deliberately not in #general: posting there must fail until it joins.
    workspace.add_channel(
        "general",
        ALICE,
        [BOB, CAROL],
        is_general=True,
        channel_id=GENERAL_CHANNEL,
        announce=False,
    )
    return workspace
