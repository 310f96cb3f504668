"""Chaos: the real `steadyhand serve` under alerts and slash commands while Slack fails.

The sandbox Slack answers a seeded share (20%) of calls to every Web API method with 429
(`Retry-After: 1`), 500, or no answer (the connection dropped at once or held past the bot's
client timeout; half of those after Slack did the work). 300 alert notifications
(Alertmanager, Grafana, PagerDuty, generic) and 100 signed slash commands (open, update,
rollback approved by a manager's click, resolve) are sent over --traffic-seconds; the bot is
killed with SIGKILL halfway and started again on the same database. Then Slack heals and the
bot's scheduler runs until Slack has been quiet a while (bounded), and the run prints
accepted, opened, half-opened, lost and duplicated (see bot/sandbox/chaos.py for what each
counts). Target: 0 lost, 0 half-opened, 0 duplicated; the exit status is 1 when it is missed.

The bot runs in its own process; the sandbox Slack, the monitors and the people in this one.
Only loopback is used, and every loop is bounded: the run stops by itself in a few minutes.

    python bench/chaos.py [--notifications 300] [--commands 100] [--seed 1] [--share 0.2]
                          [--performed-share 0.5] [--held-share 0.25] [--traffic-seconds 30]
                          [--database-url URL] [--show-log]

Without --database-url it uses a throwaway SQLite file. A PostgreSQL URL (e.g.
postgresql+asyncpg://postgres@127.0.0.1:5432/postgres) names a server to connect to: a fresh
database is created there for the run and dropped after.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from _common import fresh_database

from bot.sandbox.chaos import Scenario, run
from bot.sandbox.failures import Chaos


async def main(args: argparse.Namespace) -> int:
    scenario = Scenario(
        notifications=args.notifications,
        commands=args.commands,
        seed=args.seed,
        chaos=Chaos(
            seed=args.seed,
            share=args.share,
            performed_share=args.performed_share,
            held_share=args.held_share,
        ),
        traffic_seconds=args.traffic_seconds,
    )
    async with fresh_database(args.database_url) as url:
        outcome = await run(scenario, url)
    print(outcome.report())
    if args.show_log:
        print("bot log ends:\n" + outcome.log_tail)
    return 0 if outcome.met else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notifications", type=int, default=300)
    parser.add_argument("--commands", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--share", type=float, default=0.2, help="of Slack calls that fail")
    parser.add_argument(
        "--performed-share",
        type=float,
        default=0.5,
        help="of timeouts, those after Slack did the work (a retry may then double it)",
    )
    parser.add_argument(
        "--held-share",
        type=float,
        default=0.25,
        help="of timeouts, those held 31 s, past the bot's client timeout (others drop at once)",
    )
    parser.add_argument("--traffic-seconds", type=float, default=30.0)
    parser.add_argument("--database-url", help="default: a throwaway SQLite file")
    parser.add_argument("--show-log", action="store_true", help="print the bot log's tail")
    args = parser.parse_args()
    if args.commands < 10:
        parser.error("--commands must be at least 10: open, updates, rollback, resolve")
    logging.basicConfig(level=logging.WARNING)
    sys.exit(asyncio.run(main(args)))
