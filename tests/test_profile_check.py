"""``mediawatch sources --check`` and the ``extraction`` health flag (issue 10): a profile
that broke is flagged by one rule (archive/store/fieldcheck.py) in both places.

The archive is real: the sample newsroom crawled by the real command. Crawl A takes the
northwind stories of 2020-2021 (5 articles) with the intact selectors; then a new dated
profile (valid from a moment after crawl A) with a wrong title and body selector is added,
and crawl B takes the later stories with it. ``sources --check`` runs on a copy of the
archive after crawl A (its baseline intact) and on another copy crawled again in between
(its newest captures are revisits); the health flag on the archive after crawl B (articles
ingested with the broken profile)."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner

from archive.config.sources import load_sources
from archive.models import WarcLocation
from archive.store.db import Archive
from archive.store.fieldcheck import FieldLoss, lost_fields, row_fields
from archive.store.health import HealthRules, assess, check_health
from archive.warc.reader import read_response
from crawler.extract import extract_pages
from scheduler.cli import main
from scheduler.newsroom.server import Newsroom
from scheduler.newsroom.sources import render_sources
from scheduler.newsroom.stories import STORY_SPECS
from tests.conftest import MEDIAWATCH

if TYPE_CHECKING:
    from pathlib import Path

# Crawl A gets northwind's stories of 2020-2021 only: the later ones answer 502 meanwhile.
LATER = {s.path for s in STORY_SPECS if s.source == "northwind" and s.published >= "2022"}
# Anatolia keeps its three stories of 2020-2021 (too few to judge): the 2024 ones fail too.
ANATOLIA_LATER = {s.path for s in STORY_SPECS if s.source == "anatolia" and s.published >= "2024"}
EARLY = sum(s.source == "northwind" and s.published < "2022" for s in STORY_SPECS)
# A source the crawls never run: it has no captures.
SILENT = """
[[source]]
id = "silent"
name = "Silent Desk"
feeds = ["{base}/silent/rss.xml"]
"""
BROKEN = """[[profile]]
valid_from = {start}
note = "a redesign the selectors missed"
[profile.selectors]
title = "h1.headline-of-the-redesign"
body = "div.story-of-the-redesign"
"""


@dataclass
class Scenario:
    intact: Path  # the newsroom's sources file (no dated profile)
    broken: Path  # the same plus profiles/northwind.toml (broken, from `start`)
    after_a: Path  # a copy of the data folder after crawl A
    rechecked: Path  # another copy, crawled again: its newest captures are revisits
    after_b: Path  # the data folder after crawl B
    start: datetime  # when the broken profile starts: after crawl A, before crawl B

    def cli(self, config: Path, data: Path, *args: str) -> Ran:
        """``mediawatch`` in this process (click's runner: the command's own code, exit
        code and streams, without a Python start-up per call)."""
        result = CliRunner().invoke(main, ["--config", str(config), "--data", str(data), *args])
        return Ran(result.exit_code, result.stdout, result.stderr)


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    work = tmp_path_factory.mktemp("profilecheck")
    (work / "intact").mkdir()
    (work / "broken" / "profiles").mkdir(parents=True)
    data = work / "data"
    with Newsroom(slow_seconds=0.0) as newsroom:  # its slow page tests nothing here
        full = render_sources(newsroom.base_url) + SILENT.format(base=newsroom.base_url)
        intact = work / "intact" / "sources.toml"
        intact.write_text(full, encoding="utf-8")
        newsroom.failing = set(LATER) | ANATOLIA_LATER
        done = subprocess.run([MEDIAWATCH, "--config", str(intact), "--data", str(data),
                               "crawl", "northwind", "anatolia"],
                              capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr
        shutil.copytree(data, work / "after_a")
        shutil.copytree(data, work / "rechecked")
        time.sleep(1.1)
        # A recheck of the unchanged stories (due after 1 s) stores revisit records: the
        # newest captures of a source then hold no payload of their own.
        recheck = work / "recheck.toml"
        recheck.write_text(full.replace("[crawl]\n", '[crawl]\nrecheck = ["1s"]\n'),
                           encoding="utf-8")
        done = subprocess.run([MEDIAWATCH, "--config", str(recheck), "--data",
                               str(work / "rechecked"), "crawl", "northwind"],
                              capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr
        # Captures are stored to the second: the profile starts in a second of its own,
        # after every capture of crawl A and of the recheck, before any of crawl B.
        time.sleep(1.1)
        start = datetime.now(UTC).replace(microsecond=0)
        time.sleep(1.1)
        # Edition 2 changes the listings (one story's headline), so that crawl B reads
        # their links again: an unchanged listing is not (incremental crawling).
        newsroom.failing, newsroom.edition = set(), 2
        broken = work / "broken" / "sources.toml"
        broken.write_text(full, encoding="utf-8")
        (work / "broken" / "profiles" / "northwind.toml").write_text(
            BROKEN.format(start=start.strftime("%Y-%m-%dT%H:%M:%SZ")), encoding="utf-8")
        done = subprocess.run([MEDIAWATCH, "--config", str(broken), "--data", str(data),
                               "crawl", "northwind"],
                              capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr
    return Scenario(intact, broken, work / "after_a", work / "rechecked", data, start)


def checks(done: Ran) -> dict[str, dict[str, Any]]:
    return {row["source"]: row for row in json.loads(done.stdout)}


def test_intact_profile_flags_nothing(scenario: Scenario) -> None:
    done = scenario.cli(scenario.intact, scenario.after_a, "sources", "--check",
                        "--format", "json")
    assert done.returncode == 0, done.stderr
    rows = checks(done)
    northwind = rows["northwind"]
    assert (northwind["status"], northwind["lost"], northwind["profile"]) == ("ok", [], None)
    assert northwind["baseline"] == EARLY
    assert len(northwind["captures"]) == 3
    assert all(c["fields"]["title"] == "selectors" and c["fields"]["body"] == "selectors"
               for c in northwind["captures"])
    # Three articles are too few to judge; a source never crawled is reported, not an error.
    assert rows["anatolia"]["status"] == "too few articles"
    assert rows["silent"]["status"] == "no captures"
    assert rows["silent"]["captures"] == []


def test_broken_profile_flags_title_and_body(scenario: Scenario) -> None:
    done = scenario.cli(scenario.broken, scenario.after_a, "sources", "--check",
                        "--format", "json")
    assert done.returncode == 1, done.stderr
    assert "profile check: 1 source(s) lost fields: northwind" in done.stderr
    northwind = checks(done)["northwind"]
    assert northwind["status"] == "flagged"
    assert northwind["profile"] == f"{scenario.start.date().isoformat()}.."
    lost = {loss["field"]: loss for loss in northwind["lost"]}
    assert set(lost) == {"title", "body"}
    # The generic fallbacks still fill both fields: the check sees the selectors stopped.
    assert {loss["kind"] for loss in lost.values()} == {"fallback"}
    assert lost["body"]["now"] != "selectors"
    assert lost["body"]["had"] == EARLY


def test_text_table_and_named_sources(scenario: Scenario) -> None:
    done = scenario.cli(scenario.broken, scenario.after_a, "sources", "--check")
    assert done.returncode == 1
    line = next(x for x in done.stdout.splitlines() if x.startswith("northwind"))
    assert "flagged" in line
    assert "title by" in line
    assert f"not selectors ({EARLY}/{EARLY})" in line
    assert "silent" in done.stdout
    assert "no captures" in done.stdout
    # Only the sources named: anatolia's profile is intact.
    done = scenario.cli(scenario.broken, scenario.after_a, "sources", "--check", "anatolia")
    assert done.returncode == 0, done.stderr
    assert "northwind" not in done.stdout


def test_newest_captures_that_are_revisits_are_read_through(scenario: Scenario) -> None:
    with Archive.open_readonly(scenario.rechecked / "archive.db") as archive:
        newest = archive.db.execute(
            'SELECT warc_file, "offset", length, fetched_at FROM captures WHERE source = '
            "'northwind' AND kind = 'article' AND status = 200 AND article_id IS NOT NULL"
            " AND NOT EXISTS (SELECT 1 FROM captures d WHERE d.url_norm = captures.url_norm"
            " AND d.outcome = 'duplicate')"
            " ORDER BY fetched_at DESC, id DESC LIMIT 1").fetchone()
    assert read_response(scenario.rechecked / "warcs", WarcLocation(*newest[:3])).revisit
    for config, status in ((scenario.intact, "ok"), (scenario.broken, "flagged")):
        done = scenario.cli(config, scenario.rechecked, "sources", "--check", "northwind",
                            "--format", "json")
        northwind = checks(done)["northwind"]
        assert northwind["status"] == status, northwind
        assert len(northwind["captures"]) == 3
        # The revisit itself was read (its payload from the record it refers to), not
        # skipped for an older response.
        assert northwind["captures"][0]["captured"] == newest[3]
        assert all(c["fields"].get("body") for c in northwind["captures"])


def test_health_flag_extraction_fires_on_articles_of_the_broken_profile(
        scenario: Scenario) -> None:
    now = datetime.now(UTC)
    # The articles crawl B brought (first seen since the broken profile started) against
    # the ones before: the window ends where the profile began.
    rules = HealthRules(extraction_window=now - scenario.start)
    with Archive.open_readonly(scenario.after_b / "archive.db") as archive:
        recent = archive.db.execute("SELECT count(*), sum(body_method = 'selectors') FROM "
                                    "articles WHERE source = 'northwind' AND first_seen >= ?",
                                    [scenario.start.strftime("%Y-%m-%dT%H:%M:%SZ")]).fetchone()
        report = {h.source: h for h in check_health(archive, now, rules)}
        default = {h.source: h for h in check_health(archive, now)}
    new, by_selectors = recent
    assert new >= 3
    assert by_selectors == 0
    flags = {f.kind: f.detail for f in report["northwind"].flags}
    assert "extraction" in flags, report["northwind"]
    assert f"fields lost in the {new} articles" in flags["extraction"]
    assert "body by trafilatura, not selectors" in flags["extraction"]
    assert "title" not in flags["extraction"]  # the archive keeps no title method
    assert "extraction" not in {f.kind for f in report["anatolia"].flags}
    # Over the default 48 h every article is recent: no baseline, nothing to compare with.
    assert "extraction" not in {f.kind for f in default["northwind"].flags}


def test_extract_names_the_profile_window(scenario: Scenario, tmp_path: Path) -> None:
    source = load_sources(scenario.broken).source("northwind")
    label = f"{scenario.start.date().isoformat()}.."
    seen = set()
    for warc in (scenario.after_b / "warcs").glob("northwind-*.warc.gz"):
        for page in extract_pages(warc, source=source):
            if page.article is not None:
                seen.add((page.profile, page.methods["body"] == "selectors"))
    # Captures of crawl A parse with the source's own keys, those of crawl B with the profile.
    assert seen == {(None, True), (label, False)}
    # A saved page has no capture date: the current profile parses it.
    page = tmp_path / "story.html"
    page.write_bytes(_a_page(scenario))
    done = scenario.cli(scenario.broken, scenario.after_a, "extract", str(page),
                        "--source", "northwind", "--format", "json")
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["profile"] == label
    assert record["methods"]["body"] != "selectors"
    done = scenario.cli(scenario.intact, scenario.after_a, "extract", str(page),
                        "--source", "northwind")
    assert done.returncode == 0, done.stderr
    assert "profile: none (the source's own keys)" in done.stdout
    assert "body=selectors" in done.stdout


def _a_page(scenario: Scenario) -> bytes:
    """The body of one northwind article capture of crawl A, as a saved page."""
    with Archive.open_readonly(scenario.after_a / "archive.db") as archive:
        row = archive.db.execute(
            "SELECT warc_file, \"offset\", length FROM captures WHERE source = 'northwind' "
            "AND kind = 'article' AND outcome = 'inserted' LIMIT 1").fetchone()
    return read_response(scenario.after_a / "warcs", WarcLocation(*row)).captured.body


# --------------------------------------------------------------------------- the rule


SEL = {"title": "selectors", "body": "selectors", "published": "selector"}


@pytest.mark.parametrize(("current", "expected"), [
    pytest.param([SEL], [], id="intact"),
    pytest.param([{**SEL, "body": "trafilatura"}], [FieldLoss("body", "fallback", 10, 10,
                                                               "trafilatura")], id="fallback"),
    pytest.param([{"title": "selectors", "body": "selectors"}],
                 [FieldLoss("published", "missing", 10, 10)], id="missing"),
    pytest.param([{**SEL, "body": ""}], [], id="method-unknown"),
    pytest.param([SEL, {**SEL, "body": "jsonld"}, SEL], [], id="one-odd-page-of-three"),
    pytest.param([{}, {}, SEL], [FieldLoss(f, "missing", 10, 10) for f in
                                 ("title", "body", "published")], id="not-articles"),
])
def test_lost_fields(current: list[dict[str, str]], expected: list[FieldLoss]) -> None:
    assert lost_fields(current, [SEL] * 10) == expected


def test_lost_fields_judges_only_usual_fields_with_enough_history() -> None:
    # A date on 7 of 10 pages is not "most": its absence is no broken profile.
    baseline = [SEL] * 7 + [{"title": "selectors", "body": "selectors"}] * 3
    assert lost_fields([{"title": "selectors", "body": "selectors"}], baseline) == []
    assert lost_fields([{}], [SEL] * 4) == []  # too little history
    assert lost_fields([], [SEL] * 10) == []


def test_row_fields_reads_an_articles_row() -> None:
    row = {"title": "T", "lead": "  ", "body": "B", "body_method": "jsonld", "authors": "[]",
           "tags": '["NATO"]', "published": "2024-01-01", "published_from": "meta",
           "language": None}
    assert row_fields(row) == {"title": "", "body": "jsonld", "published": "meta", "tags": ""}


def test_assess_applies_the_rule_to_recent_articles() -> None:
    now = datetime(2024, 5, 30, 12, tzinfo=UTC)
    broken = {**SEL, "body": "trafilatura"}

    def flags(recent: list[dict[str, str]]) -> dict[str, str]:
        (health,) = assess({"tass": (8, now)}, [], [], {}, now,
                           fields={"tass": (recent, [SEL] * 5)})
        return {f.kind: f.detail for f in health.flags}

    assert flags([broken] * 3) == {"extraction": "fields lost in the 3 articles of the last "
                                   "48 h against the 5 before: body by trafilatura, not "
                                   "selectors (5/5)"}
    assert flags([broken] * 2) == {}  # too few recent articles to judge
    assert flags([SEL] * 3) == {}
