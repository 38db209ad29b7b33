"""The dates of an article page: :class:`PageDates`, the date fields of
:class:`~crawler.pages.article.ArticlePage` (which inherits them).

Which date is the publication time, in which zone and how precise is decided by the pure
rules of :mod:`crawler.pages.pubdates`; this class gathers the candidates a page offers and
applies those rules. Datetimes are timezone-aware UTC; a zone-less value is read in the
source's ``timezone``; day-only dates keep day precision. What keeps a wrong date out:

- only this page's own markup counts: JSON-LD objects that name another URL are other
  stories' teasers, and the page's own JSON-LD block, when it is not valid JSON, still gives
  its dates (:func:`~crawler.pages.metadata.salvaged_jsonld_dates`);
- dates in comments, teasers, related and latest-news lists are not looked at
  (:func:`~crawler.pages.metadata.in_other_region`);
- ``01-11-2023`` is read in the page's day order (its other dates, else its language);
- nothing after the capture (small tolerance) or before 1990;
- htmldate's day (trafilatura's ``date``) is a second opinion when the candidates disagree
  or fall short, never the answer on its own.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any

from crawler.pages import markup as mk
from crawler.pages import metadata as md
from crawler.pages import pubdates as pd
from crawler.pages.dates import PageDate, numeric_readings, parse_page_date, parse_unix_time
from crawler.pages.parsedpage import ParsedPage

if TYPE_CHECKING:
    from datetime import datetime, tzinfo

__all__ = ["PageDates"]

logger = logging.getLogger(__name__)


class PageDates(ParsedPage):
    """The publication and modification dates of a parsed page (module docstring)."""

    @cached_property
    def _zone(self) -> tzinfo | None:
        """The source's ``timezone``, if it names one."""
        name = self.source.timezone if self.source else None
        return pd.time_zone(name) if name else None

    def _parse(self, text: str, date_format: str | None = None) -> PageDate | None:
        """A date of this page, its ambiguous numeric dates read in the page's day order."""
        return parse_page_date(text, date_format, self._dayfirst)

    def _selected_date_texts(self, field: str) -> list[str]:
        return self._select(field, attributes=("datetime", "content"))

    def _selected_dates(self, field: str) -> list[pd.DateCandidate]:
        fmt = self.source.date_format if self.source else None
        return pd.candidates_of("selector", [self._parse(v, fmt) for v in
                                             self._selected_date_texts(field)])

    @cached_property
    def _own_ld(self) -> list[dict[str, Any]]:
        """The JSON-LD article objects of this page; those naming another URL are teasers."""
        urls = [self._url(href) for href in self._rel.get("canonical", ())]
        urls.append(self._url(self.meta_first(("og:url",))))
        return md.own_jsonld(self.jsonld_articles, (
            self.response.url, *self.response.redirect_urls, *urls))

    def _ld_date_texts(self, key: str) -> list[str]:
        """``key`` of the first own JSON-LD article object that has it; else of the page's
        own block that is not valid JSON (:func:`~crawler.pages.metadata.
        salvaged_jsonld_dates`). Never another story's object."""
        for obj in self._own_ld:
            if values := mk.jsonld_strings(obj.get(key)):
                return values
        return md.salvaged_jsonld_dates(self.selector, key)

    def _region_free(self, elements: Iterable[Any]) -> list[str]:
        """``@datetime`` of ``elements`` that have one, outside comments, teasers and lists
        of other stories (:func:`~crawler.pages.metadata.in_other_region`)."""
        return [value for e in elements if (value := e.get("datetime")) is not None
                and not md.in_other_region(e)]

    @cached_property
    def _date_texts(self) -> dict[str, list[tuple[str, str]]]:
        """(origin, text) of the JSON-LD, ``<meta>`` and microdata dates, in that order,
        for ``datePublished`` and ``dateModified``: read once, parsed once the page's day
        order is known."""
        out = {}
        for ld_key, meta_keys in (("datePublished", md.PUBLISHED_META),
                                  ("dateModified", md.MODIFIED_META)):
            found = [("jsonld", v) for v in self._ld_date_texts(ld_key)]
            found += [("meta", v) for key in meta_keys for v in self._meta.get(key, ())]
            # //*[@itemprop=$ld_key][@datetime]
            found += [("microdata", v) for v in self._region_free(self.scan.itemprop(ld_key))]
            if ld_key == "datePublished":  # //time[@pubdate][@datetime]
                found += [("pubdate", v) for v in self._region_free(
                    t for t in self.selector.root.iter("time") if t.get("pubdate") is not None)]
            out[ld_key] = found
        return out

    def _markup_dates(self, ld_key: str) -> list[pd.DateCandidate]:
        """JSON-LD, then ``<meta>``, then microdata (``itemprop``) and ``<time pubdate>``
        dates, in that order; in JSON-LD and ``<meta>`` a Unix time counts too (these keys
        name dates). Dates in comments and other stories' teasers are not looked at."""
        origins = {"jsonld": "jsonld", "meta": "meta", "microdata": "meta", "pubdate": "visible"}
        found = []
        for kind, text in self._date_texts[ld_key]:
            value = self._parse(text)
            if value is None and kind in ("jsonld", "meta"):
                value = parse_unix_time(text)
            if value is not None:
                found.append(pd.DateCandidate(value, origins[kind]))
        return found

    @cached_property
    def _visible_texts(self) -> list[str]:
        return [text for _element, text in md.date_elements(self.selector, self.scan)]

    @cached_property
    def _dayfirst(self) -> bool | None:
        """Whether this page writes ``01-11-2023`` day first: decided by its other dates,
        else its language (:func:`~crawler.pages.pubdates.day_first`); None when no date of
        the page is ambiguous."""
        texts = [*self._selected_date_texts("published"), *self._selected_date_texts(
            "modified"), *self._visible_texts]
        texts += [text for found in self._date_texts.values() for _kind, text in found]
        readings = [r for r in map(numeric_readings, texts) if r is not None]
        if not readings:
            return None
        fmt = self.source.date_format if self.source else None
        settled = [d.value.date() for t in texts if numeric_readings(t) is None
                   and (d := parse_page_date(t, fmt)) is not None]
        if (url_day := pd.url_date(self.response.url)) is not None:
            settled.append(url_day.value.date())
        language = (self.selector.xpath("/html/@lang | /html/@*[name()='xml:lang']").get()
                    or self.meta_first(("og:locale", *md.LANGUAGE_META))
                    or self.response.header("Content-Language")
                    or (self.source.language if self.source else None))
        return pd.day_first(readings, settled, language)

    @cached_property
    def _published_candidates(self) -> list[pd.DateCandidate]:
        """The page's own publication dates in precedence order (no fallbacks)."""
        found = self._selected_dates("published")
        found += self._markup_dates("datePublished")
        fmt = self.source.date_format if self.source else None
        visible = next(filter(None, (self._parse(t, fmt) for t in self._visible_texts)), None)
        found += pd.candidates_of("visible", [visible])
        return found

    @cached_property
    def _all_modified_candidates(self) -> list[pd.DateCandidate]:
        return self._selected_dates("modified") + self._markup_dates("dateModified")

    @cached_property
    def _modified_candidates(self) -> list[pd.DateCandidate]:
        return self._plausible(self._all_modified_candidates)

    @cached_property
    def _page_zone(self) -> tzinfo | None:
        return pd.page_zone(self._published_candidates + self._all_modified_candidates)

    def _resolve(self, candidate: pd.DateCandidate | None) -> pd.Dated | None:
        return pd.resolve(candidate, self._zone, self._page_zone) if candidate else None

    def _plausible(self, candidates: list[pd.DateCandidate]) -> list[pd.DateCandidate]:
        """``candidates`` without those after the capture or before 1990
        (:func:`~crawler.pages.pubdates.plausible`)."""
        kept = []
        for candidate in candidates:
            dated = self._resolve(candidate)
            if dated is not None and pd.plausible(dated, self.response.fetched_at):
                kept.append(candidate)
            else:
                logger.info("%s: %s date %s after the capture or before 1990, dropped",
                            self.response.url, candidate.origin, candidate.date.value)
        return kept

    @cached_property
    def _hint_candidate(self) -> pd.DateCandidate | None:
        hint = self.hints.published
        if hint is None:
            return None
        explicit = hint.tzinfo is not None and hint.utcoffset() is not None
        precision = self.hints.published_precision or "second"
        return pd.DateCandidate(PageDate(hint, precision, explicit and precision != "day"),
                                self.hints.published_from or "feed")

    @cached_property
    def published_detail(self) -> pd.Dated | None:
        """The publication date with its precision, origin and offset.

        Candidates in precedence order: selector > JSON-LD datePublished (of this page's
        own objects, :func:`~crawler.pages.metadata.own_jsonld`) > meta > microdata /
        ``<time pubdate>`` > the page's visible date (:func:`~crawler.pages.metadata.
        date_elements`) > the feed / news-sitemap date, none after the capture or before
        1990; without any of them, the date line beside the headline
        (:func:`~crawler.pages.metadata.headline_dates`). htmldate (trafilatura's date) is
        a second opinion, not the answer: when the
        candidates name days more than a day apart, those on its day are kept
        (:func:`~crawler.pages.pubdates.agreeing`); when none of them names a time of day,
        its day and the day in the URL join them. The choice among them and their time
        zone: :mod:`crawler.pages.pubdates`."""
        zone_known = self._zone is not None
        candidates = [*self._published_candidates]
        if self._hint_candidate is not None:
            candidates.append(self._hint_candidate)
        candidates = self._plausible(candidates)
        resolve = partial(pd.resolve, zone=self._zone, page=self._page_zone)
        stamps = pd.update_stamps([(c, resolve(c)) for c in candidates],
                                  map(resolve, self._modified_candidates))
        candidates = [c for i, c in enumerate(candidates) if i not in stamps]
        if all(c.origin in ("feed", "sitemap") for c in candidates):
            # No dated markup: the date line beside the headline, before htmldate's guess.
            fmt = self.source.date_format if self.source else None
            candidates += self._plausible(pd.candidates_of("visible", md.headline_dates(
                self.selector, fmt, self._dayfirst)[:1]))
        chosen = pd.best(candidates, zone_known)
        split = pd.disagree(candidates)
        if chosen is not None and chosen.date.has_time and not split:
            return pd.newsroom_offset(self._resolve(chosen), candidates)
        # htmldate's day costs a trafilatura run: only when ours disagree or fall short.
        traf = self._traf("date")
        traf_day = parse_page_date(traf) if isinstance(traf, str) else None
        if split and traf_day is not None:
            candidates = pd.agreeing(candidates, traf_day.value.date())
            chosen = pd.best(candidates, zone_known)
        if chosen is None or not chosen.date.has_time:
            url_day = pd.url_date(self.response.url)
            origin = "url" if url_day and traf_day and url_day.value.date() == \
                traf_day.value.date() else "visible"
            candidates += self._plausible(pd.candidates_of(origin, [traf_day]) +
                                          pd.candidates_of("url", [url_day]))
            chosen = pd.best(candidates, zone_known)
        return pd.newsroom_offset(self._resolve(chosen), candidates)

    @cached_property
    def published(self) -> datetime | None:
        """Publication time in UTC (a day-only date: that day at 00:00 UTC, see
        :attr:`published_detail`)."""
        detail = self.published_detail
        return detail.utc if detail else None

    @cached_property
    def modified_detail(self) -> pd.Dated | None:
        """Last modification: selector > JSON-LD dateModified > meta > microdata, chosen and
        zoned as :attr:`published_detail`; None when it would come before the publication."""
        chosen = pd.best(self._modified_candidates, self._zone is not None)
        found = self._resolve(chosen)
        kept = pd.modified_after(self.published_detail, found)
        if found is not None and kept is None:
            logger.info("%s: modified %s before published %s, dropped", self.response.url,
                        found.utc.isoformat(), self.published_detail and
                        self.published_detail.utc.isoformat())
        return kept

    @cached_property
    def modified(self) -> datetime | None:
        """Last modification time in UTC (see :attr:`modified_detail`)."""
        detail = self.modified_detail
        return detail.utc if detail else None

    def _date_fields(self) -> dict[str, str | None]:
        published, modified = self.published_detail, self.modified_detail
        return {
            "published_local": published.local if published else None,
            "published_precision": published.precision if published else None,
            "published_from": published.origin if published else None,
            "published_zone": published.zone if published else None,
            "modified_precision": modified.precision if modified else None,
        }

