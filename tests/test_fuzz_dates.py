"""Property-based tests (hypothesis) of the date filters (issue 8): ``--since``/``--until``
(:func:`scheduler.cli.parse_day`), the web's ``since``/``until`` parameters
(:func:`archive.web.query.parse_filters`) and the archive's own time text
(:mod:`archive.times`). Random strings and extreme dates: the result is a time, or the
documented error (ValueError, click's BadParameter, QueryError), never another exception."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from hypothesis import example, given, settings
from hypothesis import strategies as st

from archive.store.search import QueryError, filter_clauses
from archive.times import NaiveTimeError, parse_utc, utc_text
from archive.web.query import FIRST_DAY, LAST_DAY, parse_filters
from scheduler.cli import main, parse_day

ROOT = Path(__file__).resolve().parents[1]

# Offsets up to a day either way, as fromisoformat accepts them.
_ZONES = st.one_of(st.none(), st.just(UTC), st.timedeltas(
    min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59)
).map(lambda d: timezone(timedelta(minutes=d // timedelta(minutes=1)))))
_EXTREME = st.sampled_from([datetime.min, datetime.max, datetime(1, 1, 1, 0, 30),
                            datetime(9999, 12, 31, 23, 30), datetime(999, 12, 31),
                            datetime(1000, 1, 1), datetime(1969, 12, 31, 23, 59, 59),
                            datetime(1970, 1, 1)])
_MOMENTS = st.builds(lambda d, z: d.replace(tzinfo=z),
                     st.one_of(_EXTREME, st.datetimes()), _ZONES)
# What fromisoformat and friends trip on: digits, separators, signs, zone letters, spaces.
_DATEISH = st.text(st.sampled_from("0123456789-:T+Z .,/WzZ\x00\u0660\u00b2"), max_size=32)
_ANY_TEXT = st.one_of(_DATEISH, st.text(max_size=40), _MOMENTS.map(lambda m: m.isoformat()),
                      _MOMENTS.map(lambda m: m.isoformat(sep=" ", timespec="minutes")),
                      st.dates().map(date.isoformat))
FAST = settings(max_examples=200, deadline=2000, derandomize=True)


@FAST
@given(_ANY_TEXT)
@example("0001-01-01T00:00+05:00")  # found: OverflowError escaped parse_utc
@example("9999-12-31T23:00-05:00")
def test_parse_utc_gives_utc_or_value_error(text: str) -> None:
    try:
        moment = parse_utc(text)
    except ValueError:
        return
    assert moment.tzinfo is UTC or moment.utcoffset() == timedelta(0)


@FAST
@given(_MOMENTS.filter(lambda m: m.tzinfo is not None))
@example(datetime(999, 12, 31, tzinfo=UTC))  # found: written "999-12-31...", unreadable
@example(datetime(1, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=5))))
def test_utc_text_is_fixed_width_and_reads_back(moment: datetime) -> None:
    try:
        text = utc_text(moment)
    except NaiveTimeError:  # the documented error: here, out of range once in UTC
        with pytest.raises(OverflowError):
            moment.astimezone(UTC)
        return
    assert len(text) == len("2020-11-29T23:25:00Z"), text
    assert parse_utc(text) == moment.replace(microsecond=0)


@FAST
@given(_MOMENTS.filter(lambda m: m.tzinfo is not None),
       _MOMENTS.filter(lambda m: m.tzinfo is not None))
def test_utc_text_order_is_time_order(a: datetime, b: datetime) -> None:
    try:
        ta, tb = utc_text(a), utc_text(b)
    except NaiveTimeError:
        return
    if a.replace(microsecond=0) < b.replace(microsecond=0) and ta != tb:
        assert ta < tb


@FAST
@given(_ANY_TEXT, st.booleans())
@example("0001-01-01T00:00+05:00", False)
@example("9999-12-31T23:59:59-05:00", True)
@example("0999-12-31", True)
def test_parse_day_gives_an_aware_time_or_bad_parameter(text: str, end: bool) -> None:
    try:
        moment = parse_day(text, end=end)
    except click.BadParameter:
        return
    assert moment is not None
    assert moment.utcoffset() is not None
    # what search does with it next: SQL text, or the documented QueryError
    with contextlib.suppress(QueryError):
        filter_clauses(since=moment, until=moment)


@FAST
@given(st.dictionaries(st.sampled_from(["since", "until"]), _ANY_TEXT, max_size=2))
@example({"since": "0001-01-01", "until": "9999-12-31"})
@example({"until": "9999-12-30"})
def test_web_date_parameters_give_filters_or_query_error(params: dict[str, str]) -> None:
    try:
        filters, _ = parse_filters(params)
    except QueryError as exc:
        message: str | None = str(exc)
    else:
        message = None
    if message is not None:
        assert "\n" not in message
        return
    for moment in (filters.since, filters.until):
        if moment is not None:
            assert FIRST_DAY <= moment.date() <= LAST_DAY + timedelta(days=1)
    filter_clauses(since=filters.since, until=filters.until)


@settings(max_examples=25, deadline=5000, derandomize=True)
@given(since=st.one_of(st.none(), _ANY_TEXT), until=st.one_of(st.none(), _ANY_TEXT))
@example(since="0999-12-31", until=None)  # found: "unexpected error", exit 1
@example(since="0001-01-01", until="0001-01-01")
@example(since=None, until="9999-12-31T23:59:59-05:00")  # found: OverflowError, exit 1
def test_cli_search_dates_are_answered_or_refused(tmp_path_factory: pytest.TempPathFactory,
                                                  since: str | None,
                                                  until: str | None) -> None:
    data = tmp_path_factory.mktemp("dates")
    args = ["--config", str(ROOT / "config" / "sources.toml"), "--data", str(data),
            "search", "budget"]
    for name, value in (("--since", since), ("--until", until)):
        if value is not None and "\x00" not in value:
            args += [name, value]
    result = CliRunner().invoke(main, args)
    # 0: answered; 2: a usage error naming the option. 1 is an unexpected error (a bug).
    assert result.exit_code in (0, 2), (args, result.output, result.exception)
