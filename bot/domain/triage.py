"""The five first-fifteen-minutes questions and their structured answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain.kinds import IncidentKind

QUESTIONS = (
    "Is the failure in model output, retrieval, tool execution, policy, cost, or latency?",
    "Did a prompt, model route, retrieval index, tool schema, or data source change recently?",
    "Is there a feature flag or route-level rollback?",
    "Is a human reviewer or domain owner needed before service resumes?",
    "Should the failed examples enter the blocking set, monitoring set, or backlog?",
)

# Question 1 names layers; each layer is one incident kind.
LAYER_LABELS = {
    IncidentKind.QUALITY: "Model output",
    IncidentKind.RETRIEVAL: "Retrieval",
    IncidentKind.TOOL: "Tool execution",
    IncidentKind.POLICY: "Policy",
    IncidentKind.COST: "Cost",
    IncidentKind.LATENCY: "Latency",
}


class YesNoUnknown(StrEnum):
    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


class ExampleSet(StrEnum):
    BLOCKING = "blocking"
    MONITORING = "monitoring"
    BACKLOG = "backlog"

    @property
    def label(self) -> str:
        return {"blocking": "Blocking set", "monitoring": "Monitoring set", "backlog": "Backlog"}[
            self.value
        ]


@dataclass(frozen=True)
class Answer:
    """A yes/no/unknown choice with the responder's own words."""

    choice: YesNoUnknown
    detail: str = ""


@dataclass(frozen=True)
class TriageAnswers:
    failure_layer: IncidentKind
    recent_change: Answer
    rollback_available: Answer
    human_review_needed: Answer
    examples_destination: ExampleSet
    answered_by: str
    answered_at: datetime

    def as_lines(self) -> list[tuple[str, str]]:
        """Each question with its answer as text, in the order they are asked."""

        def yn(a: Answer) -> str:
            return a.choice.value + (f": {a.detail}" if a.detail else "")

        return list(
            zip(
                QUESTIONS,
                (
                    LAYER_LABELS[self.failure_layer],
                    yn(self.recent_change),
                    yn(self.rollback_available),
                    yn(self.human_review_needed),
                    self.examples_destination.label,
                ),
                strict=True,
            )
        )
