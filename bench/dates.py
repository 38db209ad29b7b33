"""Publication dates on real pages: mediawatch beside htmldate, in the same run.

Two sets under ``../shared/eval`` (third-party pages, never copied into the repository):

1. ``news_html``: the pages whose origin repository gives a publication date
   (``manifest.json``: htmldate's evaluation sets, Fundus's expected values for the version
   valid at the crawl day in the file name, Media Cloud's test values). Score: exact-day
   accuracy. A day counts as right when it is the expected day in the publisher's offset or
   in UTC (the origin repositories do not agree on which they record). An expected day after
   the page's own crawl day cannot be right (Fundus reads Anadolu's ``05.04.2025`` month-first);
   such pages are listed and left out of both scores.
2. ``aeb/html``: 181 pages with no date ground truth. The benchmark's pages were captured
   for its November 2019 evaluation, so the capture time is taken as 2019-12-01 and a date
   after it is "in the future". Printed: coverage (pages with a date), agreement with
   htmldate where both give one, dates in the future or before 1990, and the disagreements.

htmldate runs as trafilatura runs it inside mediawatch: ``find_date(html, url=...,
original_date=True, extensive_search=True, min_date=1990-01-01, max_date=capture + 1 day)``.
mediawatch is :class:`~crawler.pages.article.ArticlePage` ``published_detail`` with no source
profile (no selectors, no time zone): the generic rules only.

    python bench/dates.py [--eval DIR] [--quiet]

Prints the figures, the per-page misses and one JSON line. Target (issue 10): mediawatch's
accuracy >= htmldate's, and 0 dates in the future or before 1990.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT.parent / "shared" / "eval"
if not EVAL.is_dir():
    EVAL = Path("/work/shared/eval")

#: When the AEB pages were captured at the latest (the benchmark's first evaluation: Nov 2019).
AEB_CAPTURED = datetime(2019, 12, 1, tzinfo=UTC)
#: A capture time for pages whose capture day nobody recorded: the bench's own "now" is
#: fixed so that runs compare.
UNKNOWN_CAPTURED = datetime(2026, 12, 1, tzinfo=UTC)
_CRAWL_DAY = re.compile(r"_(\d{4})_(\d{2})_(\d{2})\.html")


@dataclass
class Page:
    """One page to date: where it is, its URL, capture time and expected day (if any)."""

    name: str
    path: Path
    url: str
    captured: datetime
    expected: date | None = None
    captured_known: bool = False


def _day(text: str) -> date:
    return date.fromisoformat(text.strip()[:10])


def news_pages(eval_dir: Path) -> tuple[list[Page], list[tuple[Page, str]]]:
    """The ``news_html`` pages with a publication date, and those left out (with why)."""
    base = eval_dir / "news_html"
    manifest = json.loads((base / "manifest.json").read_text())
    pages: list[Page] = []
    dropped: list[tuple[Page, str]] = []
    for entry in manifest:
        truth = entry["ground_truth"]
        expected: str | None = None
        if "publication_date" in truth:
            expected = truth["publication_date"]["value"]
        elif "fundus_expected" in truth:
            spec = truth["fundus_expected"]
            versions = json.loads((base / spec["file"]).read_text())
            expected = versions.get(spec["guess_version_key"], {}).get("publishing_date")
        elif "publication_date" in truth.get("mediacloud_tests", {}):
            expected = truth["mediacloud_tests"]["publication_date"]
        if not expected:
            continue
        match = _CRAWL_DAY.search(entry["file"])
        captured = (datetime(*map(int, match.groups()), 23, 59, tzinfo=UTC) if match
                    else UNKNOWN_CAPTURED)
        page = Page(entry["file"], base / entry["file"], entry["url"], captured,
                    _day(expected), bool(match))
        if page.captured_known and page.expected and \
                page.expected > captured.date() + timedelta(days=1):
            dropped.append((page, f"expected {page.expected} is after the crawl day "
                                  f"{captured.date()}"))
            continue
        pages.append(page)
    return pages, dropped


def aeb_pages(eval_dir: Path) -> list[Page]:
    """The AEB pages (no expected date), captured at :data:`AEB_CAPTURED`."""
    truth = json.loads((eval_dir / "aeb" / "ground-truth.json").read_text())
    return [Page(key, eval_dir / "aeb" / "html" / f"{key}.html.gz", value.get("url") or
                 f"https://aeb.example/{key}", AEB_CAPTURED, None, True)
            for key, value in sorted(truth.items())]


def read_html(path: Path) -> bytes:
    raw = path.read_bytes()
    return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw


def mediawatch_days(page: Page, body: bytes) -> tuple[set[date], str | None]:
    """The days mediawatch's date counts as (publisher's offset, UTC) and a label."""
    from archive.models import CapturedResponse
    from crawler.pages.listings import ArticlePage

    response = CapturedResponse(url=page.url, status=200,
                                headers=(("Content-Type", "text/html"),), body=body,
                                fetched_at=page.captured)
    detail = ArticlePage(response).published_detail
    if detail is None:
        return set(), None
    days = {detail.utc.date()}
    if detail.local:
        days.add(_day(detail.local))
    label = f"{detail.local or detail.utc.isoformat()} ({detail.origin})"
    return days, label


def htmldate_day(page: Page, body: bytes) -> date | None:
    """htmldate's day, with the parameters mediawatch gives it through trafilatura."""
    from htmldate import find_date

    found = find_date(body.decode("utf-8", "replace"), url=page.url, original_date=True,
                      extensive_search=True, min_date="1990-01-01",
                      max_date=(page.captured + timedelta(days=1)).strftime("%Y-%m-%d"))
    return _day(found) if found else None


def implausible(days: set[date] | date | None, captured: datetime) -> str | None:
    """"future" or "before 1990" when a day is outside what a capture can show."""
    values = {days} if isinstance(days, date) else (days or set())
    if not values:
        return None
    if min(values) > (captured + timedelta(days=1)).date():
        return "future"
    if max(values) < date(1990, 1, 1):
        return "before 1990"
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--eval", type=Path, default=EVAL, help="the eval directory")
    ap.add_argument("--quiet", action="store_true", help="figures only, no per-page lines")
    args = ap.parse_args()
    if not (args.eval / "news_html" / "manifest.json").is_file():
        print(f"no eval data under {args.eval}", file=sys.stderr)
        return 2
    sys.path.insert(0, str(ROOT))
    import logging
    logging.disable(logging.WARNING)  # trafilatura's and the page object's per-page notes

    pages, dropped = news_pages(args.eval)
    ours_right = theirs_right = 0
    bad = {"mediawatch": {"future": 0, "before 1990": 0},
           "htmldate": {"future": 0, "before 1990": 0}}
    misses: list[str] = []
    for page in pages:
        body = read_html(page.path)
        days, label = mediawatch_days(page, body)
        theirs = htmldate_day(page, body)
        ok_ours, ok_theirs = page.expected in days, theirs == page.expected
        ours_right += ok_ours
        theirs_right += ok_theirs
        for who, value in (("mediawatch", days), ("htmldate", theirs)):
            if (why := implausible(value, page.captured)) is not None:
                bad[who][why] += 1
        if not ok_ours or not ok_theirs:
            misses.append(f"  {'ok  ' if ok_ours else 'MISS'} {'ok  ' if ok_theirs else 'miss'}"
                          f" {page.name}: expected {page.expected}, mediawatch {label}, "
                          f"htmldate {theirs}")
    n = len(pages)
    print(f"news_html: {n} pages with a publication date "
          f"({len(dropped)} left out: ground truth after the crawl day)")
    print(f"  exact-day accuracy: mediawatch {ours_right}/{n} = {ours_right / n:.3f}, "
          f"htmldate {theirs_right}/{n} = {theirs_right / n:.3f} (target: mediawatch >= "
          f"htmldate)")
    if not args.quiet:
        print("  per page (mediawatch, htmldate) where either misses:")
        print("\n".join(misses) or "  none")
        for page, why in dropped:
            print(f"  left out {page.name}: {why}")

    aeb = aeb_pages(args.eval)
    ours_cov = theirs_cov = both = agree = 0
    aeb_bad = {"mediawatch": {"future": 0, "before 1990": 0},
               "htmldate": {"future": 0, "before 1990": 0}}
    disagreements: list[str] = []
    for page in aeb:
        body = read_html(page.path)
        days, label = mediawatch_days(page, body)
        theirs = htmldate_day(page, body)
        ours_cov += bool(days)
        theirs_cov += theirs is not None
        for who, value in (("mediawatch", days), ("htmldate", theirs)):
            if (why := implausible(value, page.captured)) is not None:
                aeb_bad[who][why] += 1
                disagreements.append(f"  {who} {why}: {page.name[:16]} {page.url} "
                                     f"{label if who == 'mediawatch' else theirs}")
        if days and theirs is not None:
            both += 1
            if theirs in days:
                agree += 1
            else:
                disagreements.append(f"  differ {page.name[:16]} {page.url}: mediawatch "
                                     f"{label}, htmldate {theirs}")
        elif days or theirs is not None:
            disagreements.append(f"  only {'mediawatch' if days else 'htmldate'} "
                                 f"{page.name[:16]} {page.url}: mediawatch {label}, "
                                 f"htmldate {theirs}")
    m = len(aeb)
    print(f"aeb: {m} pages (no date ground truth; capture time {AEB_CAPTURED.date()})")
    print(f"  coverage: mediawatch {ours_cov}/{m}, htmldate {theirs_cov}/{m}; same day on "
          f"{agree}/{both} pages where both give one")
    for who in ("mediawatch", "htmldate"):
        total = {k: bad[who][k] + aeb_bad[who][k] for k in bad[who]}
        print(f"  {who}: {total['future']} in the future, {total['before 1990']} before 1990 "
              f"(news_html + aeb)")
    if not args.quiet:
        print("\n".join(disagreements) or "  no disagreements")
    print(json.dumps({
        "news_pages": n, "news_left_out": len(dropped),
        "mediawatch_accuracy": round(ours_right / n, 4),
        "htmldate_accuracy": round(theirs_right / n, 4),
        "aeb_pages": m, "aeb_mediawatch_coverage": ours_cov, "aeb_htmldate_coverage": theirs_cov,
        "aeb_both": both, "aeb_agree": agree,
        "mediawatch_implausible": {k: bad["mediawatch"][k] + aeb_bad["mediawatch"][k]
                                   for k in bad["mediawatch"]},
        "htmldate_implausible": {k: bad["htmldate"][k] + aeb_bad["htmldate"][k]
                                 for k in bad["htmldate"]},
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
