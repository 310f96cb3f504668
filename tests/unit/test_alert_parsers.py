"""Alert webhook parsers and signature checks, against payloads shaped as each source documents
them (tests/fixtures/alerts):

- Alertmanager: the version-4 shape from prometheus.io `webhook_config`, filled in as
  Alertmanager fills it; `alertmanager-real-*.json`, when present, were captured from a real
  Alertmanager by the harness in tests/support/alertmanager.py;
- Grafana: the example body of Grafana's webhook notifier docs, verbatim for firing;
- PagerDuty: the `incident.priority_updated` example of PagerDuty's V3 webhook overview,
  verbatim, and the same incident for the other event types.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.alerts import (
    AlertPayloadError,
    parse,
    verify_bearer_token,
    verify_grafana_signature,
    verify_pagerduty_signature,
)
from bot.alerts.common import MAX_ALERTS, MAX_BODY_BYTES, MAX_LABEL_BYTES
from bot.domain.alerts import AlertSource, AlertStatus, Notification
from bot.domain.errors import UsageError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "alerts"
AM, GF, PD, GEN = (
    AlertSource.ALERTMANAGER,
    AlertSource.GRAFANA,
    AlertSource.PAGERDUTY,
    AlertSource.GENERIC,
)


def body(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parsed(source: AlertSource, name: str) -> Notification:
    return parse(source, body(name), {})


def sign(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


# --- Alertmanager -------------------------------------------------------------------------


def test_alertmanager_firing() -> None:
    note = parsed(AM, "alertmanager-firing.json")
    assert note.source is AM
    assert (
        note.delivery_key
        == "alertmanager:" + hashlib.sha256(body("alertmanager-firing.json")).hexdigest()
    )
    assert note.group_key == '{}/{service=~".+"}:{service="support-bot"}'
    assert note.truncated_alerts == 0
    quality, retrieval = note.alerts
    assert quality.fingerprint == "1a30ba71cca2921f"
    assert quality.status is AlertStatus.FIRING
    assert quality.name == "AnswerQualityDrop"
    assert quality.summary == "Answer quality of support-bot fell to 0.62"
    assert quality.labels["ai_incident_kind"] == "quality"
    assert (quality.value, quality.threshold) == ("0.62", "0.85")
    assert quality.starts_at == datetime(2026, 11, 22, 8, 0, 3, 739266, tzinfo=UTC)
    assert quality.ends_at is None  # "0001-01-01T00:00:00Z"
    assert quality.links == (
        "http://prometheus.example.com:9090/graph?g0.expr=eval_score+%3C+0.85&g0.tab=1",
        "https://runbooks.example.com/quality",
    )
    # no summary annotation: the description; no value annotation: None
    assert retrieval.summary == "More than 20% of queries returned no documents."
    assert retrieval.value is None
    assert retrieval.starts_at == datetime(2026, 11, 22, 8, 58, 45, 828000, tzinfo=UTC)


def test_alertmanager_resolved_keeps_the_fingerprint() -> None:
    firing = parsed(AM, "alertmanager-firing.json").alerts[0]
    resolved = parsed(AM, "alertmanager-resolved.json").alerts[0]
    assert resolved.status is AlertStatus.RESOLVED
    assert resolved.fingerprint == firing.fingerprint
    assert resolved.starts_at == firing.starts_at
    assert resolved.ends_at == datetime(2026, 11, 22, 8, 42, 18, 113009, tzinfo=UTC)


def test_alertmanager_without_fingerprint_hashes_the_labels_stably() -> None:
    def without_fingerprint(name: str) -> bytes:
        root = json.loads(body(name))
        for alert in root["alerts"]:
            del alert["fingerprint"]
        return json.dumps(root).encode()

    firing = parse(AM, without_fingerprint("alertmanager-firing.json"), {}).alerts[0]
    resolved = parse(AM, without_fingerprint("alertmanager-resolved.json"), {}).alerts[0]
    assert firing.fingerprint == resolved.fingerprint
    assert len(firing.fingerprint) == 16


@pytest.mark.parametrize(
    "name", sorted(p.name for p in FIXTURES.glob("alertmanager-real-*.json")) or ["(none)"]
)
def test_alertmanager_real_deliveries(name: str) -> None:
    if name == "(none)":
        pytest.skip("no captured Alertmanager deliveries in tests/fixtures/alerts")
    note = parsed(AM, name)
    assert note.alerts and all(a.fingerprint and a.starts_at for a in note.alerts)
    for alert in note.alerts:
        assert (alert.ends_at is None) == (alert.status is AlertStatus.FIRING)


def test_same_bytes_same_delivery_key_and_new_bytes_new_key() -> None:
    raw = body("alertmanager-firing.json")
    again = json.dumps(json.loads(raw)).encode()  # a repeat: same content, other bytes
    assert parse(AM, raw, {}).delivery_key == parse(AM, raw, {}).delivery_key
    assert parse(AM, raw, {}).delivery_key != parse(AM, again, {}).delivery_key


# --- Grafana ------------------------------------------------------------------------------


def test_grafana_firing_from_the_docs() -> None:
    note = parsed(GF, "grafana-firing.json")
    assert note.group_key == "{}:{}"
    memory, cpu = note.alerts
    assert memory.fingerprint == "c6eadffa33fcdf37"
    assert memory.name == "High memory usage"
    assert memory.summary == "This alert was triggered for zone us-1"
    assert memory.labels == {"alertname": "High memory usage", "team": "blue", "zone": "us-1"}
    assert memory.value == "B=44.23943737541908, C=1"
    assert memory.starts_at == datetime(2021, 10, 12, 7, 51, 3, 157076, tzinfo=UTC)
    assert memory.ends_at is None
    # empty dashboardURL/panelURL are left out; silenceURL is an action, not context
    assert memory.links == (
        "https://play.grafana.org/alerting/1afz29v7z/edit",
        "https://myrunbook.com/runbook/1234",
    )
    assert cpu.fingerprint == "bc97ff14869b13e3"


def test_grafana_resolved_keeps_the_fingerprint() -> None:
    firing = parsed(GF, "grafana-firing.json").alerts[0]
    resolved = parsed(GF, "grafana-resolved.json").alerts[0]
    assert resolved.status is AlertStatus.RESOLVED
    assert resolved.fingerprint == firing.fingerprint
    assert resolved.ends_at == datetime(2021, 10, 12, 8, 6, 3, 157076, tzinfo=UTC)


def test_grafana_value_string_wins_over_values() -> None:
    root = json.loads(body("grafana-firing.json"))
    root["alerts"][0]["valueString"] = "[ var='B' labels={} value=44.2 ]"
    alert = parse(GF, json.dumps(root).encode(), {}).alerts[0]
    assert alert.value == "[ var='B' labels={} value=44.2 ]"


def test_a_body_sent_to_the_wrong_source_is_named() -> None:
    with pytest.raises(AlertPayloadError, match=r"version: .*/alerts/grafana"):
        parse(AM, body("grafana-firing.json"), {})
    with pytest.raises(AlertPayloadError, match=r"version: .*/alerts/alertmanager"):
        parse(GF, body("alertmanager-firing.json"), {})


# --- PagerDuty ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("pagerduty-triggered.json", AlertStatus.FIRING),
        ("pagerduty-acknowledged.json", AlertStatus.ACKNOWLEDGED),
        ("pagerduty-resolved.json", AlertStatus.RESOLVED),
    ],
)
def test_pagerduty_incident_events(name: str, status: AlertStatus) -> None:
    note = parsed(PD, name)
    event_id = json.loads(body(name))["event"]["id"]
    assert note.delivery_key == f"pagerduty:{event_id}"
    (alert,) = note.alerts
    assert alert.fingerprint == "PGR0VU2"  # the incident, whatever the event
    assert alert.status is status
    assert alert.name == alert.summary == "A little bump in the road"
    assert alert.labels == {
        "service": "API Service",
        "pagerduty_service_id": "PF9KMXH",
        "urgency": "high",
        "priority": "P1",
    }
    assert alert.annotations["pagerduty_incident_number"] == "2"
    assert alert.annotations["pagerduty_incident_key"] == "d3640fbd41094207a1c11e58e46b1662"
    assert alert.starts_at == datetime(2020, 4, 9, 15, 16, 27, tzinfo=UTC)
    assert alert.links == ("https://acme.pagerduty.com/incidents/PGR0VU2",)
    expected_end = datetime(2020, 4, 9, 16, 2, 45, 877000, tzinfo=UTC)
    assert alert.ends_at == (expected_end if status is AlertStatus.RESOLVED else None)
    # Every event is dated when it happened in PagerDuty: deliveries can come late or reordered.
    occurred = json.loads(body(name))["event"]["occurred_at"].replace("Z", "+00:00")
    assert alert.occurred_at == datetime.fromisoformat(occurred)


@pytest.mark.parametrize("name", ["pagerduty-priority-updated.json", "pagerduty-annotated.json"])
def test_other_pagerduty_events_are_accepted_and_ignored(name: str) -> None:
    note = parsed(PD, name)
    assert note.alerts == ()
    assert note.delivery_key == "pagerduty:" + json.loads(body(name))["event"]["id"]


# --- generic ------------------------------------------------------------------------------


def test_generic_one_alert() -> None:
    note = parsed(GEN, "generic-firing.json")
    assert note.delivery_key == "generic:eval-run-4812"
    (alert,) = note.alerts
    assert alert.fingerprint == "eval-drop-support-bot"
    assert alert.status is AlertStatus.FIRING
    assert alert.labels == {
        "team": "assistants",
        "region": "eu",
        "service": "support-bot",
        "ai_incident_kind": "quality",
        "severity": "sev2",
    }
    assert (alert.value, alert.threshold) == ("0.62", "0.85")
    assert alert.starts_at == datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    assert alert.links == ("https://evals.example.com/runs/4812",)


def test_generic_resolved_and_several() -> None:
    resolved = parsed(GEN, "generic-resolved.json").alerts[0]
    assert resolved.status is AlertStatus.RESOLVED
    assert resolved.fingerprint == "eval-drop-support-bot"
    assert resolved.ends_at == datetime(2026, 11, 22, 10, 15, tzinfo=UTC)
    note = parsed(GEN, "generic-several.json")
    assert note.delivery_key == "generic:cost-check-2026-11-22T09"
    cost, latency = note.alerts
    assert (cost.value, cost.threshold) == ("$412", "$140")
    assert latency.labels == {"service": "search-assistant", "ai_incident_kind": "latency"}
    assert (latency.value, latency.threshold) == ("8.2", "4")
    assert latency.status is AlertStatus.FIRING


def test_generic_without_id_or_fingerprint() -> None:
    raw = b'{"service": "support-bot", "summary": "odd answers", "labels": {"b": "2", "a": "1"}}'
    reordered = (
        b'{"summary": "odd again", "labels": {"a": "1", "b": "2"}, "service": "support-bot"}'
    )
    first, second = parse(GEN, raw, {}), parse(GEN, reordered, {})
    assert first.delivery_key == "generic:" + hashlib.sha256(raw).hexdigest()
    assert first.alerts[0].fingerprint == second.alerts[0].fingerprint
    assert first.alerts[0].name == "odd answers"


# --- signatures and tokens ----------------------------------------------------------------

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
SECRET = "grafana-hmac-secret"
TS_HEADER = "X-Grafana-Alerting-Signature-Timestamp"


def test_grafana_signature_over_the_body() -> None:
    raw = body("grafana-firing.json")
    good = {"X-Grafana-Alerting-Signature": sign(SECRET, raw)}
    assert verify_grafana_signature(SECRET, raw, good, NOW)
    assert verify_grafana_signature(SECRET, raw, {k.lower(): v for k, v in good.items()}, NOW)
    assert not verify_grafana_signature("other-secret", raw, good, NOW)
    assert not verify_grafana_signature(SECRET, raw + b" ", good, NOW)
    assert not verify_grafana_signature(SECRET, raw, {}, NOW)
    assert not verify_grafana_signature("", raw, good, NOW)
    assert not verify_grafana_signature(SECRET, raw, {"X-Grafana-Alerting-Signature": "é"}, NOW)
    legacy = {"X-Grafana-Alert-Signature": sign(SECRET, raw)}
    assert verify_grafana_signature(SECRET, raw, legacy, NOW)
    custom = {"X-Sig": sign(SECRET, raw).upper()}
    assert verify_grafana_signature(SECRET, raw, custom, NOW, signature_header="X-Sig")
    assert not verify_grafana_signature(SECRET, raw, legacy, NOW, signature_header="X-Sig")


def test_grafana_signature_with_timestamp() -> None:
    raw = body("grafana-firing.json")

    def signed_at(moment: datetime, secret: str = SECRET) -> dict[str, str]:
        stamp = str(int(moment.timestamp()))
        return {
            "X-Grafana-Alerting-Signature": sign(secret, stamp.encode() + b":" + raw),
            TS_HEADER: stamp,
        }

    def check(headers: dict[str, str]) -> bool:
        return verify_grafana_signature(
            SECRET, raw, headers, NOW, timedelta(minutes=5), timestamp_header=TS_HEADER
        )

    assert check(signed_at(NOW - timedelta(minutes=4)))
    assert check(signed_at(NOW + timedelta(minutes=4)))  # clocks drift both ways
    assert not check(signed_at(NOW - timedelta(minutes=6)))  # stale: a replay
    assert not check(signed_at(NOW, secret="forged"))
    tampered = signed_at(NOW - timedelta(minutes=10))
    tampered[TS_HEADER] = str(int(NOW.timestamp()))  # fresh stamp, old signature
    assert not check(tampered)
    for bad in ("", "soon", "-1", "1e9", "9" * 30):
        headers = signed_at(NOW)
        headers[TS_HEADER] = bad
        assert not check(headers)
    # signed without a timestamp, checked with one: refused
    assert not check({"X-Grafana-Alerting-Signature": sign(SECRET, raw)})


def test_pagerduty_signature_and_rotation() -> None:
    raw = body("pagerduty-triggered.json")
    old, new = "old-secret", "new-secret"
    one = {"X-PagerDuty-Signature": f"v1={sign(old, raw)}"}
    rotating = {"x-pagerduty-signature": f"v1={sign(new, raw)}, v1={sign(old, raw)}"}
    assert verify_pagerduty_signature(old, raw, one)
    assert verify_pagerduty_signature(old, raw, rotating)
    assert verify_pagerduty_signature(new, raw, rotating)
    assert verify_pagerduty_signature(["retired", new], raw, rotating)  # our side rotating
    assert not verify_pagerduty_signature("forged", raw, rotating)
    assert not verify_pagerduty_signature(old, raw + b"\n", one)
    assert not verify_pagerduty_signature(old, raw, {})
    assert not verify_pagerduty_signature("", raw, one)
    assert not verify_pagerduty_signature([], raw, one)
    assert not verify_pagerduty_signature(old, raw, {"X-PagerDuty-Signature": sign(old, raw)})
    assert not verify_pagerduty_signature(
        old, raw, {"X-PagerDuty-Signature": f"v2={sign(old, raw)}"}
    )
    assert not verify_pagerduty_signature(old, raw, {"X-PagerDuty-Signature": "v1=ü"})


def test_bearer_token() -> None:
    assert verify_bearer_token("t0k", {"Authorization": "Bearer t0k"})
    assert verify_bearer_token("t0k", {"authorization": "bearer  t0k "})
    assert not verify_bearer_token("t0k", {"Authorization": "Bearer nope"})
    assert not verify_bearer_token("t0k", {"Authorization": "Basic t0k"})
    assert not verify_bearer_token("t0k", {})
    assert not verify_bearer_token("", {"Authorization": "Bearer "})
    assert not verify_bearer_token("t0k", {"Authorization": "Bearer tök"})


# --- bad input ----------------------------------------------------------------------------


def grafana_with(version: object = "1", **alert_fields: object) -> bytes:
    """Grafana's docs example with `version` and fields of its second alert replaced."""
    root = json.loads(body("grafana-firing.json"))
    root["version"] = version
    root["alerts"][1].update(alert_fields)
    return json.dumps(root).encode()


def pd_event(event_type: str, data: dict[str, object]) -> bytes:
    return json.dumps({"event": {"id": "E1", "event_type": event_type, "data": data}}).encode()


@pytest.mark.parametrize(
    ("source", "raw", "message"),
    [
        (AM, b"", r"^body: not valid JSON"),
        (AM, b"\xff\xfe", r"^body: not valid JSON"),
        (AM, b"[1, 2]", r"^body: must be an object, not an array"),
        (AM, b'{"alerts": NaN}', r"^body: not valid JSON"),
        (AM, b"{}", r"^alerts: missing"),
        (AM, b'{"alerts": {}}', r"^alerts: must be an array, not an object"),
        (AM, b'{"alerts": [1]}', r"^alerts\[0\]: must be an object, not a number"),
        (AM, b'{"alerts": [{"status": "pending"}]}', r"^alerts\[0\]\.status: must be one of"),
        (AM, b'{"alerts": [{}]}', r"^alerts\[0\]\.status: must be one of firing, resolved"),
        (AM, b'{"truncatedAlerts": -1, "alerts": []}', r"^truncatedAlerts: must be a whole"),
        (AM, b'{"groupKey": 7, "alerts": []}', r"^groupKey: must be a string, not a number"),
        (GF, grafana_with(labels=["a"]), r"^alerts\[1\]\.labels: must be an object of strings"),
        (
            GF,
            grafana_with(labels={"team": "blue", "zone": 1}),
            r"^alerts\[1\]\.labels\.zone: must be a string",
        ),
        (GF, grafana_with(annotations="x"), r"^alerts\[1\]\.annotations: must be an object"),
        (
            GF,
            grafana_with(startsAt="2021-10-12T09:56:03"),
            r"^alerts\[1\]\.startsAt: must be an RFC 3339",
        ),
        (
            GF,
            grafana_with(startsAt="2021-13-12T09:56:03Z"),
            r"^alerts\[1\]\.startsAt: not a valid date",
        ),
        (GF, grafana_with(endsAt=0), r"^alerts\[1\]\.endsAt: must be a string, not a number"),
        (GF, grafana_with(values={"B": "high"}), r"^alerts\[1\]\.values\.B: must be a number"),
        (GF, grafana_with(fingerprint="f" * 300), r"^alerts\[1\]\.fingerprint: longer than"),
        (GF, grafana_with(version=1), r"^version: must be a string"),
        (PD, b'{"events": []}', r"^event: missing"),
        (PD, b'{"event": {"id": "E1"}}', r"^event\.event_type: missing"),
        (
            PD,
            b'{"event": {"id": 5, "event_type": "incident.triggered"}}',
            r"^event\.id: must be a string",
        ),
        (
            PD,
            b'{"event": {"id": "E1", "event_type": "incident.triggered"}}',
            r"^event\.data: missing",
        ),
        (
            PD,
            b'{"event": {"id": "E1", "event_type": "incident.triggered", "data": {}}}',
            r"^event\.data\.id: missing",
        ),
        (
            PD,
            pd_event("incident.resolved", {"id": "P", "type": "service"}),
            r"^event\.data\.type: must be 'incident'",
        ),
        (
            PD,
            pd_event("incident.triggered", {"id": "P", "service": "API"}),
            r"^event\.data\.service: must be an object",
        ),
        (
            PD,
            pd_event("incident.triggered", {"id": "P", "number": "2"}),
            r"^event\.data\.number: must be a whole number",
        ),
        (GEN, b'{"summary": "x"}', r"^service: missing"),
        (GEN, b'{"service": "s"}', r"^summary: missing"),
        (
            GEN,
            b'{"service": "s", "summary": "x", "kind": "vibes"}',
            r"^kind: must be one of quality, retrieval",
        ),
        (  # leave `kind` out for an unclassified incident; "unknown" is not one to name
            GEN,
            b'{"service": "s", "summary": "x", "kind": "unknown"}',
            r"^kind: must be one of quality, .*, latency, not 'unknown'$",
        ),
        (
            GEN,
            b'{"service": "s", "summary": "x", "severity": "p1"}',
            r"^severity: must be one of sev1",
        ),
        (
            GEN,
            b'{"service": "s", "summary": "x", "status": "acknowledged"}',
            r"^status: must be one of firing, resolved",
        ),
        (
            GEN,
            b'{"service": "s", "summary": "x", "value": true}',
            r"^value: must be a number or a string",
        ),
        (
            GEN,
            b'{"service": "s", "summary": "x", "links": ["javascript:alert(1)"]}',
            r"^links\[0\]: must start with https://",
        ),
        (
            GEN,
            b'{"service": "s", "summary": "x", "starts_at": "yesterday"}',
            r"^starts_at: must be an RFC 3339",
        ),
        (
            GEN,
            b'{"alerts": [{"service": "s", "summary": "x"}, {"service": "s"}]}',
            r"^alerts\[1\]\.summary: missing",
        ),
        (
            GEN,
            b'{"alerts": [{"service": "s", "summary": "x", "labels": {"": "v"}}]}',
            r"^alerts\[0\]\.labels: key '' must be",
        ),
    ],
)
def test_bad_shapes_name_the_field(source: AlertSource, raw: bytes, message: str) -> None:
    with pytest.raises(AlertPayloadError, match=message) as caught:
        parse(source, raw, {})
    assert isinstance(caught.value, UsageError)


def test_limits() -> None:
    many = json.dumps({"alerts": [{"status": "firing"}] * (MAX_ALERTS + 1)}).encode()
    with pytest.raises(AlertPayloadError, match=r"^alerts: more than 1000 entries \(1001\)"):
        parse(AM, many, {})
    with pytest.raises(AlertPayloadError, match=r"^body: larger than"):
        parse(GEN, b" " * (MAX_BODY_BYTES + 1), {})
    with pytest.raises(AlertPayloadError, match=r"^body: JSON nested too deeply"):
        parse(GEN, b"[" * 100_000 + b"]" * 100_000, {})
    long = {"service": "s", "summary": "x", "labels": {"note": "é" * 2000}}
    (alert,) = parse(GEN, json.dumps(long).encode(), {}).alerts
    assert len(alert.labels["note"].encode()) <= MAX_LABEL_BYTES
    assert alert.labels["note"].endswith("…")
    long_summary = {"service": "s", "summary": "first line " + "y" * 1000 + "\nsecond"}
    (alert,) = parse(GEN, json.dumps(long_summary).encode(), {}).alerts
    assert len(alert.summary) <= 300 and "\n" not in alert.summary


# --- fuzz ---------------------------------------------------------------------------------

FIXTURE_SOURCES = {"alertmanager": AM, "grafana": GF, "pagerduty": PD, "generic": GEN}
ODD_VALUES: list[object] = [
    None,
    True,
    0,
    -1,
    1.5,
    10**30,
    "",
    "x",
    "0001-01-01T00:00:00Z",
    "2026-02-30T00:00:00Z",
    "firing",
    "resolved",
    "incident.triggered",
    [],
    [None],
    {},
    {"a": None},
    {"": ""},
    "\udcff",
]


def random_json(rng: random.Random, depth: int = 0) -> object:
    if depth > 3 or rng.random() < 0.4:
        return rng.choice(ODD_VALUES)
    if rng.random() < 0.5:
        return [random_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    keys = ["alerts", "event", "data", "labels", "status", "id", "service", "summary", "x"]
    return {rng.choice(keys): random_json(rng, depth + 1) for _ in range(rng.randrange(5))}


def mutate(rng: random.Random, node: object) -> object:
    """The node with one value somewhere inside it replaced by an odd one."""
    if isinstance(node, dict) and node and rng.random() < 0.8:
        key = rng.choice(list(node))
        return {**node, key: mutate(rng, node[key])}
    if isinstance(node, list) and node and rng.random() < 0.8:
        i = rng.randrange(len(node))
        return [*node[:i], mutate(rng, node[i]), *node[i + 1 :]]
    return rng.choice([*ODD_VALUES, random_json(rng)])


def test_fuzz_only_alert_payload_errors_escape() -> None:
    rng = random.Random(20261122)
    fixtures = [
        f for f in sorted(FIXTURES.glob("*.json")) if f.name.split("-")[0] in FIXTURE_SOURCES
    ]
    for _ in range(3000):
        fixture = rng.choice(fixtures)
        source = FIXTURE_SOURCES[fixture.name.split("-")[0]]
        if rng.random() < 0.3:
            source = rng.choice(list(AlertSource))
        document = json.loads(fixture.read_bytes())
        for _ in range(rng.randrange(1, 4)):
            document = mutate(rng, document)
        if rng.random() < 0.1:
            document = random_json(rng)
        raw = json.dumps(document, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")
        try:
            note = parse(source, raw, {})
        except AlertPayloadError:
            continue
        for alert in note.alerts:
            assert alert.fingerprint and alert.name and alert.summary
            for moment in (alert.starts_at, alert.ends_at):
                assert moment is None or moment.tzinfo is UTC
