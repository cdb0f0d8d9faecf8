"""Errors a user can act on, in one hierarchy that every face maps from one table.

Each error has a :class:`ErrorKind`; the command line turns the kind into one line and an exit code
(``api/errors.py``), the HTTP service into a status code and RFC 9457 problem details. Errors raised below the
domain (``geo_data`` readers, the database driver) are classified by :func:`classify`, so a face never keeps its
own list of exception types.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import ClassVar


class ErrorKind(StrEnum):
    """What a face needs to know about an error to answer it."""

    BAD_INPUT = "bad_input"  # the caller's to fix: a field, a file, a row
    NOT_FOUND = "not_found"  # a product, area, sample, plan or user that does not exist
    CONFLICT = "conflict"  # contradicts what is stored (same id, other content; a state that forbids it)
    UNAVAILABLE = "unavailable"  # the database or another service is down or busy: safe to retry later
    TOO_LARGE = "too_large"  # a file or body above its configured size limit
    LIMITED = "limited"  # too many attempts (logins): refused until ``retry_after`` seconds have passed
    FAILURE = "failure"  # anything else: a bug, reported as one line without internals


class GIError(Exception):
    """Base of every error the system raises on purpose. ``field`` names what is wrong, when one thing is."""

    kind: ClassVar[ErrorKind] = ErrorKind.FAILURE

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.message = message

    @property
    def detail(self) -> str:
        """The message without the ``"field: "`` in front of it (for a face that shows the field apart)."""
        return self.message.removeprefix(f"{self.field}: ") if self.field else self.message


class InputError(GIError, ValueError):
    """Bad input: ``field`` names what is wrong, ``problem`` says how; str() is ``"field: problem"``."""

    kind = ErrorKind.BAD_INPUT

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}", field=field)
        self.problem = problem


class NotFoundError(GIError, LookupError):
    """A product, area, sample, plan or user that does not exist; the message names the field and the key."""

    kind = ErrorKind.NOT_FOUND

    def __init__(self, message: str, field: str | None = None) -> None:
        if field is None and ": " in message:
            field = message.split(": ", 1)[0]
        super().__init__(message, field=field)


class ConflictError(GIError):
    """The request contradicts what is stored: the same identifier with other content (``differences`` maps
    each differing field to its stored and submitted value), or a state that forbids the action."""

    kind = ErrorKind.CONFLICT

    def __init__(
        self,
        message: str,
        field: str | None = None,
        differences: Mapping[str, tuple[object, object]] | None = None,
    ) -> None:
        super().__init__(message, field=field)
        self.differences: dict[str, tuple[object, object]] = dict(differences or {})


class UnavailableError(GIError):
    """The database or another service cannot answer now; nothing was changed and a retry is safe."""

    kind = ErrorKind.UNAVAILABLE

    def __init__(self, message: str, retry_after: int | None = None, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.retry_after = retry_after


class TooLargeError(InputError):
    """A file or request body above its configured limit; ``field`` names it."""

    kind = ErrorKind.TOO_LARGE


class RateLimitedError(GIError):
    """Too many attempts in a window (failed logins): refused for ``retry_after`` seconds."""

    kind = ErrorKind.LIMITED

    def __init__(self, message: str, retry_after: int, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Problem:
    """An error as a face shows it: its kind, one line of text, the field it concerns, and retry advice."""

    kind: ErrorKind
    message: str
    field: str | None = None
    retry_after: int | None = None
    differences: Mapping[str, tuple[object, object]] | None = None


# SQLSTATE classes and codes that mean "try again later" rather than "your input is wrong".
_RETRY_SQLSTATES: Mapping[str, str] = {
    "40001": "the database could not serialize concurrent changes",
    "40P01": "the database detected a deadlock between concurrent changes",
    "55P03": "a lock could not be obtained in time",
    "57014": "the statement was cancelled (timeout)",
    "53100": "the database server's disk is full",
    "53200": "the database server is out of memory",
    "53300": "the database server has too many connections",
    "57P01": "the database server is shutting down",
    "57P02": "the database server is restarting",
    "57P03": "the database server is starting up",
}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# The CHECK `gi db archive` puts on a DEFAULT partition (gi/db/archive.py, default_check_name).
_ARCHIVED_CHECK = re.compile(r"^(?P<table>.+)_default_archived_p(?P<year>\d{4})_(?P<month>\d{2})$")


def _database_problem(exc: BaseException) -> Problem | None:
    """A database driver error as a problem (no SQL, no parameters: they may hold other people's data)."""
    import psycopg
    from sqlalchemy.exc import DataError, DBAPIError, OperationalError

    if isinstance(exc, DBAPIError):
        orig: BaseException | None = exc.orig
        lost = isinstance(exc, OperationalError)
    elif isinstance(exc, psycopg.Error):  # raised by the driver itself (COPY and other raw-connection work)
        orig = exc
        lost = isinstance(exc, psycopg.OperationalError)
    else:
        return None
    sqlstate = getattr(orig, "sqlstate", None) or ""
    if sqlstate in _RETRY_SQLSTATES:
        return Problem(ErrorKind.UNAVAILABLE, f"database: {_RETRY_SQLSTATES[sqlstate]}; retry", retry_after=5)
    if sqlstate == "GIA01":  # raised by the audit log's triggers (docs/audit.md): append-only rows
        return Problem(ErrorKind.CONFLICT, f"refused: {_first_line(orig or exc)}")
    if sqlstate in ("42P01", "42703", "42704"):  # undefined table, column or type
        return Problem(
            ErrorKind.UNAVAILABLE,
            "database: the schema is older than this program (tables or columns are missing); "
            "run `gi db upgrade`",
            retry_after=30,
        )
    if sqlstate.startswith("08") or lost:
        return Problem(
            ErrorKind.UNAVAILABLE,
            "database: cannot connect or the connection was lost; check GI_DATABASE_URL or run `gi db up`",
            retry_after=5,
        )
    archived = _ARCHIVED_CHECK.match(getattr(getattr(orig, "diag", None), "constraint_name", None) or "")
    if sqlstate == "23514" and archived:  # the DEFAULT partition's check of a month `gi db archive` closed
        return Problem(
            ErrorKind.CONFLICT,
            f"refused: {archived['table']}: {archived['year']}-{archived['month']} is an archived month "
            "(gi db archive); rows of it can no longer be stored",
        )
    if sqlstate == "23505":  # a unique key: the same thing is stored already (a concurrent or repeated write)
        return Problem(
            ErrorKind.CONFLICT, "already stored: a unique key of this record exists (retry to see it)"
        )
    if "NUL (0x00)" in str(
        orig or exc
    ):  # the driver refuses NUL in text: the caller's text, not the database
        return Problem(ErrorKind.BAD_INPUT, "text: contains a NUL character")
    if sqlstate.startswith("22") or isinstance(
        exc, DataError | psycopg.DataError
    ):  # data exception: a value out of range, not valid text, a bad date
        return Problem(ErrorKind.BAD_INPUT, f"a value cannot be stored: {_first_line(orig or exc)}")
    return None


def classify(exc: BaseException) -> Problem:
    """The problem a face should show for ``exc``: our own errors by kind, input errors of the file readers as
    bad input, database errors as unavailable (with the cause), memory exhaustion as unavailable, and anything
    else as a failure whose text does not leak internals.

    Notes the domain added to the exception on its way up (``exc.add_note``: what a long job had committed when
    it failed, and whether a re-run is safe) follow the message.
    """
    problem = _classify(exc)
    notes = [str(n) for n in getattr(exc, "__notes__", ()) if str(n).strip()]
    if notes:
        problem = replace(problem, message="; ".join([problem.message, *notes]))
    return problem


def _classify(exc: BaseException) -> Problem:
    if isinstance(exc, GIError):
        return Problem(
            exc.kind,
            _first_line(exc),
            field=exc.field,
            retry_after=getattr(exc, "retry_after", None),
            differences=getattr(exc, "differences", None) or None,
        )
    database = _database_problem(exc)
    if database is not None:
        return database
    # The file readers of geo_data raise ValueError subclasses that already name the file and the problem.
    from geo_data.crs import UnknownCRSError
    from geo_data.io import AreaFileError
    from geo_data.lab_files import LabFileError
    from geo_data.reference_sets import ReferenceSetError
    from geo_data.sample_files import SampleFileError
    from geo_data.tables import TableFileError

    if isinstance(
        exc,
        AreaFileError | UnknownCRSError | LabFileError | ReferenceSetError | SampleFileError | TableFileError,
    ):
        return Problem(ErrorKind.BAD_INPUT, _first_line(exc))
    if isinstance(exc, FileNotFoundError):
        name = exc.filename if exc.filename else None
        return Problem(ErrorKind.BAD_INPUT, f"{name}: no such file" if name else _first_line(exc), field=None)
    if isinstance(exc, IsADirectoryError | PermissionError):
        return Problem(ErrorKind.BAD_INPUT, f"{exc.filename}: {exc.strerror}")
    if isinstance(exc, UnicodeError):
        return Problem(ErrorKind.BAD_INPUT, "text: not valid Unicode (an unpaired surrogate or a bad byte)")
    if isinstance(exc, ValueError) and "NUL (0x00)" in str(exc):  # psycopg refuses NUL in text parameters
        return Problem(ErrorKind.BAD_INPUT, "text: contains a NUL character")
    if isinstance(exc, MemoryError):
        return Problem(
            ErrorKind.UNAVAILABLE, "out of memory: the job was stopped; nothing half-done was kept"
        )
    if isinstance(exc, OSError) and exc.errno == 28:  # ENOSPC
        return Problem(
            ErrorKind.UNAVAILABLE, f"disk full: {exc.filename or 'output'}: no space left on device"
        )
    return Problem(ErrorKind.FAILURE, f"internal error ({type(exc).__name__})")


def field_list(fields: Sequence[str]) -> str:
    """Fields named in a message, in order: ``a, b and c``."""
    items = list(fields)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
