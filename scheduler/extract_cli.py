"""``mediawatch extract``'s output: each page's fields with their methods and the profile
window it was parsed with, the skipped records, and the exit code (1 when nothing was
extracted). The parsing is
:mod:`crawler.extract`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from archive.store.records import article_record
from archive.store.urls import UrlError
from crawler.extract import ExtractReport, extract_pages
from scheduler.errors import CommandError
from scheduler.output import article_text, to_jsonl

if TYPE_CHECKING:
    from pathlib import Path

    from archive.config.sources import Source


def run_extract(path: Path, *, url: str | None, source: Source | None, fmt: str,
                max_payload: int) -> None:
    """Print every page of ``path`` (``fmt``: ``text`` or ``json``); problems on stderr.
    Raises :class:`CommandError` (exit 1, one line) when no page was extracted."""
    report = ExtractReport()
    noted = False
    for page in extract_pages(path, url=url, source=source, max_payload=max_payload,
                              report=report):
        if report.url_note and not noted:
            click.echo(report.url_note, err=True)
            noted = True
        if page.article is None:
            click.echo(f"{page.url}: not extracted: {page.error}", err=True)
            continue
        try:
            record = article_record(page.article)
        except UrlError as exc:  # defensive: one unusable URL must not stop the file
            report.extracted -= 1
            report.skipped["unusable URL"] += 1
            click.echo(f"{page.url}: not extracted: {exc}", err=True)
            continue
        if fmt == "json":
            click.echo(next(iter(to_jsonl([{**record, "methods": page.methods,
                                            "profile": page.profile}]))))
        else:
            methods = ", ".join(f"{name}={how}" for name, how in page.methods.items())
            profile = (page.profile or "none (the source's own keys)") if source else "none"
            click.echo(article_text(record) + f"\n      methods: {methods}\n      profile: "
                       f"{profile}\n" + "=" * 72)
    if report.extracted == 0:
        raise CommandError(f"{report.summary(path.name)}; nothing extracted", exit_code=1)
    if report.skipped or report.extracted < report.pages:
        click.echo(report.summary(path.name), err=True)
