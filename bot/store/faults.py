"""Which failures mean "the database is not there right now", as opposed to a bug.

The drivers say it in many ways: asyncpg's connect raises the socket's own OSError
(`ConnectionRefusedError`, a timeout) unwrapped; a connection cut mid-query comes back as a
DBAPIError that SQLAlchemy marks `connection_invalidated`; the pool raises its own TimeoutError
when every connection is in use; PostgreSQL names the rest by SQLSTATE (08 connection, 53
resources, 57P shutting down or starting up, 58 I/O, 25006 a read-only standby) and SQLite by
its result code (locked, busy, read-only, I/O error, full, cannot open). Each becomes one
`DatabaseUnavailable` with a reason a caller may read: no host, no password, no SQL.
"""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from bot.ports import DatabaseUnavailable

RETRY_AFTER_UNREACHABLE = 5
RETRY_AFTER_BUSY = 2

_POSTGRES_OUTAGE_CLASSES = ("08", "53", "57P", "58")
_POSTGRES_READ_ONLY = "25006"
_SQLITE_LOCKED = ("SQLITE_BUSY", "SQLITE_LOCKED")
_SQLITE_UNWRITABLE = ("SQLITE_READONLY", "SQLITE_IOERR", "SQLITE_FULL", "SQLITE_CANTOPEN")
_DRIVER_MODULES = ("sqlalchemy.", "asyncpg.", "aiosqlite.")


def unavailable(exc: BaseException) -> DatabaseUnavailable | None:
    """The outage `exc` reports, or None when it is not one (a bug, bad SQL, a constraint)."""
    if isinstance(exc, DatabaseUnavailable):
        return exc
    if isinstance(exc, PoolTimeout):
        return DatabaseUnavailable(
            "the database is busy: every connection is in use; retry shortly", RETRY_AFTER_BUSY
        )
    if isinstance(exc, DBAPIError):
        return _from_driver_error(exc)
    if isinstance(exc, OSError) and _raised_in_driver(exc.__traceback__):
        # ConnectionRefusedError, a connect timeout, an unreachable host: named, not detailed,
        # since the driver's text holds the server's address.
        return _unreachable(type(exc).__name__)
    return None


def _from_driver_error(exc: DBAPIError) -> DatabaseUnavailable | None:
    if exc.connection_invalidated:
        return _unreachable("the connection was cut")
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if code == _POSTGRES_READ_ONLY:
        return DatabaseUnavailable(
            "the database is read-only (a standby?); writes cannot be stored",
            RETRY_AFTER_UNREACHABLE,
        )
    if isinstance(code, str) and code.startswith(_POSTGRES_OUTAGE_CLASSES):
        return _unreachable(f"SQLSTATE {code}")
    name = getattr(exc.orig, "sqlite_errorname", "") or ""
    if name.startswith(_SQLITE_LOCKED):
        return DatabaseUnavailable(
            f"the database file is locked by another connection ({name}); retry shortly",
            RETRY_AFTER_BUSY,
        )
    if name.startswith(_SQLITE_UNWRITABLE):
        return DatabaseUnavailable(
            f"the database file cannot be written ({name})", RETRY_AFTER_UNREACHABLE
        )
    return None


def _unreachable(what: str) -> DatabaseUnavailable:
    return DatabaseUnavailable(
        f"the database is unreachable ({what}); retry in a few seconds", RETRY_AFTER_UNREACHABLE
    )


def _raised_in_driver(trace: TracebackType | None) -> bool:
    # An OSError is the database's only when it came up through the driver or the pool; the
    # same class from a Slack call or a file read is someone else's failure.
    while trace is not None:
        module = str(trace.tb_frame.f_globals.get("__name__", ""))
        if module.startswith(_DRIVER_MODULES):
            return True
        trace = trace.tb_next
    return False
