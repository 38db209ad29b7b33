"""Parser CPU per page on real pages, beside ``trafilatura.extract`` in the same run.

For every page (``*.html`` / ``*.html.gz`` under the directories given; by default the AEB
pages and ``news_html`` of ``../shared/eval``), in one process:

1. what ingest does with an article record: the block-page check, the page object's
   :meth:`~crawler.pages.listings.ArticlePage.to_article` (decode, lxml parse, metadata,
   trafilatura, dates...) and the article's :func:`~archive.store.identity.content_hash`;
2. ``trafilatura.extract(html)`` with its defaults (what a naive spider runs), stock: the
   matchers our parse swaps into trafilatura (:mod:`crawler.pages.trafxpath`) are taken out
   around it;

each measured in CPU time of this process (``time.process_time``). The hot spots issue 10
names are timed apart too (control characters, ``block_reason``, ``content_hash``). Prints
the per-page means and medians, the ratio (target: at most 1.5x) and one JSON line.

    python bench/parser.py [DIR ...] [--repeat 1] [--limit N]

The first pass over the pages is timed apart ("cold"): it pays one-time costs of each
process, above all the per-locale patterns dateparser compiles the first time htmldate's
extensive date search hands it a string (several seconds, once per parser process, which
then parses thousands of pages). The ratio against the target is the one of the passes after
it ("warm"), the cost per page of a parser process in a crawl; both are printed.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# this checkout's code, not the one the venv's editable install points at (as the other benches)
sys.path.insert(0, str(ROOT))
EVAL = ROOT.parent / "shared" / "eval"
if not EVAL.is_dir():
    EVAL = Path("/work/shared/eval")


def load_pages(dirs: list[Path], limit: int | None) -> list[tuple[str, bytes]]:
    """``(name, html bytes)`` of every page under ``dirs``, sorted by path."""
    pages: list[tuple[str, bytes]] = []
    for d in dirs:
        for path in sorted(p for p in d.rglob("*") if p.name.endswith((".html", ".html.gz"))):
            raw = path.read_bytes()
            pages.append((str(path), gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw))
    return pages[:limit] if limit else pages


def cpu_ms(fn: object, *args: object) -> tuple[float, object]:
    start = time.process_time()
    result = fn(*args)  # type: ignore[operator]
    return (time.process_time() - start) * 1000, result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dirs", nargs="*", type=Path)
    ap.add_argument("--repeat", type=int, default=1, help="passes over the pages [1]")
    ap.add_argument("--limit", type=int, help="only the first N pages")
    args = ap.parse_args()
    dirs = args.dirs or [EVAL / "aeb" / "html", EVAL / "news_html"]

    import trafilatura

    from archive.models import Article, CapturedResponse
    from archive.store.identity import content_hash
    from crawler.pages.blockpage import block_reason
    from crawler.pages.listings import ArticlePage, NotAnArticle
    try:
        from crawler.pages.markup import strip_control_chars
    except ImportError:  # before issue 10 (for a before/after run on an older checkout)
        from crawler.pages.markup import _CONTROL_CHARS  # type: ignore[attr-defined]

        def strip_control_chars(text: str) -> str:
            return text.translate(_CONTROL_CHARS)

    pages = load_pages(dirs, args.limit)
    if not pages:
        print(f"no pages under {', '.join(map(str, dirs))}", file=sys.stderr)
        return 2
    fetched = datetime(2026, 1, 1, tzinfo=UTC)

    def mediawatch(body: bytes) -> object:
        if block_reason(200, body):
            return None
        captured = CapturedResponse(url="https://news.example.org/2024/05/01/story-1",
                                    status=200, headers=(("Content-Type", "text/html"),),
                                    body=body, fetched_at=fetched)
        try:
            article = ArticlePage(captured).to_article()
        except NotAnArticle:
            return None
        return content_hash(article)

    try:  # our parser swaps Python matchers into trafilatura's XPath lists (issue 10)
        from crawler.pages.trafxpath import stock_xpaths
    except ImportError:  # an older checkout
        from contextlib import nullcontext as stock_xpaths  # type: ignore[assignment]

    def naive(body: bytes) -> object:
        # stock trafilatura: its own XPath expressions, not the matchers our parse installs
        with stock_xpaths():
            return trafilatura.extract(body.decode("utf-8", "replace"))

    cold_ours = cold_theirs = 0.0
    for _name, body in pages:  # the cold pass: imports, lazily built tables and patterns
        cold_ours += cpu_ms(mediawatch, body)[0]
        cold_theirs += cpu_ms(naive, body)[0]

    ours: list[float] = []
    theirs: list[float] = []
    spots = {"control_chars": 0.0, "block_reason": 0.0, "content_hash": 0.0}
    for _ in range(args.repeat):
        for _name, body in pages:
            ms, _ = cpu_ms(mediawatch, body)
            ours.append(ms)
            ms, _ = cpu_ms(naive, body)
            theirs.append(ms)
            text = body.decode("utf-8", "replace")
            spots["control_chars"] += cpu_ms(strip_control_chars, text)[0]
            spots["block_reason"] += cpu_ms(block_reason, 200, body)[0]
            spots["content_hash"] += cpu_ms(content_hash, Article(
                url="https://x.example/a", source="s", title=text[:100], lead=text[100:400],
                body=text))[0]
    n = len(ours)
    figures = {
        "pages": len(pages), "runs": n,
        "mediawatch_mean_ms": round(statistics.mean(ours), 2),
        "mediawatch_median_ms": round(statistics.median(ours), 2),
        "trafilatura_mean_ms": round(statistics.mean(theirs), 2),
        "trafilatura_median_ms": round(statistics.median(theirs), 2),
        "ratio_total": round(sum(ours) / sum(theirs), 3),
        "cold_mediawatch_mean_ms": round(cold_ours / len(pages), 2),
        "cold_trafilatura_mean_ms": round(cold_theirs / len(pages), 2),
        "cold_ratio_total": round(cold_ours / cold_theirs, 3),
        **{f"{k}_mean_ms": round(v / n, 3) for k, v in spots.items()},
    }
    print(f"cold first pass (one-time caches of the process included): mediawatch "
          f"{figures['cold_mediawatch_mean_ms']} ms, trafilatura "
          f"{figures['cold_trafilatura_mean_ms']} ms per page, ratio "
          f"{figures['cold_ratio_total']}x")
    print(f"{len(pages)} pages x {args.repeat}, warm: CPU ms per page (mean / median)")
    print(f"  mediawatch parse (block check + to_article + content_hash): "
          f"{figures['mediawatch_mean_ms']} / {figures['mediawatch_median_ms']}")
    print(f"  trafilatura.extract (defaults):                              "
          f"{figures['trafilatura_mean_ms']} / {figures['trafilatura_median_ms']}")
    print(f"  ratio mediawatch / trafilatura (total CPU): {figures['ratio_total']}x "
          f"(target <= 1.5x)")
    print("  hot spots alone, on the whole page text (mean ms per page): " + ", ".join(
        f"{k} {figures[f'{k}_mean_ms']}" for k in spots))
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
