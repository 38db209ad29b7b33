"""Recrawl cost: WARC bytes of a second crawl of an unchanged site, as a share of the first.

Serves the sample newsroom (``tests/newsroom``) on 127.0.0.1 and crawls it with
``mediawatch crawl`` three times, nothing changed in between, in one run:

1. the first crawl: everything is new (the baseline);
2. a recrawl as scheduled runs do it: archived articles are not fetched again, the RSS feed
   answers the conditional GET with 304, unchanged listings become revisit records;
3. a re-check crawl (``recheck = ["1s"]``, so every archived article is due): every page is
   fetched again, and every unchanged payload is written as an identical-payload revisit.

Each row also says how many of those bytes went to page requisites (the stylesheets,
images, fonts and scripts of article pages, ``[crawl] requisites``) and their share: the
requisite overhead. On the first crawl they are full records (a site's CSS and fonts cost
once, however many pages name them); on a re-check they are revisit records.

Prints a table and ends with one JSON line of the figures. Target: (2) under 5 % of (1).

    python bench/recrawl.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scheduler.newsroom.server import Newsroom  # noqa: E402
from scheduler.newsroom.sources import render_sources  # noqa: E402


def crawl(config: Path, data: Path) -> dict[str, int]:
    """One ``mediawatch crawl``; its WARC, revisit bytes and page count, summed over sources."""
    cli = [sys.executable, "-m", "scheduler.cli", "--config", str(config), "--data", str(data)]

    def runs() -> list[dict[str, Any]]:
        if not (data / "archive.db").exists():
            return []
        return json.loads(subprocess.run([*cli, "runs", "--format", "json"], check=True,
                                         capture_output=True, text=True, cwd=ROOT).stdout)

    before = len(runs())
    subprocess.run([*cli, "crawl"], check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    # Each source's crawl logs its own row (with its own start time): the rows this crawl
    # added are the last ones.
    mine = runs()[before:]
    return {key: sum(int(r[key] or 0) for r in mine)
            for key in ("warc_bytes", "revisit_bytes", "requisite_bytes", "pages")}


def overhead(fig: dict[str, int]) -> float:
    """The page requisites' share of a crawl's WARC bytes."""
    return fig["requisite_bytes"] / fig["warc_bytes"] if fig["warc_bytes"] else 0.0


def main() -> None:
    """Run the three crawls and print the comparison."""
    with tempfile.TemporaryDirectory() as tmp, Newsroom() as newsroom:
        work = Path(tmp)
        config = work / "sources.toml"
        sources = render_sources(newsroom.base_url)
        config.write_text(sources, encoding="utf-8")
        first = crawl(config, work / "data")
        second = crawl(config, work / "data")
        config.write_text(sources.replace("[crawl]\n", '[crawl]\nrecheck = ["1s"]\n'),
                          encoding="utf-8")
        third = crawl(config, work / "data")
    rows = [("first crawl (all new)", first), ("recrawl, nothing changed", second),
            ("re-check of every article", third)]
    print(f"{'crawl':28} {'pages':>6} {'WARC bytes':>11} {'revisit bytes':>14} {'share':>7}"
          f" {'requisite bytes':>16} {'overhead':>9}")
    for name, fig in rows:
        share = fig["warc_bytes"] / first["warc_bytes"]
        print(f"{name:28} {fig['pages']:6d} {fig['warc_bytes']:11,d} "
              f"{fig['revisit_bytes']:14,d} {share:7.1%} {fig['requisite_bytes']:16,d} "
              f"{overhead(fig):9.1%}")
    share2 = second["warc_bytes"] / first["warc_bytes"]
    print(f"\nrecrawl / first crawl WARC bytes: {share2:.1%} (target: under 5%)")
    print(f"requisite overhead (share of WARC bytes): first crawl {overhead(first):.1%},"
          f" recrawl {overhead(second):.1%}, re-check {overhead(third):.1%}")
    print(json.dumps({"bench": "recrawl", "first_bytes": first["warc_bytes"],
                      "recrawl_bytes": second["warc_bytes"],
                      "recrawl_share": round(share2, 4),
                      "recheck_bytes": third["warc_bytes"],
                      "recheck_share": round(third["warc_bytes"] / first["warc_bytes"], 4),
                      "recheck_pages": third["pages"],
                      "first_requisite_bytes": first["requisite_bytes"],
                      "first_requisite_share": round(overhead(first), 4),
                      "recrawl_requisite_share": round(overhead(second), 4),
                      "recheck_requisite_bytes": third["requisite_bytes"],
                      "recheck_requisite_share": round(overhead(third), 4)}))


if __name__ == "__main__":
    main()
