"""From an alert's labels to service, kind and severity; how a tracked alert counts its
notifications; which alerts an automatic action answers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.alert_rules import (
    AlertRule,
    AlertSettings,
    AutoAction,
    Classification,
    classify,
)
from bot.domain.alerts import Alert, AlertSource, AlertStatus, TrackedAlert, group_key
from bot.domain.kinds import IncidentKind, Severity

START = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
LATER = START + timedelta(minutes=5)


def alert(
    name: str = "EvalScoreDrop",
    status: AlertStatus = AlertStatus.FIRING,
    **labels: str,
) -> Alert:
    return Alert(AlertSource.ALERTMANAGER, "fp-1", status, name, f"{name} is bad", labels)


# classify


def test_without_rules_the_alerts_own_labels_decide() -> None:
    found = classify(
        AlertSettings(),
        alert(service="support-bot", ai_incident_kind=" Retrieval ", severity="critical"),
    )
    assert found == Classification("support-bot", IncidentKind.RETRIEVAL, Severity.SEV1)


def test_what_nobody_says_comes_from_the_defaults() -> None:
    assert classify(AlertSettings(), alert()) == Classification(
        None, IncidentKind.UNKNOWN, Severity.SEV2
    )
    settings = AlertSettings(default_severity=Severity.SEV4)
    assert classify(settings, alert(service="")).service is None  # empty is no service
    assert classify(settings, alert()).severity is Severity.SEV4


@pytest.mark.parametrize("kind", ["nonsense", "", "quality drift", "sev1"])
def test_a_kind_nobody_can_tell_is_unknown(kind: str) -> None:
    assert classify(AlertSettings(), alert(ai_incident_kind=kind)).kind is IncidentKind.UNKNOWN


@pytest.mark.parametrize(
    ("label", "severity"),
    [
        ("critical", Severity.SEV1),
        ("page", Severity.SEV1),
        ("ERROR", Severity.SEV2),
        ("high", Severity.SEV2),
        ("Warning", Severity.SEV3),
        ("medium", Severity.SEV3),
        ("info", Severity.SEV4),
        ("low", Severity.SEV4),
        ("sev3", Severity.SEV3),
        ("SEV1", Severity.SEV1),
        ("whatever", Severity.SEV2),  # unmapped: the default
    ],
)
def test_monitor_severities_map_to_ours(label: str, severity: Severity) -> None:
    assert classify(AlertSettings(), alert(severity=label)).severity is severity


def test_the_first_matching_rule_wins() -> None:
    settings = AlertSettings(
        rules=(
            AlertRule({"alertname": "Other"}, service="nope"),
            AlertRule({"alertname": "EvalScoreDrop", "env": "prod"}, service="support-bot"),
            AlertRule({"alertname": "EvalScoreDrop"}, service="search", kind=IncidentKind.COST),
        )
    )
    prod = classify(settings, alert(env="prod", ai_incident_kind="latency"))
    assert (prod.service, prod.kind) == ("support-bot", IncidentKind.LATENCY)
    staging = classify(settings, alert(env="staging", ai_incident_kind="latency"))
    assert (staging.service, staging.kind) == ("search", IncidentKind.COST)


def test_what_the_rule_leaves_out_comes_from_the_labels() -> None:
    settings = AlertSettings(rules=(AlertRule({"team": "ml"}, severity=Severity.SEV4),))
    found = classify(
        settings, alert(team="ml", service="support-bot", ai_incident_kind="tool", severity="page")
    )
    assert found == Classification("support-bot", IncidentKind.TOOL, Severity.SEV4)


def test_the_rule_beats_the_labels() -> None:
    settings = AlertSettings(
        rules=(
            AlertRule(
                {"alertname": "EvalScoreDrop"},
                service="support-bot",
                kind=IncidentKind.QUALITY,
                severity=Severity.SEV3,
            ),
        )
    )
    found = classify(settings, alert(service="search", ai_incident_kind="cost", severity="page"))
    assert found == Classification("support-bot", IncidentKind.QUALITY, Severity.SEV3)


def test_label_names_and_severities_are_configurable() -> None:
    settings = AlertSettings(
        service_label="app",
        kind_label="failure",
        severity_label="priority",
        severities={"p1": Severity.SEV1},
    )
    found = classify(settings, alert(app="search", failure="latency", priority="P1"))
    assert found == Classification("search", IncidentKind.LATENCY, Severity.SEV1)
    # The default names are no longer read.
    ignored = classify(settings, alert(service="x", ai_incident_kind="cost", severity="critical"))
    assert ignored == Classification(None, IncidentKind.UNKNOWN, Severity.SEV2)


def test_a_rule_matches_only_when_every_label_equals() -> None:
    rule = AlertRule({"alertname": "EvalScoreDrop", "env": "prod"})
    assert rule.matches(alert(env="prod"))
    assert not rule.matches(alert(env="prod-eu"))
    assert not rule.matches(alert())
    assert not rule.matches(alert("Other", env="prod"))
    assert AlertRule({}).matches(alert())  # no conditions: every alert


def test_group_keys_name_service_and_kind() -> None:
    assert group_key("support-bot", "quality", "EvalScoreDrop") == "support-bot|quality"
    assert group_key("billing-bot", "unknown", "Odd") == "billing-bot|unknown"


def test_an_alert_naming_no_service_is_grouped_by_its_own_name() -> None:
    crash_loop = group_key(None, "unknown", "KubePodCrashLooping")
    assert crash_loop == group_key(None, "unknown", "KubePodCrashLooping")
    assert crash_loop != group_key(None, "unknown", "High CPU usage")
    # A service called like an alert is not that alert.
    assert group_key(None, "unknown", "checkout") != group_key("checkout", "unknown", "X")


# TrackedAlert.hear


def tracked(status: AlertStatus = AlertStatus.FIRING) -> TrackedAlert:
    return TrackedAlert(
        source=AlertSource.ALERTMANAGER,
        fingerprint="fp-1",
        incident_id="inc-1",
        name="EvalScoreDrop",
        summary="first",
        service="support-bot",
        kind="quality",
        severity="sev2",
        status=status,
        starts_at=START,
        first_seen=START,
        last_seen=START,
        firing_streak=1 if status is AlertStatus.FIRING else 0,
        value="0.62",
        threshold="0.85",
        links=("https://grafana.example.com/d/1",),
    )


def heard(
    status: AlertStatus,
    summary: str = "again",
    ends_at: datetime | None = None,
    links: tuple[str, ...] = (),
    value: str | None = None,
) -> Alert:
    return Alert(
        AlertSource.ALERTMANAGER,
        "fp-1",
        status,
        "EvalScoreDrop",
        summary,
        ends_at=ends_at,
        value=value,
        links=links,
    )


def test_an_acknowledgement_older_than_the_resolution_does_not_reopen_the_alert() -> None:
    alert_ = tracked()
    alert_.hear(heard(AlertStatus.RESOLVED, ends_at=LATER), LATER)
    late = replace(heard(AlertStatus.ACKNOWLEDGED), occurred_at=LATER - timedelta(minutes=5))
    alert_.hear(late, LATER + timedelta(minutes=1))
    assert (alert_.status, alert_.resolved_at) == (AlertStatus.RESOLVED, LATER)
    assert alert_.notifications == 3  # still heard and counted
    newer = replace(heard(AlertStatus.FIRING), occurred_at=LATER + timedelta(minutes=2))
    alert_.hear(newer, LATER + timedelta(minutes=3))  # it really came back
    assert (alert_.status, alert_.resolved_at) == (AlertStatus.FIRING, None)


def test_every_notification_counts_and_consecutive_firing_ones_make_a_streak() -> None:
    alert_ = tracked()
    alert_.hear(heard(AlertStatus.FIRING, value="0.55"), LATER)
    alert_.hear(heard(AlertStatus.FIRING, "worse"), LATER + timedelta(minutes=1))
    assert (alert_.notifications, alert_.firing_streak) == (3, 3)
    assert (alert_.summary, alert_.value, alert_.threshold) == ("worse", None, None)
    assert alert_.last_seen == LATER + timedelta(minutes=1)
    assert alert_.first_seen == START
    assert alert_.links == ("https://grafana.example.com/d/1",)  # none sent: kept
    alert_.hear(heard(AlertStatus.FIRING, links=("https://x.example.com",)), LATER)
    assert alert_.links == ("https://x.example.com",)


def test_resolving_ends_the_streak_and_records_when() -> None:
    alert_ = tracked()
    alert_.hear(heard(AlertStatus.FIRING), LATER)
    ended = LATER - timedelta(seconds=30)
    alert_.hear(heard(AlertStatus.RESOLVED, ends_at=ended), LATER)
    assert (alert_.status, alert_.notifications, alert_.firing_streak) == (
        AlertStatus.RESOLVED,
        3,
        0,
    )
    assert alert_.resolved_at == ended  # the monitor's own time

    no_end = tracked()
    no_end.hear(heard(AlertStatus.RESOLVED), LATER)
    assert no_end.resolved_at == LATER  # none given: when we heard it


def test_an_alert_firing_again_after_resolving_starts_a_new_streak() -> None:
    alert_ = tracked()
    alert_.hear(heard(AlertStatus.FIRING), LATER)
    alert_.hear(heard(AlertStatus.RESOLVED), LATER)
    alert_.hear(heard(AlertStatus.FIRING), LATER + timedelta(minutes=1))
    assert (alert_.status, alert_.resolved_at) == (AlertStatus.FIRING, None)
    assert (alert_.notifications, alert_.firing_streak) == (4, 1)


def test_acknowledged_holds_the_streak_without_adding_to_it() -> None:
    alert_ = tracked()
    alert_.hear(heard(AlertStatus.ACKNOWLEDGED), LATER)
    assert (alert_.status, alert_.notifications, alert_.firing_streak) == (
        AlertStatus.ACKNOWLEDGED,
        2,
        1,
    )
    alert_.hear(heard(AlertStatus.FIRING), LATER)
    assert alert_.firing_streak == 2


# AutoAction.matches


def test_an_automatic_action_answers_its_service_and_labels_only() -> None:
    rule = AutoAction("support-bot", "rollback prompt", match={"alertname": "RefusalRateDrop"})
    assert rule.matches(alert("RefusalRateDrop"), "support-bot")
    assert not rule.matches(alert("RefusalRateDrop"), "search")
    assert not rule.matches(alert("RefusalRateDrop"), None)
    assert not rule.matches(alert("EvalScoreDrop"), "support-bot")
    # Labels come last, so an `alertname` label (as Alertmanager sends) is what counts.
    assert rule.matches(alert("Other", alertname="RefusalRateDrop"), "support-bot")


def test_an_automatic_action_without_conditions_answers_every_alert_of_its_service() -> None:
    rule = AutoAction("support-bot", "kill")
    assert rule.matches(alert("Anything", env="prod"), "support-bot")
    assert not rule.matches(alert("Anything"), "search")
    assert (rule.after, rule.min_interval, rule.dry_run) == (1, timedelta(minutes=30), False)


def test_an_automatic_action_needs_every_label() -> None:
    rule = AutoAction("support-bot", "kill", match={"env": "prod", "team": "ml"})
    assert rule.matches(alert(env="prod", team="ml"), "support-bot")
    assert not rule.matches(alert(env="prod"), "support-bot")
