"""The closed vocabularies: incident kinds, severities, statuses."""

from __future__ import annotations

from enum import StrEnum

from bot.domain.choices import parse_choice


class IncidentKind(StrEnum):
    QUALITY = "quality"
    RETRIEVAL = "retrieval"
    TOOL = "tool"
    POLICY = "policy"
    COST = "cost"
    LATENCY = "latency"
    # Only an alert opens an incident of no known kind; a person then classifies it as one of
    # the six, so people are never offered it and no runbook is written for it.
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        return KIND_LABELS[self]

    @classmethod
    def classified(cls) -> tuple[IncidentKind, ...]:
        """The six kinds a person can choose and a runbook can be for, in order."""
        return tuple(kind for kind in cls if kind is not cls.UNKNOWN)

    @classmethod
    def parse(cls, text: str) -> IncidentKind:
        return parse_choice(cls, text, "incident kind", "kinds", allowed=cls.classified())


KIND_LABELS = {
    IncidentKind.QUALITY: "Quality drift",
    IncidentKind.RETRIEVAL: "Retrieval failure",
    IncidentKind.TOOL: "Tool failure",
    IncidentKind.POLICY: "Policy failure",
    IncidentKind.COST: "Cost failure",
    IncidentKind.LATENCY: "Latency failure",
    IncidentKind.UNKNOWN: "Needs classification",
}


class Severity(StrEnum):
    SEV1 = "sev1"
    SEV2 = "sev2"
    SEV3 = "sev3"
    SEV4 = "sev4"

    @classmethod
    def parse(cls, text: str) -> Severity:
        return parse_choice(cls, text, "severity", "severities")


class IncidentStatus(StrEnum):
    INVESTIGATING = "investigating"
    RESOLVED = "resolved"
