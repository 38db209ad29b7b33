"""The cost of linking stories at ingest (archive/clusters): milliseconds per article when
the archive already holds N articles inside the time window, beside the cost of storing the
article itself (``Archive.upsert``) in the same run.

For each N (default 10,000 and 100,000) it builds a synthetic archive of N articles
published over one 7-day window (every one of them inside the window of the articles that
follow, the worst case for the LSH), 10 % of them wire copies of another (cut to 60-90 %, a
new headline), links them (:func:`archive.clusters.index.rebuild_clusters`), then measures a
new ingest run storing and linking ``--new`` more articles in batches of 100, as the ingest
does: upsert time and linking time separately, the linking split into the run's one-off
loading of the window's signatures and the per-article rest. Prints a table and one JSON line.

    python bench/stories.py [--sizes 10000 100000] [--new 1000] [--out bench/out]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archive.clusters.index import StoryIndex, rebuild_clusters  # noqa: E402
from archive.models import Article, WarcLocation  # noqa: E402
from archive.store.db import Archive  # noqa: E402
from archive.store.records import CaptureRef  # noqa: E402

START = datetime(2024, 3, 1, tzinfo=UTC)
WINDOW = timedelta(days=7)


def _vocabulary(rnd: random.Random, n: int = 8000) -> list[str]:
    letters = "abcdefghijklmnoprstuvyz"
    return ["".join(rnd.choice(letters) for _ in range(rnd.randint(3, 10))) for _ in range(n)]


def _text(rnd: random.Random, words: list[str], n: int) -> str:
    # Zipf-like: low indexes far more frequent, as in news text.
    return " ".join(words[min(int(rnd.paretovariate(1.1)) - 1, len(words) - 1)]
                    if rnd.random() < 0.5 else rnd.choice(words) for _ in range(n))


def _articles(rnd: random.Random, words: list[str], n: int, tag: str) -> list[Article]:
    out: list[Article] = []
    for i in range(n):
        when = START + timedelta(seconds=rnd.randrange(int(WINDOW.total_seconds())))
        if out and rnd.random() < 0.1:
            src = rnd.choice(out)
            body = (src.body or "").split()
            body = body[: int(len(body) * rnd.uniform(0.6, 0.9))]
            out.append(Article(url=f"https://copy{i % 7}.example/{tag}/{i}",
                               source=f"outlet{i % 20}", title=_text(rnd, words, 9),
                               body=" ".join(body), published=when, language="en"))
            continue
        out.append(Article(url=f"https://o{i % 20}.example/{tag}/{i}", source=f"outlet{i % 20}",
                           title=_text(rnd, words, 9), lead=_text(rnd, words, 25),
                           body=_text(rnd, words, 220), published=when, language="en"))
    return out


def _capture(a: Article, n: int) -> CaptureRef:
    return CaptureRef(location=WarcLocation("bench.warc.gz", n, 1), url=a.url, status=200,
                      fetched_at=START + WINDOW, digest=f"sha1:{n}", record_id=f"<{n}>",
                      kind="article", source=a.source)


def measure(path: Path, size: int, new: int, seed: int = 1) -> dict[str, float]:
    """Build an archive of ``size`` linked articles at ``path`` and time ``new`` more."""
    rnd = random.Random(seed)
    words = _vocabulary(rnd)
    path.unlink(missing_ok=True)
    with Archive(path, writer_lock=False) as archive:
        t = time.perf_counter()
        with archive.transaction():
            for n, a in enumerate(_articles(rnd, words, size, "base")):
                archive.upsert(a, _capture(a, n))
        built = time.perf_counter() - t
        t = time.perf_counter()
        with archive.transaction():
            rebuild_clusters(archive.db.conn)
        relinked = time.perf_counter() - t
        fresh = _articles(rnd, words, new, "new")
        index = StoryIndex(archive.db.conn)  # a new ingest run
        upsert_s = link_s = 0.0
        for start in range(0, new, 100):
            batch = fresh[start : start + 100]
            with archive.transaction():
                t = time.perf_counter()
                ids = []
                for n, a in enumerate(batch, size + start):
                    archive.upsert(a, _capture(a, n))
                    ids.append(archive.resolve(a.url))
                upsert_s += time.perf_counter() - t
                t = time.perf_counter()
                index.update([i for i in ids if i])
                link_s += time.perf_counter() - t
        # The run's first batch loaded the window (all N signatures): time it alone.
        t = time.perf_counter()
        again = StoryIndex(archive.db.conn)
        again._cover(START + WINDOW / 2)
        load_s = time.perf_counter() - t
        clusters = archive.db.execute(
            "SELECT count(DISTINCT cluster_id), count(*) FROM cluster_members").fetchone()
    return {"archived": size, "new": new, "build_upsert_ms": 1000 * built / size,
            "rebuild_ms": 1000 * relinked / size, "upsert_ms": 1000 * upsert_s / new,
            "link_ms": 1000 * link_s / new, "window_load_s": load_s,
            "link_ms_after_load": 1000 * max(link_s - load_s, 0.0) / new,
            "ratio_link_to_upsert": link_s / upsert_s if upsert_s else 0.0,
            "clusters": clusters[0], "clustered_articles": clusters[1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--new", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rows = [measure(args.out / f"stories-{size}.db", size, args.new) for size in args.sizes]
    print(f"{'archived in window':>18} {'upsert ms/art':>13} {'link ms/art':>11} "
          f"{'(after window load)':>19} {'window load s':>13} {'link/upsert':>11} "
          f"{'rebuild ms/art':>14} {'clusters':>8}")
    for r in rows:
        print(f"{r['archived']:>18,} {r['upsert_ms']:>13.2f} {r['link_ms']:>11.2f} "
              f"{r['link_ms_after_load']:>19.2f} {r['window_load_s']:>13.2f} "
              f"{r['ratio_link_to_upsert']:>11.2f} {r['rebuild_ms']:>14.2f} {r['clusters']:>8,}")
    print(json.dumps({"bench": "stories", "results": rows}))


if __name__ == "__main__":
    main()
