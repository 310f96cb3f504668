"""The chaos scenario: the real `steadyhand serve` under alerts and slash commands while the
sandbox Slack fails a seeded share of every call, killed with SIGKILL once mid-run and started
again on the same database. Afterwards: what was accepted, opened, half-opened, lost, doubled.

One package for bench/chaos.py and tests/e2e/test_chaos.py, so both play the same scenario
(scenario.py; monitors.py and people.py send, bot_process.py runs the bot, checks.py reads):

- The bot runs in its own process (`python -m bot.cli serve`, scheduler included), as in
  production; Slack (the sandbox), the monitors and the people run in this one.
- Monitors send alert notifications in their real payload shapes (Alertmanager webhook v4,
  Grafana, PagerDuty V3 webhooks signed, the generic format) and retry as they do: a 5xx, a
  429 or no answer is sent again with backoff; a 4xx is a rejection and is not retried.
- Responders run `/incident open`, `update`, `rollback` (a manager clicks Approve on the card)
  and `resolve` through signed requests; an answer that is not an ack within 3 s is sent again
  with `X-Slack-Retry-Num`, up to Slack's three retries (sooner than Slack's 1 and 5 minutes).
- When the traffic is over, Slack heals (chaos off) and the bot's scheduler runs until the
  sandbox has been quiet a while, within a bound; then the database and the sandbox are read.

What counts: an alert notification answered 2xx or a command acked is *accepted* (an ack
that tells the person the command failed is counted apart). An incident is *half-opened* when
its row has no channel, or its channel lacks the topic, the header, the checklist, the five
questions or the people paged (the opener; the on-call group for alerts, with the alert
summary), or the bot made a channel no incident row names (an opening's ruins). *Lost*: an
accepted alert in no fully opened incident; an acked open that left no incident; an acked
update missing from the timeline or the channel; an acked rollback with no card to approve; an
acked resolve not done. *Duplicated*: two incidents for one alert group or one `/incident
open`, a second channel for an incident, a header, checklist step, five-questions message or
alert summary posted twice in a channel, an update twice in the channel or on the timeline.
"""

from bot.sandbox.chaos.checks import FullOpening, Outcome, opening_gaps
from bot.sandbox.chaos.scenario import Scenario, run

__all__ = ["FullOpening", "Outcome", "Scenario", "opening_gaps", "run"]
