"""The CLI's error edge: which failures are the user's to fix, and what happens to the rest.

A **domain error** is one the user can act on from its message alone: a bad config file, bad
input (a query the search cannot parse, a malformed URL), something asked for that is not in
the archive, a damaged WARC or WACZ file, an I/O error on a named path, a database that is
locked, full, read-only or damaged (:data:`SQLITE_ENVIRONMENT`). It becomes one line on
stderr, ``mediawatch: error: <message>``, and exit code 2.

Anything else is a bug or an environment failure nobody anticipated (a ``KeyError``, a
``TypeError``, a ``sqlite3`` error in our own SQL). Its traceback is appended to the day's log,
``<data>/logs/mediawatch-YYYYMMDD.log`` (UTC date), and the user sees one line naming that
file; exit code 1. Catching ``ValueError`` or ``LookupError`` wholesale would turn such bugs
into an innocent-looking one-liner with no traceback anywhere, so the domain errors are
listed here by type (:data:`DOMAIN_ERRORS`). A library function that signals a user error
with a bare ``ValueError`` is caught narrowly at its command and re-raised as
:class:`CommandError` or :class:`click.BadParameter`.

Click's own errors (unknown option, bad value, ``BadParameter``) keep Click's formatting
and exit code 2. :class:`Mediawatch`, the command group of :mod:`scheduler.cli`, applies all
this around every command.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import sys
import traceback
from collections.abc import Sequence
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from archive.config.files import ConfigError
from archive.evidence.errors import SigningError
from archive.store.query import QueryError
from archive.store.schema import ArchiveError
from archive.store.urls import UrlError
from archive.warc.reader import WarcError
from archive.warc.wacz import WaczError

__all__ = [
    "DOMAIN_ERRORS",
    "SQLITE_ENVIRONMENT",
    "CommandError",
    "Mediawatch",
    "NotFound",
    "crash_log_path",
    "is_domain_error",
    "log_crash",
    "silence_stdout",
]


class CommandError(Exception):
    """A command cannot do what it was asked for a reason its message states (exit code 2
    unless ``exit_code`` says otherwise)."""

    def __init__(self, message: str, exit_code: int = 2):
        super().__init__(message)
        self.exit_code = exit_code


class NotFound(CommandError, LookupError):
    """What the user asked for is not in the archive: an article, a URL never captured."""


#: Raised by the library for input the user can correct; see the module docstring.
#: ``ConfigError`` is the one error of every config file (sources, schedules, watchlists).
DOMAIN_ERRORS: tuple[type[Exception], ...] = (
    CommandError,
    ConfigError,
    QueryError,
    UrlError,
    ArchiveError,
    WarcError,
    WaczError,
    SigningError,
)


#: What SQLite says when the environment, not the code, is at fault: another writer holds
#: the database, the disk is full or failing, the file is unreadable, read-only or not a
#: database. Any other ``sqlite3`` error (``no such column``, a syntax error) is a bug.
SQLITE_ENVIRONMENT = ("database is locked", "database table is locked", "disk i/o error",
                      "database or disk is full", "unable to open database file",
                      "attempt to write a readonly database", "file is not a database",
                      "database disk image is malformed")


def is_domain_error(exc: BaseException) -> bool:
    """True when ``exc`` is the user's to fix: a listed domain error, an ``OSError`` that
    names the path it failed on (a missing file, a full disk, a permission), or a
    ``sqlite3`` error caused by the environment (:data:`SQLITE_ENVIRONMENT`)."""
    if isinstance(exc, DOMAIN_ERRORS):
        return True
    if isinstance(exc, sqlite3.DatabaseError):
        return str(exc).lower().startswith(SQLITE_ENVIRONMENT)
    return isinstance(exc, OSError) and exc.filename is not None


def exit_code(exc: BaseException) -> int:
    """The exit code for a domain error: 2, or what a :class:`CommandError` carries."""
    return exc.exit_code if isinstance(exc, CommandError) else 2


def crash_log_path(data_dir: Path, now: datetime) -> Path:
    """``<data>/logs/mediawatch-YYYYMMDD.log`` for the UTC day of ``now``."""
    return Path(data_dir) / "logs" / f"mediawatch-{now.astimezone(UTC):%Y%m%d}.log"


def log_crash(data_dir: Path, exc: BaseException, argv: Sequence[str],
              now: datetime | None = None) -> Path:
    """Append ``exc``'s traceback, with the time and the command line, to the day's crash
    log (creating its directory); return the file's path. OSError when it cannot be
    written."""
    now = now or datetime.now(UTC)
    path = crash_log_path(data_dir, now)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(traceback.format_exception(exc))
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(f"{now.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ} pid {os.getpid()}: "
                     f"mediawatch {' '.join(argv)}\n{text}\n")
    return path


def silence_stdout() -> None:
    """After the reader of stdout went away (``| head``): point stdout at /dev/null so the
    interpreter's final flush does not raise ``BrokenPipeError`` again."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


_ARGV = "mediawatch.argv"


def _one_line(text: str) -> str:
    return " ".join(text.split("\n"))


class Mediawatch(click.Group):
    """The ``mediawatch`` command group with the error edge (module docstring) around every
    command. Click's own errors (usage, bad parameter values) pass through unchanged."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Keep the command line for the crash log."""
        ctx.meta[_ARGV] = list(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; map what it raises to a message and an exit code."""
        logging.Handler.handleError = _log_write_failed  # type: ignore[method-assign]
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except BrokenPipeError:
            # The reader went away (`| head`): not an error.
            silence_stdout()
            ctx.exit(0)
        except Exception as exc:
            if is_domain_error(exc):
                message = _one_line(str(exc))
                if isinstance(exc, sqlite3.Error):  # SQLite's messages name no file
                    message = f"{_data_dir(ctx) / 'archive.db'}: {message}"
                click.echo(f"mediawatch: error: {message}", err=True)
                ctx.exit(exit_code(exc))
            ctx.exit(_report_bug(ctx, exc))
        return None


def _log_write_failed(self: logging.Handler, record: logging.LogRecord) -> None:
    """``logging.Handler.handleError`` for every handler of a command (Scrapy's log file
    included): a record that cannot be written (a full disk, a removed directory) gives one
    line on stderr the first time, per handler, instead of the standard library's traceback
    for every record."""
    if getattr(self, "_mediawatch_failed", False):
        return
    self._mediawatch_failed = True  # type: ignore[attr-defined]
    target = getattr(self, "baseFilename", None) or type(self).__name__
    with suppress(Exception):  # stderr may be on the full disk too
        sys.stderr.write(f"mediawatch: warning: cannot write the log ({target}):"
                         f" {sys.exc_info()[1]}; further log records are dropped\n")


def _data_dir(ctx: click.Context) -> Path:
    # The --data option as resolved; before the group callback ran, its raw value.
    return Path(getattr(ctx.obj, "data_dir", None) or ctx.params.get("data_dir") or "data")


def _report_bug(ctx: click.Context, exc: Exception) -> int:
    data_dir = _data_dir(ctx)
    what = _one_line(f"{type(exc).__name__}: {exc}")
    try:
        path = log_crash(data_dir, exc, ctx.meta.get(_ARGV, sys.argv[1:]))
    except OSError as log_error:  # nowhere to log it: the traceback goes to stderr instead
        click.echo("".join(traceback.format_exception(exc)), err=True, nl=False)
        click.echo(f"mediawatch: unexpected error ({what}); cannot write its log: {log_error}",
                   err=True)
        return 1
    click.echo(f"mediawatch: unexpected error ({what}); traceback in {path}", err=True)
    return 1
