"""Counters and gauges in Prometheus' text exposition format.

Small enough to write ourselves; prometheus_client's process-global registry would make every
test share one set of numbers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

_HELP = {
    "steadyhand_slack_requests_total": "Requests received on /slack/events.",
    "steadyhand_reminders_sent_total": "Five-questions reminders sent.",
    "steadyhand_job_failures_total": "Scheduled job runs that failed.",
    "steadyhand_database_unavailable_total": "Requests answered 503: the database was not there.",
}


class Metrics:
    def __init__(self) -> None:
        self._counts: Counter[str] = Counter({name: 0 for name in _HELP})
        self._gauges: dict[str, tuple[str, Callable[[], float]]] = {}

    def count(self, name: str, by: int = 1) -> None:
        self._counts[name] += by

    def value(self, name: str) -> int:
        return self._counts[name]

    def gauge(self, name: str, help: str, read: Callable[[], float]) -> None:
        """A value read when /metrics is scraped."""
        self._gauges[name] = (help, read)

    def render(self) -> str:
        lines = []
        for name in sorted(self._counts):
            lines += [
                f"# HELP {name} {_HELP.get(name, name)}",
                f"# TYPE {name} counter",
                f"{name} {self._counts[name]}",
            ]
        for name, (help, read) in sorted(self._gauges.items()):
            lines += [f"# HELP {name} {help}", f"# TYPE {name} gauge", f"{name} {read()}"]
        return "\n".join(lines) + "\n"
