"""The one place that builds concrete adapters and wires them together."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from starlette.applications import Starlette

from bot.clock import SystemClock
from bot.config import Settings
from bot.domain.errors import ConfigError
from bot.domain.runbooks import RunbookLibrary
from bot.drivers.factory import HttpDrivers
from bot.drivers.outside import OutsideClient
from bot.drivers.verification import HttpVerifier
from bot.ports import Clock, DatabaseUnavailable
from bot.runbooks.loader import load_library
from bot.scheduler.jobs import build_scheduler
from bot.services.deps import Deps, Policy
from bot.services.ofrep_snapshot import check_snapshot, refresh_snapshot
from bot.services.service_catalog import refresh_catalog
from bot.slack.app import build_bolt_app
from bot.slack.background import Background
from bot.slack.chat import SlackChat
from bot.slack.directory import SlackDirectory
from bot.slack.history import SlackMessages
from bot.slack.listening import Listening
from bot.slack.responses import ResponseUrls
from bot.slack.token_check import check_bot_token
from bot.store.database import check_reachable, check_writable, create_engine, normalize_url
from bot.store.faults import unavailable
from bot.store.migrations import upgrade_database
from bot.store.registry_watch import RegistryWatch
from bot.store.uow import SqlUnitOfWorkFactory
from bot.web.alerts import AlertSecrets, alert_routes
from bot.web.api import api_routes
from bot.web.app import create_web_app
from bot.web.faults import DatabaseFaults, ReachabilityWatch
from bot.web.metrics import Metrics
from bot.web.ofrep import ofrep_routes

log = logging.getLogger(__name__)

# On shutdown, how long to let acked Slack requests finish their work.
SHUTDOWN_GRACE_SECONDS = 30
SLACK_CALL_TIMEOUT_SECONDS = 15


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    engine: AsyncEngine
    deps: Deps
    metrics: Metrics
    bolt: AsyncApp
    web: Starlette
    background: Background
    registry_watch: RegistryWatch
    # Run first when the web app shuts down, e.g. closing the Socket Mode connection, so that
    # no new request arrives while the work in hand is finished.
    before_shutdown: list[Callable[[], Awaitable[None]]] = field(default_factory=list)


async def build_runtime(
    settings: Settings, *, clock: Clock | None = None, run_scheduler: bool = True
) -> Runtime:
    """Upgrade the schema, then build everything. The scheduler starts with the web app."""
    _check_sqlite_folder(settings.database_url)
    try:
        await upgrade_database(settings.database_url)
    except (OSError, SQLAlchemyError) as exc:
        raise ConfigError("DATABASE_URL", f"cannot open the database: {exc}") from None
    library = _usable_runbooks(settings.runbooks_dir)
    if settings.check_slack_token:  # last: the one check that leaves this machine
        await check_bot_token(settings.slack_bot_token, settings.slack_api_url)
    engine = create_engine(settings.database_url)
    # One HTTP session for every call to Slack: without it slack_sdk opens a new one (and a
    # new connection) per call. The time limit is the session's: slack_sdk applies its own
    # `timeout` only to sessions it makes itself, so with this one a call Slack never answered
    # waited aiohttp's default of five minutes.
    http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=SLACK_CALL_TIMEOUT_SECONDS))
    client = _slack_client(
        settings,
        http,
        # Slack's passing failures are retried here, a few times and quickly; what they give
        # up on stays as pending Slack work (bot/services/pending_work.py) for later.
        AsyncRateLimitErrorRetryHandler(max_retry_count=3),
        AsyncServerErrorRetryHandler(max_retry_count=2),
        AsyncConnectionErrorRetryHandler(max_retry_count=2),
    )
    # For the calls that make something new (a message, a channel, a shared file): a 500 or a
    # dropped connection may come after Slack did it, and a blind retry would do it again. So
    # only a 429 (Slack did nothing) is retried here; the rest fail to the pending work, whose
    # next try first looks for what the last one may have made (see SlackChat).
    once = _slack_client(settings, http, AsyncRateLimitErrorRetryHandler(max_retry_count=3))
    # One client for drivers and verification checks, made when one first calls out.
    outside = OutsideClient()
    clock = clock or SystemClock()
    uow = SqlUnitOfWorkFactory(async_sessionmaker(engine, expire_on_commit=False))
    deps = Deps(
        uow=uow,
        chat=SlackChat(client, once=once),
        clock=clock,
        runbooks=library,
        policy=Policy(
            stakeholder_channel=settings.stakeholder_channel,
            triage_reminder_minutes=settings.triage_reminder_minutes,
            known_good_after=settings.known_good_after,
            roles=settings.roles,
            actions=settings.action_policy,
            alerts=settings.alerts,
            display_timezone=settings.display_timezone,
            postmortem_template=settings.postmortem_template,
            postmortem_review_after=settings.postmortem_review_after,
            pin_reaction=settings.pin_reaction,
        ),
        catalog=settings.catalog,
        drivers=HttpDrivers(outside),
        verifier=HttpVerifier(outside),
        directory=SlackDirectory(client, clock),
        messages=SlackMessages(client),
    )
    # A commit that changed the registry rebuilds this process's OFREP snapshot before the
    # writer goes on; the watch hears of other processes' commits.
    uow.after_registry_commit = lambda: check_snapshot(deps)
    registry_watch = RegistryWatch(lambda: check_snapshot(deps), settings.database_url)
    metrics = Metrics()
    background = Background()
    listening = Listening(deps, background, ResponseUrls(http))
    # One watch for both ways Slack's requests come in: asked at most once a second.
    reachability = ReachabilityWatch(lambda: check_reachable(engine))
    bolt = build_bolt_app(settings.slack_signing_secret, client, listening, reachability.check)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        scheduler = build_scheduler(deps, metrics) if run_scheduler else None
        if scheduler:
            scheduler.start()
        watching = asyncio.create_task(registry_watch.run(), name="registry watch")
        try:
            yield
        finally:
            for hook in runtime.before_shutdown:
                await hook()
            watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watching
            if scheduler:
                scheduler.shutdown(wait=False)
            try:
                async with asyncio.timeout(SHUTDOWN_GRACE_SECONDS):
                    await background.wait_idle()
            except TimeoutError:
                log.error("Stopped with %d Slack requests still being handled", background.busy)
            await background.stop()
            await http.close()
            await outside.aclose()
            await engine.dispose()

    async def health() -> dict[str, object]:
        # Writable, not only reachable: a SQLite file another process holds locked still
        # answers reads while every write fails (see check_writable).
        try:
            await check_writable(engine)
            database = "ok"
        except DatabaseUnavailable as exc:
            database = str(exc)
        except (OSError, SQLAlchemyError) as exc:  # not an outage we know: still not healthy
            database = f"failing: {type(exc).__name__}"
        return {
            "ok": database == "ok",
            "database": database,
            "runbooks": [r.key for r in library.runbooks],
            "broken_runbooks": library.broken_paths(),
        }

    metrics.gauge(
        "steadyhand_background_work",
        "Slack requests acked whose work is queued or running.",
        lambda: background.busy,
    )
    metrics.gauge(
        "steadyhand_gc_frozen_objects",
        "Objects from start-up the garbage collector no longer walks (bot/server.py settle_heap).",
        gc.get_freeze_count,
    )
    metrics.gauge(
        "steadyhand_registry_version_served",
        "The registry version this process's OFREP answers come from.",
        lambda: deps.served.current.version,
    )
    metrics.gauge(
        "steadyhand_registry_listening",
        "1 while this process hears registry changes by LISTEN/NOTIFY, 0 while it polls.",
        lambda: int(registry_watch.listening),
    )
    secrets = AlertSecrets(
        settings.alert_tokens,
        settings.grafana_secret,
        settings.grafana_timestamp_header,
        settings.pagerduty_secrets,
    )
    api = [*api_routes(deps, settings.api_tokens), *alert_routes(deps, secrets)]
    ofrep = ofrep_routes(deps, settings.api_tokens)
    faults = DatabaseFaults(unavailable, lambda: check_reachable(engine))
    web = create_web_app(
        bolt,
        settings.slack_signing_secret,
        background,
        metrics,
        health,
        lifespan,
        api,
        ofrep,
        faults,
        reachability,
    )
    runtime = Runtime(settings, engine, deps, metrics, bolt, web, background, registry_watch)
    await refresh_catalog(deps)  # the services registered over the API, before any request
    await refresh_snapshot(deps)  # what OFREP serves, from the config and the database
    return runtime


def _usable_runbooks(directory: Path) -> RunbookLibrary:
    """A broken runbook is left out and the others serve; with none left, incidents would
    open with no checklist at all, so the bot does not start."""
    if not directory.is_dir():
        raise _no_runbooks(f"{directory} is not a folder")
    library = load_library(directory)
    for problem in library.problems:
        log.warning("Runbook left out: %s", problem)
    if not any(directory.glob("*.md")):
        raise _no_runbooks(f"{directory} holds no runbooks (*.md files)")
    if not library.runbooks:
        lint = f"steadyhand runbooks lint {directory}"
        raise _no_runbooks(f"no runbook in {directory} can be used; see `{lint}`")
    return library


def _no_runbooks(problem: str) -> ConfigError:
    return ConfigError(
        "RUNBOOKS_DIR", f"{problem}. Point it at a folder of runbooks, e.g. the shipped runbooks/."
    )


def _slack_client(
    settings: Settings, http: aiohttp.ClientSession, *retries: AsyncRetryHandler
) -> AsyncWebClient:
    return AsyncWebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        session=http,
        # For the record only: with a session given, the session's time limit is the one
        # that holds (see build_runtime).
        timeout=SLACK_CALL_TIMEOUT_SECONDS,
        retry_handlers=list(retries),
    )


def _check_sqlite_folder(database_url: str) -> None:
    # SQLite creates the file but not its folder; say so plainly instead of a driver error.
    url = normalize_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        folder = Path(url.database).parent
        if not folder.is_dir():
            raise ConfigError(
                "DATABASE_URL", f"the folder {folder} for the SQLite file does not exist."
            )
