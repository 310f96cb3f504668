"""`steadyhand change record`, `steadyhand known-good`, `steadyhand changes`, `steadyhand
service register`: the registry from a terminal or a pipeline, straight to the database, with
the same checks as the API."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from bot.domain.errors import Conflict, NotFound, UsageError

# The rest is imported by the commands that use it: `steadyhand` builds its parser, this module
# included, for every command, and `serve` should not start by importing them with the garbage
# collector still on (bot/cli.py _serve).
if TYPE_CHECKING:
    from bot.domain.messages import Message, Modal
    from bot.ports import Upload
    from bot.services.deps import Deps


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    change = sub.add_parser("change", help="record what changed in a service")
    change_sub = change.add_subparsers(required=True, metavar="ACTION")
    record = change_sub.add_parser("record", help="record that a component runs a new version")
    _target(record)
    record.add_argument("--eval-score", type=float, help="the new version's eval score, 0 to 1")
    record.add_argument("--source", help="a link to the pipeline run or pull request")
    record.add_argument("--actor", help="who deployed it (default: your login name)")
    record.set_defaults(run=_record)

    known_good = sub.add_parser("known-good", help="mark a version as a rollback target")
    _target(known_good)
    known_good.add_argument("--by", help="who vouches for it (default: your login name)")
    known_good.set_defaults(run=_known_good)

    changes = sub.add_parser("changes", help="print recent changes, newest first")
    changes.add_argument("--service", help="only this service")
    changes.add_argument("--since", default="24h", help="how far back, e.g. 90m, 24h, 7d")
    changes.set_defaults(run=_changes)

    service = sub.add_parser("service", help="services registered outside steadyhand.yml")
    service_sub = service.add_subparsers(required=True, metavar="ACTION")
    register = service_sub.add_parser(
        "register", help="register a service, or update one registered before"
    )
    register.add_argument("name")
    register.add_argument(
        "--component",
        action="append",
        default=[],
        metavar="COMPONENT=VERSION",
        help="a component and the version it runs now, e.g. prompt=v1 (repeatable)",
    )
    register.add_argument(
        "--flag",
        action="append",
        default=[],
        metavar="NAME=KIND[:DEFAULT]",
        help="a flag, e.g. new-ui=boolean:true or ramp=percentage:30 (repeatable)",
    )
    register.add_argument("--environment", default="production")
    register.add_argument("--by", help="who registers it (default: your login name)")
    register.set_defaults(run=_register)


def _target(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--service", required=True)
    parser.add_argument("--component", required=True)
    parser.add_argument("--version", required=True)


def _record(args: argparse.Namespace) -> int:
    from bot.domain.triage_context import describe_change
    from bot.services import registry

    async def work(deps: Deps) -> str:
        change = await registry.record_change(
            deps,
            args.service,
            args.component,
            args.version,
            args.actor or getpass.getuser(),
            source=args.source,
            eval_score=args.eval_score,
        )
        return f"recorded: {describe_change(change)}"

    return _run(work)


def _known_good(args: argparse.Namespace) -> int:
    from bot.services import registry

    by = args.by or getpass.getuser()

    async def work(deps: Deps) -> str:
        mark = await registry.mark_known_good(
            deps, args.service, args.component, args.version, by, f"marked by {by}"
        )
        return f"known-good: {mark.service} {mark.component.value} {mark.version} ({mark.reason})"

    return _run(work)


def _changes(args: argparse.Namespace) -> int:
    from bot.domain.registry import parse_duration
    from bot.domain.triage_context import describe_change
    from bot.services import registry

    async def work(deps: Deps) -> str:
        found = await registry.recent_changes(deps, args.service, parse_duration(args.since))
        if not found:
            return f"no changes in the last {args.since}"
        return "\n".join(describe_change(c) for c in found)

    return _run(work)


def _register(args: argparse.Namespace) -> int:
    from bot.services.service_catalog import register_service

    async def work(deps: Deps) -> str:
        body = {
            "name": args.name,
            "components": dict(_pair(text, "--component") for text in args.component),
            "flags": dict(_flag(text) for text in args.flag),
            "environment": args.environment,
        }
        spec, created = await register_service(deps, body, args.by or getpass.getuser())
        versions = ", ".join(f"{c.value} {v}" for c, v in spec.components.items())
        return (
            f"{'registered' if created else 'updated'}: {spec.name} ({versions or 'no components'})"
        )

    return _run(work)


def _pair(text: str, option: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name or not value:
        raise UsageError(f"`{option} {text}`: write NAME=VALUE, e.g. `prompt=v1`.")
    return name, value


def _flag(text: str) -> tuple[str, dict[str, Any]]:
    name, spec = _pair(text, "--flag")
    kind, _, default = spec.partition(":")
    body: dict[str, Any] = {"kind": kind}
    if default:
        # Typed as steadyhand.yml would read it; anything else goes to the checks as text,
        # so the message is theirs.
        words = {"true": True, "on": True, "false": False, "off": False}
        body["default"] = words.get(default.lower(), int(default) if default.isdigit() else default)
    return name, body


def _run(work: Callable[[Deps], Awaitable[str]]) -> int:
    try:
        print(asyncio.run(_with_deps(work)))
    except (UsageError, NotFound, Conflict) as exc:
        print(f"steadyhand: {exc}", file=sys.stderr)
        return 2
    return 0


async def _with_deps(work: Callable[[Deps], Awaitable[str]]) -> str:
    from bot.clock import SystemClock
    from bot.config import load_settings
    from bot.domain.runbooks import RunbookLibrary
    from bot.services.deps import Deps, Policy
    from bot.services.service_catalog import refresh_catalog
    from bot.store.database import create_engine, session_factory
    from bot.store.migrations import upgrade_database
    from bot.store.uow import SqlUnitOfWorkFactory

    settings = load_settings(os.environ, require_slack=False)
    await upgrade_database(settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        deps = Deps(
            uow=SqlUnitOfWorkFactory(session_factory(engine)),
            chat=OfflineChat(),
            clock=SystemClock(),
            runbooks=RunbookLibrary([], []),
            policy=Policy(known_good_after=settings.known_good_after),
            catalog=settings.catalog,
        )
        await refresh_catalog(deps)  # services registered over the API count too
        return await work(deps)
    finally:
        await engine.dispose()


class OfflineChat:
    """The CLI talks to the database only; the registry's use cases never post to Slack."""

    async def create_channel(self, name: str) -> str:
        self._refuse()

    async def invite(self, channel: str, users: Sequence[str]) -> None:
        self._refuse()

    async def set_topic(self, channel: str, topic: str) -> None:
        self._refuse()

    async def post(self, channel: str, message: Message, *, key: str | None = None) -> str:
        self._refuse()

    async def update(self, channel: str, ts: str, message: Message) -> None:
        self._refuse()

    async def post_ephemeral(self, channel: str, user: str, message: Message) -> None:
        self._refuse()

    async def open_modal(self, trigger_id: str, modal: Modal) -> None:
        self._refuse()

    async def upload_files(self, channel: str, files: Sequence[Upload], comment: str) -> list[str]:
        self._refuse()

    async def find_posted(self, channel: str, key: str) -> str | None:
        self._refuse()

    async def find_channel(self, name: str) -> str | None:
        self._refuse()

    async def find_shared_file(self, channel: str, filename: str) -> str | None:
        self._refuse()

    def _refuse(self) -> NoReturn:
        from bot.ports import ChatError

        raise ChatError("the command line does not talk to Slack")
