"""Alert delivery after each crawl: Atom feeds, webhooks and e-mail (the I/O edge).

:func:`after_run` is the entry point (:func:`alert_lines` wraps it for ``mediawatch
crawl``). It records the matches of every watchlist (:mod:`scheduler.monitor.watchlists`, whose
docstring has the alert rules) and the source-health problems (assessed by
:mod:`archive.store.health`, raised and resolved by :mod:`scheduler.monitor.health`), then
delivers what is pending (the log of attempts: :mod:`scheduler.monitor.alerts`):

* **Atom**: ``<data>/alerts/<watchlist>.atom`` (and ``source-health.atom``) is regenerated
  from the ``alerts`` table on every run, newest first (at most :data:`FEED_ENTRIES`
  entries), and replaced atomically (temporary file + ``os.replace``), so a reader never
  sees half a feed. An entry carries the text of the version it announces (``summary``:
  lead or start of the body, ``content``: the body) and, besides the live page
  (``alternate``), ``related`` links to the archived article and to the capture's replay
  permalink when the origins are known (:mod:`scheduler.monitor.links`).
* **Webhook**: one JSON POST per alert (:func:`webhook_payload`).
* **E-mail**: one message per watchlist and run listing its pending alerts, over SMTP.

Every attempt is logged in ``deliveries``. Within a run a delivery is tried
:attr:`RetryPolicy.tries` times with exponential backoff (``backoff``, doubled each time;
the ``sleep`` function is injectable); when all tries fail the target is left alone for the
rest of the run and the alert stays pending, so a later run tries again, up to
:attr:`RetryPolicy.max_attempts` attempts in all (the last failure is logged as
``gave_up``) and only for alerts matched within :attr:`RetryPolicy.window`. Nothing is lost
silently: ``mediawatch alerts`` shows every failure. Delivery is at least once: a receiver
may see an alert twice if the process dies between sending and logging.

A file lock on ``<data>/alerts/.lock`` keeps two crawls finishing together from delivering
the same alert twice.
"""

from __future__ import annotations

import fcntl
import http.client
import json
import logging
import os
import smtplib
import sqlite3
import ssl
import sys
import tempfile
import time
import urllib.request
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archive.config.files import ConfigError
from archive.store.db import Archive
from archive.store.health import DEFAULT_RULES, HealthRules, SourceHealth, check_health
from archive.times import utc_text
from crawler.components.addresses import PrivateAddressError, check_url
from scheduler.monitor.alerts import (
    HEALTH,
    Alert,
    DeliveryLog,
    alert_rows_sql,
    log_deliveries,
    pending_sql,
)
from scheduler.monitor.health import record_health_alerts as record_health
from scheduler.monitor.links import archive_links, resolve_origins
from scheduler.monitor.watchlists import open_watchlists, record_alerts

if TYPE_CHECKING:
    from archive.config.watchlists import SmtpSettings, Watchlists, WebLinks

__all__ = ["FEED_ENTRIES", "HEALTH_FEED", "AlertSummary", "DeliveryError", "RetryPolicy",
           "after_run", "alert_lines", "atom_feed", "post_json", "send_email",
           "webhook_payload", "write_atomic"]

log = logging.getLogger(__name__)

FEED_ENTRIES = 200
HEALTH_FEED = "source-health"
ATOM_NS = "http://www.w3.org/2005/Atom"
USER_AGENT = "mediawatch-alerts/0.1"
Row = Mapping[str, Any]


class DeliveryError(RuntimeError):
    """One failed delivery attempt (unreachable host, HTTP error status, SMTP refusal)."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try: per run, over all runs, for how long, and the network timeout."""

    tries: int = 3
    backoff: float = 1.0
    max_attempts: int = 9
    window: timedelta = timedelta(days=3)
    timeout: float = 10.0


@dataclass(slots=True)
class AlertSummary:
    """What one :func:`after_run` did: matches per watchlist, outcomes per channel."""

    matches: dict[str, Counter[str]] = field(default_factory=dict)
    channels: dict[str, list[str]] = field(default_factory=dict)
    outcomes: dict[tuple[str, str], Counter[str]] = field(default_factory=dict)
    health: list[Alert] = field(default_factory=list)
    report: list[SourceHealth] = field(default_factory=list)

    def count(self, watchlist: str, channel: str, status: str) -> int:
        """Attempts with ``status`` for one watchlist and channel in this run."""
        return self.outcomes.get((watchlist, channel), Counter())[status]

    def lines(self) -> list[str]:
        """One line per watchlist with matches, one per health change (CLI output)."""
        out = []
        for name, counts in self.matches.items():
            if not counts:
                continue
            parts = [f"{counts[k]} {k}" for k in ("new", "update") if counts[k]]
            channels = ", ".join(self.channels.get(name, []))
            failed = [ch for ch in self.channels.get(name, [])
                      if self.count(name, ch, "failed") or self.count(name, ch, "gave_up")]
            line = f"alerts: {name} {', '.join(parts)} -> {channels}"
            if failed:
                line += f" (failed: {', '.join(failed)}; retried next run)"
            out.append(line)
        for alert in self.health:
            source, flag = alert.article_id.split(":", 1)
            state = "resolved" if alert.kind == "resolved" else "raised"
            out.append(f"health: {source} {flag} {state}")
        return out


# --------------------------------------------------------------------------- senders


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    """Redirects are followed only to addresses the private-address policy allows."""

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str,
                         headers: Any, newurl: str) -> urllib.request.Request | None:
        check_url(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def post_json(url: str, payload: Any, timeout: float) -> None:
    """POST ``payload`` as JSON; :class:`DeliveryError` unless the answer is 2xx, and for
    a URL (or redirect) to a private address unless ``MEDIAWATCH_ALLOW_PRIVATE=1``."""
    try:
        check_url(url)
    except PrivateAddressError as exc:
        raise DeliveryError(str(exc)) from None
    data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=data, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT})
    try:
        opener = urllib.request.build_opener(_CheckedRedirects)
        with opener.open(request, timeout=timeout) as response:
            response.read()
            status = response.status
    except PrivateAddressError as exc:
        raise DeliveryError(f"POST {url}: {exc}") from None
    except (OSError, http.client.HTTPException, ValueError) as exc:
        # HTTPError (4xx/5xx) and URLError are OSErrors; ValueError: a malformed URL.
        raise DeliveryError(f"POST {url}: {exc}") from exc
    if not 200 <= status < 300:
        raise DeliveryError(f"POST {url}: HTTP {status}")


def send_email(smtp: SmtpSettings, to: str, subject: str, body: str, timeout: float) -> None:
    """Send a plain-text message; :class:`DeliveryError` on any SMTP or network failure."""
    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=timeout) as client:
            if smtp.starttls:
                client.starttls(context=ssl.create_default_context())
            if smtp.user:
                password = os.environ.get(smtp.password_env or "")
                if password is None:
                    raise DeliveryError(f"SMTP login needs ${smtp.password_env}, which is unset")
                client.login(smtp.user, password)
            client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"SMTP {smtp.host}:{smtp.port} to {to}: {exc}") from exc


# --------------------------------------------------------------------------- content (pure)


def webhook_payload(row: Row, origins: WebLinks | None = None) -> dict[str, Any]:
    """The JSON body of a watchlist alert's webhook POST (the announced version's text;
    ``archive_url``/``capture_url`` None when the origins are unknown)."""
    links = archive_links(row, origins) if origins else None
    return {
        "watchlist": row["watchlist"], "kind": row["kind"], "id": row["article_id"],
        "version": row["version"], "url": row["url"], "short_url": row["short_url"],
        "title": row["title"], "source": row["source"], "published": row["published"],
        "language": row["language"], "lead": row["lead"], "snippet": row["snippet"],
        "matched_at": row["matched_at"],
        "archive_url": links.article if links else None,
        "capture_url": links.capture if links else None,
    }


def _health_parts(row: Row, details: Mapping[str, str]) -> tuple[str, str, str]:
    source, flag = str(row["article_id"]).split(":", 1)
    if row["kind"] == "resolved":
        return source, flag, f"{flag} problem of source {source} resolved"
    detail = details.get(row["article_id"]) or f"source {source} flagged {flag}"
    return source, flag, detail


def health_payload(row: Row, details: Mapping[str, str]) -> dict[str, Any]:
    """The JSON body of a source-health alert's webhook POST."""
    source, flag, detail = _health_parts(row, details)
    return {"watchlist": HEALTH, "kind": row["kind"], "source": source, "problem": flag,
            "state": "resolved" if row["kind"] == "resolved" else "raised",
            "detail": detail, "matched_at": row["matched_at"]}


def _entry_text(row: Row, details: Mapping[str, str]) -> tuple[str, str, str | None]:
    """Title, summary and link of one feed entry or e-mail item."""
    if row["watchlist"] == HEALTH:
        source, flag, detail = _health_parts(row, details)
        state = "resolved" if row["kind"] == "resolved" else "problem"
        return f"[{state}] {source}: {flag}", detail, None
    label = "new" if row["kind"] == "new" else f"update, version {row['version']}"
    title = row["title"] or row["url"] or row["article_id"]
    summary = row["snippet"] or title
    return f"[{label}] {title}", summary, row["url"]


def atom_feed(name: str, subtitle: str, rows: Sequence[Row], now: datetime,
              details: Mapping[str, str] | None = None,
              origins: WebLinks | None = None) -> bytes:
    """An Atom 1.0 document for one watchlist's alert rows, newest first (pure); ``origins``
    gives the archive links (module docstring)."""
    details = details or {}
    ET.register_namespace("", ATOM_NS)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
        if text is not None:
            element.text = text
        return element

    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    sub(feed, "id", f"urn:mediawatch:alerts:{name}")
    sub(feed, "title", f"mediawatch: {name}")
    sub(feed, "subtitle", subtitle)
    sub(feed, "updated", rows[0]["matched_at"] if rows else utc_text(now, "now"))
    sub(sub(feed, "author"), "name", "mediawatch")
    sub(feed, "generator", "mediawatch")
    for row in rows:
        title, summary, link = _entry_text(row, details)
        entry = sub(feed, "entry")
        sub(entry, "id", f"urn:mediawatch:alert:{row['watchlist']}:{row['article_id']}:"
                         f"{row['version']}")
        sub(entry, "title", title)
        if link:
            sub(entry, "link", rel="alternate", type="text/html", href=link)
        links = archive_links(row, origins) if origins and row["watchlist"] != HEALTH else None
        if links and links.article:
            sub(entry, "link", rel="related", type="text/html", title="archived article",
                href=links.article)
        if links and links.capture:
            sub(entry, "link", rel="related", type="text/html",
                title=f"capture {row['capture_fetched_at']}", href=links.capture)
        sub(entry, "updated", row["matched_at"])
        # Atom's published is a date-time (RFC 3339): a day-only date has none to give.
        if row.get("published") and len(row["published"]) > 10:
            sub(entry, "published", row["published"])
        sub(entry, "category", term=row["kind"])
        sub(entry, "summary", summary)
        if row.get("body"):
            sub(entry, "content", row["body"], type="text")
    ET.indent(feed)
    document: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


def _email_body(name: str, rows: Sequence[Row], details: Mapping[str, str],
                origins: WebLinks | None = None) -> tuple[str, str]:
    counts = Counter(str(row["kind"]) for row in rows)
    subject = f"mediawatch {name}: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    items = []
    for row in rows:
        title, summary, link = _entry_text(row, details)
        links = archive_links(row, origins) if origins and row["watchlist"] != HEALTH else None
        archived = [f"archived: {links.article}" if links and links.article else None,
                    f"capture: {links.capture}" if links and links.capture else None]
        items.append("\n".join(filter(None, [title, link, *archived, summary])))
    return subject, "\n\n".join(items) + "\n"


# --------------------------------------------------------------------------- files


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --------------------------------------------------------------------------- delivery


@dataclass(slots=True)
class _Run:
    """What one after_run shares between deliveries."""

    archive: Archive
    now: datetime
    retry: RetryPolicy
    sleep: Callable[[float], None]
    summary: AlertSummary
    details: dict[str, str]
    origins: WebLinks | None = None

    def pending(self, watchlist: str, channel: str, target: str) -> list[dict[str, Any]]:
        sql, params = pending_sql(watchlist, channel, target, self.now,
                                  window=self.retry.window, max_attempts=self.retry.max_attempts)
        return [dict(row) for row in self.archive.db.query(sql, params)]

    def log(self, rows: Sequence[Row], channel: str, target: str, status: str, tries: int,
            error: str | None) -> None:
        log_deliveries(self.archive, [
            DeliveryLog(row["id"], row["watchlist"], channel, target, status,
                        row["tried"] + tries, error, self.now) for row in rows])
        counts = self.summary.outcomes.setdefault((rows[0]["watchlist"], channel), Counter())
        counts[status] += len(rows)

    def send(self, batches: Sequence[list[dict[str, Any]]], channel: str, target: str,
             deliver: Callable[[list[dict[str, Any]]], None]) -> None:
        """Deliver each batch with retries; stop at the first batch that cannot get through."""
        for batch in batches:
            error: str | None = None
            for k in range(self.retry.tries):
                alive = [row for row in batch if row["tried"] + k < self.retry.max_attempts]
                if not alive:
                    break
                if k:
                    self.sleep(self.retry.backoff * 2 ** (k - 1))
                try:
                    deliver(alive)
                except DeliveryError as exc:
                    error = str(exc)
                    log.warning("alert delivery failed (attempt %d): %s", k + 1, error)
                    given_up = [r for r in alive if r["tried"] + k + 1 >= self.retry.max_attempts]
                    failed = [r for r in alive if r not in given_up]
                    for rows, status in ((failed, "failed"), (given_up, "gave_up")):
                        if rows:
                            self.log(rows, channel, target, status, k + 1, error)
                    continue
                self.log(alive, channel, target, "delivered", k + 1, None)
                error = None
                break
            if error is not None:
                return  # the target is down: the rest stay pending for the next run

    def atom(self, watchlist: str, feed_name: str, subtitle: str, directory: Path) -> None:
        path = directory / f"{feed_name}.atom"
        pending = self.pending(watchlist, "atom", str(path))
        sql, params = alert_rows_sql(watchlist, FEED_ENTRIES)
        rows = [dict(row) for row in self.archive.db.query(sql, params)]
        try:
            write_atomic(path, atom_feed(feed_name, subtitle, rows, self.now, self.details,
                                         self.origins))
        except OSError as exc:
            log.warning("cannot write %s: %s", path, exc)
            if pending:
                self.log(pending, "atom", str(path), "failed", 1, str(exc))
            return
        if pending:
            self.log(pending, "atom", str(path), "delivered", 1, None)

    def webhook(self, watchlist: str, url: str) -> None:
        def deliver(rows: list[dict[str, Any]]) -> None:
            row = rows[0]
            payload = (health_payload(row, self.details) if watchlist == HEALTH
                       else webhook_payload(row, self.origins))
            post_json(url, payload, self.retry.timeout)

        self.send([[row] for row in self.pending(watchlist, "webhook", url)], "webhook", url,
                  deliver)

    def email(self, watchlist: str, name: str, smtp: SmtpSettings | None, to: str) -> None:
        if smtp is None:  # the loader insists on [smtp]; a hand-built config may not
            return

        def deliver(rows: list[dict[str, Any]]) -> None:
            subject, body = _email_body(name, rows, self.details, self.origins)
            send_email(smtp, to, subject, body, self.retry.timeout)

        pending = self.pending(watchlist, "email", to)
        if pending:
            self.send([pending], "email", to, deliver)


def after_run(archive: Archive, watchlists: Watchlists, data_dir: Path, now: datetime, *,
              retry: RetryPolicy | None = None, sleep: Callable[[float], None] = time.sleep,
              health_rules: HealthRules = DEFAULT_RULES,
              origins: WebLinks | None = None) -> AlertSummary:
    """Record and deliver alerts after a crawl (module docstring); say what happened.

    ``origins``: where the archive links point; None reads ``[web]`` of ``watchlists`` and
    ``<data>/serve.json`` (:func:`scheduler.monitor.links.resolve_origins`). Delivery
    failures are logged and counted, never raised.
    """
    retry = retry or RetryPolicy()
    directory = Path(data_dir) / "alerts"
    summary = AlertSummary()
    with _locked(directory):
        alerts = record_alerts(archive, watchlists, now)
        report = check_health(archive, now, health_rules)
        summary.report = report
        summary.health = record_health(archive, report, now)
        details = {f"{h.source}:{flag.kind}": flag.detail for h in report for flag in h.flags}
        if origins is None:
            origins = resolve_origins(watchlists.web, data_dir)
        run = _Run(archive, now, retry, sleep, summary, details, origins)
        for watchlist in watchlists:
            summary.matches[watchlist.name] = Counter(
                a.kind for a in alerts if a.watchlist == watchlist.name)
            channels = ["atom"]
            run.atom(watchlist.name, watchlist.name, watchlist.query, directory)
            if watchlist.webhook:
                channels.append("webhook")
                run.webhook(watchlist.name, watchlist.webhook)
            if watchlist.email:
                channels.append("email")
                run.email(watchlist.name, watchlist.name, watchlists.smtp, watchlist.email)
            summary.channels[watchlist.name] = channels
        run.atom(HEALTH, HEALTH_FEED, "source health: quiet sources, failing extraction,"
                 " failing or blocked crawls", directory)
        if watchlists.health.webhook:
            run.webhook(HEALTH, watchlists.health.webhook)
        if watchlists.health.email:
            run.email(HEALTH, HEALTH_FEED, watchlists.smtp, watchlists.health.email)
    return summary


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def alert_lines(data_dir: Path, watchlists_path: str | None, now: datetime, *,
                warn: Callable[[str], None] = _to_stderr) -> list[str]:
    """After ``mediawatch crawl``: record and deliver watchlist and source-health alerts
    when a watchlists file is configured (:func:`open_watchlists`); one line per watchlist
    with matches and per health change.

    A bad watchlists file, an unreadable path or a locked database is passed to ``warn``
    and gives no lines: the crawl itself succeeded, and the scheduler would otherwise count
    the source as failing. Any other exception is a bug and propagates.
    """
    try:
        watchlists = open_watchlists(watchlists_path)
        if not watchlists.configured:
            return []
        with Archive(Path(data_dir) / "archive.db") as archive:
            return after_run(archive, watchlists, data_dir, now).lines()
    except (ConfigError, OSError, sqlite3.Error) as exc:
        warn(f"warning: alerts skipped: {exc}")
        return []
