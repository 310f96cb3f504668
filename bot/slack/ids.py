"""The identifiers Slack echoes back to us: action_ids, callback_ids and form block_ids.

Listeners register on these and renderers emit them, so both import them from here and a
renamed id can never leave a button without a listener.
"""

from __future__ import annotations

import re

from bot.domain.errors import UsageError

_STEP_PREFIX = "step-"

# Buttons and checkboxes in messages (action_id).
# One checkbox per step block; each gets its own action_id (`checklist.toggle.3`) because
# Slack's validators disagree on whether action_ids may repeat across a message's blocks.
ACTION_TOGGLE_STEP = "checklist.toggle"  # prefix; option value "{incident_id}:{position}"
ACTION_TOGGLE_STEP_PATTERN = re.compile(r"^checklist\.toggle\.\d+$")
ACTION_OPEN_TRIAGE = "triage.open"  # value incident_id; opens the five-questions modal
ACTION_SWITCH_RUNBOOK = "runbook.switch"  # value "{incident_id}:{kind}"
# The classify offer holds one switch button per kind, each with its own action_id
# (`runbook.switch.cost`): Slack wants action_ids unique within a message.
ACTION_SWITCH_RUNBOOK_PATTERN = re.compile(r"^runbook\.switch(\.[a-z]+)?$")
ACTION_KEEP_RUNBOOK = "runbook.keep"  # value incident_id
# Action requests: value is the request's ID.
ACTION_APPROVE = "action.approve"
ACTION_REJECT = "action.reject"
ACTION_RETRY = "action.retry"
ACTION_UNDO = "action.undo"  # asks for the reverse of an applied action
ACTION_ROLLBACK_CHANGE = "registry.rollback"  # prefix; value a change's ID
ACTION_ROLLBACK_CHANGE_PATTERN = re.compile(r"^registry\.rollback\.\d+$")
ACTION_RUN_STEP = "runbook.action"  # prefix; value "{incident_id}:{position}"
ACTION_RUN_STEP_PATTERN = re.compile(r"^runbook\.action\.\d+$")
# Sorting a failed example: one button per set (`example.sort.blocking`); value the example's ID.
ACTION_SORT_EXAMPLE = "example.sort"  # prefix
ACTION_SORT_EXAMPLE_PATTERN = re.compile(r"^example\.sort\.[a-z]+$")

# Modals (callback_id); private_metadata carries what the submission needs.
CALLBACK_OPEN_INCIDENT = "incident.open"  # private_metadata: the channel /incident ran in
CALLBACK_FIVE_QUESTIONS = "triage.submit"  # private_metadata: incident_id

# Inputs of the open-incident modal. Each input's block_id and action_id are the same
# string, so `view.state.values[FIELD][FIELD]` is the field's value.
FIELD_KIND = "kind"
FIELD_TITLE = "title"
FIELD_SEVERITY = "severity"
FIELD_SERVICE = "service"

# Inputs of the five-questions modal, the same way.
FIELD_Q1 = "q1"  # failure layer, an IncidentKind value
FIELD_Q2 = "q2"  # yes / no / unknown
FIELD_Q2_DETAIL = "q2_detail"
FIELD_Q3 = "q3"
FIELD_Q3_DETAIL = "q3_detail"
FIELD_Q4 = "q4"
FIELD_Q4_DETAIL = "q4_detail"
FIELD_Q5 = "q5"  # an ExampleSet value


def step_block_id(position: int) -> str:
    """The block holding checklist step `position` (0-based), for updating it in place."""
    return f"{_STEP_PREFIX}{position}"


def step_position(block_id: str) -> int:
    """The inverse of `step_block_id`: `step-12` → 12."""
    number = block_id.removeprefix(_STEP_PREFIX)
    if block_id == number or not (number.isascii() and number.isdigit()):
        raise UsageError(f"`{block_id}` is not a checklist step.")
    return int(number)


def step_action_id(position: int) -> str:
    return f"{ACTION_TOGGLE_STEP}.{position}"


def step_value(incident_id: str, position: int) -> str:
    return f"{incident_id}:{position}"


def switch_value(incident_id: str, kind: str) -> str:
    return f"{incident_id}:{kind}"


def switch_action_id(kind: str) -> str:
    """A switch button's action_id in the classify offer, one per kind."""
    return f"{ACTION_SWITCH_RUNBOOK}.{kind}"
