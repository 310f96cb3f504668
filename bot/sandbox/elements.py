"""Finding interactive elements in stored blocks, and what Slack sends when someone uses them.

The driver clicks a button or ticks a checkbox by action_id; this module finds the element in
the message or view the user is looking at, and builds the `actions` entry and `state` that
Slack would build for it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.sandbox.entities import JSON

# Which state field each element type reports its choice in, when the choice is one value.
_SINGLE_CHOICE_FIELDS = {
    "users_select": "selected_user",
    "conversations_select": "selected_conversation",
    "channels_select": "selected_channel",
    "datepicker": "selected_date",
    "timepicker": "selected_time",
    "datetimepicker": "selected_date_time",
}
_MULTI_CHOICE_FIELDS = {
    "multi_users_select": "selected_users",
    "multi_conversations_select": "selected_conversations",
    "multi_channels_select": "selected_channels",
}
_OPTION_ELEMENTS = {"static_select", "external_select", "radio_buttons", "overflow"}
_MULTI_OPTION_ELEMENTS = {"checkboxes", "multi_static_select", "multi_external_select"}
_INITIAL_FIELDS = {
    "selected_user": "initial_user",
    "selected_conversation": "initial_conversation",
    "selected_channel": "initial_channel",
    "selected_date": "initial_date",
    "selected_time": "initial_time",
    "selected_date_time": "initial_date_time",
    "selected_users": "initial_users",
    "selected_conversations": "initial_conversations",
    "selected_channels": "initial_channels",
}


@dataclass(frozen=True)
class FoundElement:
    block_id: str
    element: JSON

    @property
    def type(self) -> str:
        return str(self.element.get("type", ""))

    @property
    def action_id(self) -> str:
        return str(self.element.get("action_id", ""))


def find_element(
    blocks: Sequence[JSON], action_id: str, *, option_value: str | None = None
) -> FoundElement:
    """The first element with `action_id` (holding an option `option_value`, when given:
    several blocks may reuse one action_id, as one checkbox per checklist step does)."""
    found = [
        element
        for element in interactive_elements(blocks)
        if element.action_id == action_id
        and (option_value is None or _has_option(element.element, option_value))
    ]
    if not found:
        known = sorted({element.action_id for element in interactive_elements(blocks)})
        raise LookupError(f"no element with action_id {action_id!r}; there are {known}")
    return found[0]


def interactive_elements(blocks: Sequence[JSON]) -> Iterator[FoundElement]:
    for block in blocks:
        block_id = str(block.get("block_id", ""))
        accessory = block.get("accessory")
        if isinstance(accessory, dict) and "action_id" in accessory:
            yield FoundElement(block_id, accessory)
        element = block.get("element")
        if isinstance(element, dict) and "action_id" in element:
            yield FoundElement(block_id, element)
        if block.get("type") in ("actions", "context_actions"):
            for item in block.get("elements", []):
                if isinstance(item, dict) and "action_id" in item:
                    yield FoundElement(block_id, item)


def button_action(found: FoundElement, action_ts: str) -> JSON:
    if found.type != "button":
        raise LookupError(f"{found.action_id!r} is a {found.type}, not a button")
    action = _action(found, action_ts)
    action["text"] = found.element.get("text")
    for optional in ("value", "style", "url"):
        if optional in found.element:
            action[optional] = found.element[optional]
    return action


def checkbox_action(found: FoundElement, option_value: str, checked: bool, action_ts: str) -> JSON:
    """Slack reports the whole selection after the click, not just the option clicked."""
    if found.type != "checkboxes":
        raise LookupError(f"{found.action_id!r} is a {found.type}, not checkboxes")
    clicked = _option(found, option_value)
    selected = {option["value"] for option in found.element.get("initial_options", [])}
    if checked:
        selected.add(clicked["value"])
    else:
        selected.discard(clicked["value"])
    options = [option for option in _options(found.element) if option["value"] in selected]
    return {**_action(found, action_ts), "selected_options": options}


def choice_action(found: FoundElement, value: Any, action_ts: str) -> JSON:
    """A select, radio button, overflow menu or picker set to `value` (an option's value,
    a user or channel id, a date …; a list for multi-selects)."""
    return {**_action(found, action_ts), **_chosen(found, value)}


def view_state(blocks: Sequence[JSON], values: Mapping[str, Any]) -> JSON:
    """The `state.values` Slack sends: every stateful element, set to `values[action_id]` where
    given and to its initial value otherwise."""
    state: JSON = {}
    unused = set(values)
    for found in interactive_elements(blocks):
        if found.type in ("button", "workflow_button"):
            continue
        if found.action_id in values:
            unused.discard(found.action_id)
            entry = {"type": found.type, **_chosen(found, values[found.action_id])}
        else:
            entry = {"type": found.type, **_initial(found)}
        state.setdefault(found.block_id, {})[found.action_id] = entry
    if unused:
        raise LookupError(f"no input with action_id {sorted(unused)}")
    return state


def _action(found: FoundElement, action_ts: str) -> JSON:
    return {
        "type": found.type,
        "action_id": found.action_id,
        "block_id": found.block_id,
        "action_ts": action_ts,
    }


def _chosen(found: FoundElement, value: Any) -> JSON:
    if found.type in _OPTION_ELEMENTS:
        return {"selected_option": _option(found, str(value)) if value is not None else None}
    if found.type in _MULTI_OPTION_ELEMENTS:
        return {"selected_options": [_option(found, str(item)) for item in value or []]}
    if found.type in _SINGLE_CHOICE_FIELDS:
        return {_SINGLE_CHOICE_FIELDS[found.type]: value}
    if found.type in _MULTI_CHOICE_FIELDS:
        return {_MULTI_CHOICE_FIELDS[found.type]: list(value or [])}
    if found.type == "rich_text_input":
        return {"rich_text_value": _rich_text(str(value or ""))}
    # plain_text_input, number_input, email_text_input, url_text_input …: a string value.
    return {"value": None if value is None else str(value)}


def _initial(found: FoundElement) -> JSON:
    element = found.element
    if found.type in _OPTION_ELEMENTS:
        return {"selected_option": element.get("initial_option")}
    if found.type in _MULTI_OPTION_ELEMENTS:
        return {"selected_options": list(element.get("initial_options", []))}
    field = _SINGLE_CHOICE_FIELDS.get(found.type) or _MULTI_CHOICE_FIELDS.get(found.type)
    if field is not None:
        return {field: element.get(_INITIAL_FIELDS[field])}
    if found.type == "rich_text_input":
        return {"rich_text_value": element.get("initial_value")}
    return {"value": element.get("initial_value")}


def _options(element: JSON) -> list[JSON]:
    options = list(element.get("options", []))
    for group in element.get("option_groups", []):
        options.extend(group.get("options", []))
    return options


def _option(found: FoundElement, value: str) -> JSON:
    for option in _options(found.element):
        if option.get("value") == value:
            return dict(option)
    known = [option.get("value") for option in _options(found.element)]
    raise LookupError(f"{found.action_id!r} has no option {value!r}; it has {known}")


def _rich_text(text: str) -> JSON:
    return {
        "type": "rich_text",
        "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}],
    }


def _has_option(element: JSON, value: str) -> bool:
    return any(option.get("value") == value for option in element.get("options", []))
