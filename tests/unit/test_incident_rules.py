from datetime import UTC, datetime

import pytest

from bot.domain.errors import Conflict, UsageError
from bot.domain.incidents import Incident, channel_name, validate_title
from bot.domain.kinds import IncidentKind, Severity

OPENED = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)


def test_channel_name_follows_the_example() -> None:
    assert channel_name(OPENED, "Answers degraded") == "inc-20261122-answers-degraded"


def test_channel_name_respects_slack_rules() -> None:
    name = channel_name(OPENED, "Ünïcode & Émoji 🚨 — p95 > 2s!! " + "x" * 200)
    assert len(name) <= 80
    assert all(ch.islower() or ch.isdigit() or ch in "-_" for ch in name)
    assert name.startswith("inc-20261122-unicode-emoji-p95-2s-")
    assert not name.endswith("-")


def test_channel_name_suffix_for_later_attempts_stays_within_limit() -> None:
    assert channel_name(OPENED, "x", attempt=3) == "inc-20261122-x-3"
    long = channel_name(OPENED, "y" * 200, attempt=12)
    assert len(long) <= 80 and long.endswith("-12")


def test_channel_name_without_usable_title_characters() -> None:
    assert channel_name(OPENED, "🔥🔥") == "inc-20261122"


def test_titles_are_normalised_and_bounded() -> None:
    assert validate_title("  a   b ") == "a b"
    with pytest.raises(UsageError):
        validate_title("   ")
    with pytest.raises(UsageError, match="150"):
        validate_title("t" * 151)


def test_a_resolved_incident_cannot_be_resolved_again() -> None:
    incident = Incident("i1", IncidentKind.COST, "t", Severity.SEV2, "U1", "U1", OPENED, None, None)
    incident.resolve(OPENED, "done")
    assert not incident.is_open and incident.summary == "done"
    with pytest.raises(Conflict):
        incident.resolve(OPENED, None)
