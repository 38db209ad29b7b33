"""The CLI edge: one-line errors with exit code 2, and `scrapy crawl` as a second entry point."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from scheduler.cli import main
from scheduler.newsroom.server import Newsroom
from scheduler.newsroom.sources import render_sources
from scheduler.newsroom.stories import STORY_SPECS

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "pages"


def run(tmp_path: Path, *args: str, config: Path | None = None) -> tuple[int, str, str]:
    runner = CliRunner()
    result = runner.invoke(main, ["--config", str(config or ROOT / "config" / "sources.toml"),
                                  "--data", str(tmp_path / "data"), *args])
    return result.exit_code, result.stdout, result.stderr


def test_unknown_source_is_one_line_and_exit_2(tmp_path: Path) -> None:
    code, _, err = run(tmp_path, "crawl", "no_such_source")
    assert code == 2
    assert err.count("\n") == 1
    assert "unknown source id" in err
    assert "sputnik" in err


def test_bad_config_is_one_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[source]]\nid = "x"\nfeeds = ["http://a/"]\nfeed_urls = []\n')
    code, _, err = run(tmp_path, "crawl", config=bad)
    assert code == 2
    assert err.strip() == (f"mediawatch: error: {bad}: source 'x': key 'feed_urls': unknown key "
                           "(allowed: allow_private, allowed_domains, date_format, feeds, follow,"
                           " id, language, name, profile, requisites, schedule, screenshots,"
                           " sections, selectors, sitemaps, timezone)")


def test_read_commands_on_an_empty_archive(tmp_path: Path) -> None:
    assert run(tmp_path, "search", "Idlib")[:2] == (0, "no matches\n")
    assert run(tmp_path, "search", "Idlib", "--format", "json")[:2] == (0, "[]\n")
    code, _, err = run(tmp_path, "show", "https://example.org/missing")
    assert code == 2
    assert "no article known" in err
    code, out, _ = run(tmp_path, "export", "--format", "csv")
    assert code == 0
    assert out.startswith("id,url,canonical_url,short_url")
    code, _, err = run(tmp_path, "search", "x", "--since", "last tuesday")
    assert code == 2
    assert "not a date" in err


def test_extract_a_saved_page(tmp_path: Path) -> None:
    page = FIXTURES / "sputnik_selectors.html"
    code, out, err = run(tmp_path, "extract", str(page), "--url",
                         "https://sputniknews.com/20201129/s400.html", "--format", "json")
    assert code == 0, err
    record = json.loads(out)
    assert record["url"] == "https://sputniknews.com/20201129/s400.html"
    assert "S-400" in record["title"]
    assert "Listen Live" not in record["body"]


def test_scrapy_crawl_entry_point(tmp_path: Path) -> None:
    """`scrapy crawl source -a source=ID` fetches, writes WARCs and ingests on close."""
    with Newsroom() as newsroom:
        config = tmp_path / "sources.toml"
        config.write_text(render_sources(newsroom.base_url))
        data = tmp_path / "data"
        result = subprocess.run(
            [sys.executable, "-m", "scrapy", "crawl", "source", "-a", "source=anatolia",
             "-s", f"MEDIAWATCH_CONFIG={config}", "-s", f"MEDIAWATCH_DATA={data}",
             "-s", "LOG_LEVEL=WARNING"],
            cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert list((data / "warcs").glob("anatolia-*.warc.gz"))
    with sqlite3.connect(data / "archive.db") as db:
        (count,) = db.execute("select count(*) from articles where source = 'anatolia'").fetchone()
    assert count == sum(s.source == "anatolia" for s in STORY_SPECS)


@pytest.mark.parametrize("args", [["--help"], ["crawl", "--help"], ["search", "--help"]])
def test_help_never_touches_the_disk(tmp_path: Path, args: list[str]) -> None:
    code, out, _ = run(tmp_path, *args)
    assert code == 0
    assert "Usage" in out
    assert not (tmp_path / "data").exists()


def test_output_cut_short_by_the_reader_is_not_an_error(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from archive.models import Article, WarcLocation
    from archive.store.db import Archive
    from archive.store.records import CaptureRef

    with Archive(tmp_path / "archive.db") as archive:
        for n in range(300):  # far more than a pipe buffer holds
            url = f"https://n.example/{n}"
            archive.upsert(Article(url=url, source="n", title=f"Story {n}",
                                   body="Ministers met. " * 100),
                           CaptureRef(location=WarcLocation("w.warc.gz", n, 1), url=url,
                                      status=200, fetched_at=datetime(2024, 5, 1, tzinfo=UTC)))
    cli = str(Path(sys.executable).with_name("mediawatch"))
    proc = subprocess.run(f"{cli} --data {tmp_path} export | head -c 100", shell=True,
                          capture_output=True, text=True, timeout=60, check=False)
    assert len(proc.stdout) == 100
    assert proc.stderr == ""  # no "Broken pipe" error, no traceback
