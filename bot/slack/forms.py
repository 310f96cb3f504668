"""Modal submissions read back into domain values.

`view_state` is Slack's `view["state"]["values"]`: `{block_id: {action_id: {type, …}}}`.
Every problem becomes a `FormError` naming the input it belongs to, so the listener can
answer `ack(response_action="errors", errors=exc.errors)` and Slack shows each message
under its field, with the form still open.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from bot.domain.errors import UsageError
from bot.domain.incidents import validate_title
from bot.domain.kinds import IncidentKind, Severity
from bot.domain.triage import Answer, ExampleSet, TriageAnswers, YesNoUnknown
from bot.slack import ids
from bot.slack.blocks.modals import DETAIL_MAX

ViewState = Mapping[str, Mapping[str, Mapping[str, Any]]]
Choice = TypeVar("Choice", bound=StrEnum)


class FormError(UsageError):
    """One or more inputs are missing or invalid; `errors` maps block_id → message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__(" ".join(self.errors.values()))


def field_errors(exc: UsageError) -> dict[str, str]:
    """The per-input messages of a form error; empty for an error no input caused."""
    return dict(exc.errors) if isinstance(exc, FormError) else {}


@dataclass(frozen=True)
class OpenIncidentForm:
    kind: IncidentKind
    title: str
    severity: Severity
    service: str | None
    origin_channel: str


def parse_open_incident(view_state: ViewState, private_metadata: str) -> OpenIncidentForm:
    form = _Form(view_state)
    kind = form.choice(
        ids.FIELD_KIND, IncidentKind, "Choose the kind of incident.", IncidentKind.classified()
    )
    title = form.title(ids.FIELD_TITLE)
    severity = form.choice(ids.FIELD_SEVERITY, Severity, "Choose a severity.")
    service = form.optional_text(ids.FIELD_SERVICE)
    if not private_metadata:
        # Only a view we did not build lacks it; the error must still sit on an input.
        form.fail(ids.FIELD_KIND, "This form lost track of its channel; run /incident open again.")
    form.raise_errors()
    # raise_errors saw to these; the assert tells mypy.
    assert kind is not None and title is not None and severity is not None
    return OpenIncidentForm(kind, title, severity, service, private_metadata)


def parse_five_questions(
    view_state: ViewState, private_metadata: str, user: str, at: datetime
) -> tuple[str, TriageAnswers]:
    form = _Form(view_state)
    layer = form.choice(
        ids.FIELD_Q1, IncidentKind, "Choose where the failure is.", IncidentKind.classified()
    )
    recent_change = form.yes_no(ids.FIELD_Q2, ids.FIELD_Q2_DETAIL, 2)
    rollback = form.yes_no(ids.FIELD_Q3, ids.FIELD_Q3_DETAIL, 3)
    review = form.yes_no(ids.FIELD_Q4, ids.FIELD_Q4_DETAIL, 4)
    destination = form.choice(ids.FIELD_Q5, ExampleSet, "Choose where the failed examples go.")
    if not private_metadata:
        form.fail(ids.FIELD_Q1, "This form lost track of its incident; press Answer again.")
    form.raise_errors()
    # raise_errors saw to these; the assert tells mypy.
    assert layer is not None and destination is not None
    assert recent_change is not None and rollback is not None and review is not None
    answers = TriageAnswers(
        failure_layer=layer,
        recent_change=recent_change,
        rollback_available=rollback,
        human_review_needed=review,
        examples_destination=destination,
        answered_by=user,
        answered_at=at,
    )
    return private_metadata, answers


class _Form:
    """Reads inputs by their `ids.FIELD_…` name and collects every problem, so one
    submission shows all of them at once instead of one per attempt."""

    def __init__(self, view_state: ViewState) -> None:
        self._state = view_state
        self._errors: dict[str, str] = {}

    def fail(self, field: str, message: str) -> None:
        self._errors.setdefault(field, message)

    def raise_errors(self) -> None:
        if self._errors:
            raise FormError(self._errors)

    def choice(
        self,
        field: str,
        choices: type[Choice],
        missing: str,
        allowed: Sequence[Choice] | None = None,
    ) -> Choice | None:
        """The chosen option; `allowed` narrows `choices` to those the form offers."""
        selected = self._input(field).get("selected_option") or {}
        value = selected.get("value")
        if not value:
            self.fail(field, missing)
            return None
        chosen = next((c for c in allowed or choices if c.value == value), None)
        if chosen is None:
            self.fail(field, f"`{value}` is not one of the choices. {missing}")
        return chosen

    def title(self, field: str) -> str | None:
        try:
            return validate_title(self._text(field))
        except UsageError as exc:
            self.fail(field, str(exc))
            return None

    def optional_text(self, field: str) -> str | None:
        element = self._input(field)
        if element.get("type") == "static_select":
            value = (element.get("selected_option") or {}).get("value")
        else:
            value = element.get("value")
        return " ".join(str(value or "").split()) or None

    def yes_no(self, field: str, detail_field: str, number: int) -> Answer | None:
        choice = self.choice(field, YesNoUnknown, f"Answer question {number}: yes, no or unknown.")
        detail = self._text(detail_field).strip()
        if len(detail) > DETAIL_MAX:
            self.fail(detail_field, f"Keep this under {DETAIL_MAX} characters ({len(detail)} now).")
        return Answer(choice, detail) if choice else None

    def _text(self, field: str) -> str:
        return str(self._input(field).get("value") or "")

    def _input(self, field: str) -> Mapping[str, Any]:
        """The input's state, whatever its action_id: Slack keys it by the element's."""
        actions = self._state.get(field) or {}
        return actions.get(field) or next(iter(actions.values()), {})
