"""The `steadyhand` command."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from bot.cli_registry import add_commands as add_registry_commands
from bot.domain.errors import ConfigError

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.services.deps import Deps

T = TypeVar("T")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        level = _log_level("INFO")
    except ConfigError as exc:
        print(f"steadyhand: configuration error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        code: int = args.run(args)
    except ConfigError as exc:
        print(f"steadyhand: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code


def _log_level(default: str) -> int:
    name = (os.environ.get("LOG_LEVEL") or default).upper()
    level = logging.getLevelNamesMapping().get(name)
    if level is None:
        raise ConfigError("LOG_LEVEL", f"`{name}` is not one of DEBUG, INFO, WARNING, ERROR.")
    return level


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="steadyhand", description="Incident response for production AI systems, in Slack."
    )
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the bot (HTTP on PORT, or Socket Mode)")
    serve.add_argument(
        "--socket-mode",
        action="store_true",
        help="connect out to Slack over Socket Mode (needs SLACK_APP_TOKEN)",
    )
    serve.add_argument("--port", type=int, help="HTTP port (default: PORT or 3000)")
    serve.add_argument(
        "--skip-slack-check",
        action="store_true",
        help="do not ask Slack (auth.test) at start whether SLACK_BOT_TOKEN works, for offline "
        "starts; the same as STEADYHAND_SKIP_SLACK_CHECK=1",
    )
    serve.set_defaults(run=_serve)

    runbooks = sub.add_parser("runbooks", help="work with runbooks")
    runbooks_sub = runbooks.add_subparsers(required=True, metavar="ACTION")
    lint = runbooks_sub.add_parser("lint", help="check runbooks; print file:line: message")
    lint.add_argument("directory", nargs="?", help="folder of runbooks (default: RUNBOOKS_DIR)")
    lint.set_defaults(run=_lint)

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(required=True, metavar="ACTION")
    upgrade = db_sub.add_parser("upgrade", help="migrate the schema to the latest version")
    upgrade.set_defaults(run=_db_upgrade)

    add_registry_commands(sub)

    postmortem = sub.add_parser(
        "postmortem", help="print an incident's post-mortem as Markdown, or write it to a file"
    )
    postmortem.add_argument("incident", help="the incident's ID")
    postmortem.add_argument("-o", "--output", type=Path, help="write to this file instead")
    postmortem.add_argument(
        "--picture", type=Path, metavar="FILE", help="also write its timeline picture (PNG) here"
    )
    postmortem.set_defaults(run=_postmortem)

    demo = sub.add_parser("demo", help="play an incident against the built-in sandbox Slack")
    demo.set_defaults(run=_demo)
    return parser


def _serve(args: argparse.Namespace) -> int:
    # Start-up imports and builds a heap of objects that live as long as the process; the
    # garbage collector, run as that heap grows, walks it again and again for nothing (a tenth
    # of start-up). The heap is frozen before the bot listens, and the collector turned back
    # on (bot/server.py settle_heap); until then it waits.
    gc.disable()
    try:
        from bot.config import load_settings
        from bot.server import serve

        settings = load_settings(os.environ, socket_mode=args.socket_mode)
        if args.skip_slack_check:
            settings = replace(settings, check_slack_token=False)
        port = args.port or settings.port
        asyncio.run(serve(settings, port=port, socket_mode=args.socket_mode))
    finally:
        gc.enable()  # when start-up failed before settle_heap
    return 0


def _lint(args: argparse.Namespace) -> int:
    from bot.runbooks.loader import lint_directory

    directory = Path(args.directory or os.environ.get("RUNBOOKS_DIR") or "runbooks")
    problems = lint_directory(directory)
    for problem in problems:
        print(problem)
    if not problems:
        print(f"{directory}: all runbooks are fine")
    return 1 if problems else 0


def _db_upgrade(args: argparse.Namespace) -> int:
    from bot.config import load_settings
    from bot.store.migrations import upgrade_database

    settings = load_settings(os.environ, require_slack=False)
    asyncio.run(upgrade_database(settings.database_url))
    print("database schema is up to date")
    return 0


def _postmortem(args: argparse.Namespace) -> int:
    from bot.config import load_settings
    from bot.domain.errors import NotFound
    from bot.services.postmortem import postmortem_draft

    settings = load_settings(os.environ, require_slack=False)
    drawing = args.picture is not None
    try:
        draft = asyncio.run(
            _offline(settings, lambda deps: postmortem_draft(deps, args.incident, picture=drawing))
        )
    except NotFound as exc:
        print(f"steadyhand: {exc}", file=sys.stderr)
        return 2
    if args.output is None:
        sys.stdout.write(draft.markdown)
    elif not _write(args.output, draft.markdown.encode("utf-8")):
        return 2
    else:
        print(f"wrote the post-mortem of {args.incident} to {args.output}")
    if not drawing:
        return 0
    if draft.picture is None:
        print("steadyhand: the timeline picture could not be drawn (see the log)", file=sys.stderr)
        return 1
    if not _write(args.picture, draft.picture):
        return 2
    # Not on stdout when the Markdown is there: it would end up in the file it is piped to.
    said = sys.stderr if args.output is None else sys.stdout
    print(f"wrote the timeline picture of {args.incident} to {args.picture}", file=said)
    return 0


def _write(path: Path, content: bytes) -> bool:
    try:
        path.write_bytes(content)
    except OSError as exc:
        print(f"steadyhand: cannot write {path}: {exc.strerror or exc}", file=sys.stderr)
        return False
    return True


async def _offline(settings: Settings, work: Callable[[Deps], Awaitable[T]]) -> T:
    """Run a use case on the database alone: no Slack, no scheduler."""
    from bot.cli_registry import OfflineChat
    from bot.clock import SystemClock
    from bot.domain.runbooks import RunbookLibrary
    from bot.services.deps import Deps, Policy
    from bot.store.database import create_engine, session_factory
    from bot.store.migrations import upgrade_database
    from bot.store.uow import SqlUnitOfWorkFactory

    await upgrade_database(settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        deps = Deps(
            uow=SqlUnitOfWorkFactory(session_factory(engine)),
            chat=OfflineChat(),
            clock=SystemClock(),
            runbooks=RunbookLibrary([], []),
            policy=Policy(
                display_timezone=settings.display_timezone,
                postmortem_template=settings.postmortem_template,
            ),
            catalog=settings.catalog,
        )
        return await work(deps)
    finally:
        await engine.dispose()


def _demo(args: argparse.Namespace) -> int:
    # The conversation is the output; the server's own logging (some of it at import) would
    # drown it.
    logging.getLogger().setLevel(_log_level("WARNING"))
    from bot.demo import check_runbooks_dir, play

    runbooks_dir = Path(os.environ.get("RUNBOOKS_DIR") or "runbooks")
    check_runbooks_dir(runbooks_dir)
    print(asyncio.run(play(runbooks_dir)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
