"""The cost of linking stories at ingest (archive/clusters): milliseconds per article when
the archive already holds N articles inside the time window, beside the cost of storing the
article itself (``Archive.upsert``) in the same run.

For each N (default 10,000 and 100,000) the archive holds N articles published over one
7-day window, so that every one of them is in the window of the articles that follow (the
worst case for the LSH index), 10 % of them wire copies of another (cut to 60-90 %, a new
headline). Up to 10,000 are stored and linked through the real path (``Archive.upsert``,
then :func:`archive.clusters.index.rebuild_clusters`); a larger N is made of replicas of
those (articles, links and clusters copied under new ids and sources, each replica's
MinHash values XOR-ed with its own constant: the same copy structure, unrelated to the other
replicas), which takes minutes instead of an hour on a loaded machine. Then a new ingest run
(a fresh :class:`~archive.clusters.index.StoryIndex`) stores and links ``--new`` more
articles in batches of 100, as the ingest does, 10 % of them copies of archived articles:
upsert time and linking time apart; the linking's one-off load of the window's signatures
is measured apart too (time, then memory with tracemalloc). Prints a table and one JSON line.

    python bench/stories.py [--sizes 10000 100000] [--new 1000] [--out bench/out]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

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


def _replicate(archive: Archive, real: int, size: int) -> None:
    """Fill the archive up to ``size`` articles with replicas of its ``real`` ones."""
    conn = archive.db.conn
    base = "instr(article_id, 'r') = 0"
    signatures = conn.execute(
        "SELECT article_id, source, language, title_key, at, content_hash, minhash, shingles"
        f" FROM story_signatures WHERE {base} ORDER BY article_id").fetchall()
    for k in range(1, -(-size // real)):
        n = min(real, size - k * real)
        salt = np.uint32(random.Random(k).getrandbits(32))
        suffix = f"r{k}"
        with archive.transaction():
            conn.execute(
                "INSERT INTO articles (id, source, url, title, lead, body, published, language,"
                " content_hash, version, first_seen, last_seen) SELECT id || :s,"
                " source || '-' || :s, url || '#' || :s, title, lead, body, published, language,"
                " content_hash, version, first_seen, last_seen FROM articles"
                " WHERE instr(id, 'r') = 0 ORDER BY id LIMIT :n", {"s": suffix, "n": n})
            kept = {r[0] for r in conn.execute(
                "SELECT substr(id, 1, 12) FROM articles WHERE id LIKE '%' || :s", {"s": suffix})}
            conn.executemany(
                "INSERT INTO story_signatures (article_id, source, language, title_key, at,"
                " content_hash, minhash, shingles) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(aid + suffix, f"{src}-{suffix}", lang, tkey, at, chash,
                  (np.frombuffer(mh, dtype="<u4") ^ salt).astype("<u4").tobytes()
                  if mh is not None else None, sh)
                 for aid, src, lang, tkey, at, chash, mh, sh in signatures if aid in kept])
            for table, a, b in (("story_links", "a", "b"),
                                ("cluster_members", "article_id", "cluster_id")):
                rest = ", kind, score" if table == "story_links" else ""
                conn.execute(
                    f"INSERT INTO {table} SELECT {a} || :s, {b} || :s{rest} FROM {table}"
                    f" WHERE instr({a}, 'r') = 0 AND substr({a}, 1, 12) IN"
                    " (SELECT substr(id, 1, 12) FROM articles WHERE id LIKE '%' || :s)"
                    f" AND substr({b}, 1, 12) IN"
                    " (SELECT substr(id, 1, 12) FROM articles WHERE id LIKE '%' || :s)",
                    {"s": suffix})


def measure(path: Path, size: int, new: int, seed: int = 1) -> dict[str, float]:
    """Build an archive of ``size`` linked articles at ``path`` and time ``new`` more."""
    rnd = random.Random(seed)
    words = _vocabulary(rnd)
    for stale in path.parent.glob(path.name + "*"):
        stale.unlink()
    real = min(size, 10_000)
    with Archive(path, writer_lock=False) as archive:
        base = _articles(rnd, words, real, "base")
        t = time.perf_counter()
        with archive.transaction():
            for n, a in enumerate(base):
                archive.upsert(a, _capture(a, n))
        built = time.perf_counter() - t
        t = time.perf_counter()
        with archive.transaction():
            rebuild_clusters(archive.db.conn)
        relinked = time.perf_counter() - t
        _replicate(archive, real, size)
        archived = archive.db.execute("SELECT count(*) FROM story_signatures").fetchone()[0]
        # The new run: its own stories, and copies of archived ones.
        fresh = _articles(rnd, words, new, "new")
        for i in range(0, new, 10):
            src = rnd.choice(base)
            body = (src.body or "").split()
            fresh[i] = Article(url=f"https://late.example/{i}", source="late",
                               title=_text(rnd, words, 8), language="en",
                               body=" ".join(body[: int(len(body) * rnd.uniform(0.6, 0.9))]),
                               published=(src.published or START) + timedelta(hours=3))
        # The run's one-off load of the window (every archived signature here), measured
        # on its own in a fresh index.
        t = time.perf_counter()
        probe = StoryIndex(archive.db.conn)
        probe._cover(START + WINDOW / 2)
        load_s = time.perf_counter() - t
        held = len(probe.bands)
        del probe
        tracemalloc.start()  # again, for its memory (tracing slows it down)
        probe = StoryIndex(archive.db.conn)
        probe._cover(START + WINDOW / 2)
        _, load_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del probe
        index = StoryIndex(archive.db.conn)  # the new ingest run
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
        linked_late = archive.db.execute(
            "SELECT count(*) FROM cluster_members AS m JOIN articles AS a ON a.id ="
            " m.article_id WHERE a.source = 'late'").fetchone()[0]
    return {"archived": archived, "new": new, "build_upsert_ms": 1000 * built / real,
            "rebuild_ms": 1000 * relinked / real, "upsert_ms": 1000 * upsert_s / new,
            "link_ms": 1000 * link_s / new, "window_load_s": load_s,
            "window_load_peak_mb": load_peak / 2**20, "window_signatures": held,
            "link_ms_after_load": 1000 * max(link_s - load_s, 0.0) / new,
            "ratio_link_to_upsert": link_s / upsert_s if upsert_s else 0.0,
            "late_copies": new // 10, "late_copies_linked": linked_late}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--new", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"{'archived in window':>18} {'upsert ms/art':>13} {'link ms/art':>11} "
          f"{'(after window load)':>19} {'window load s':>13} {'load peak MB':>12} "
          f"{'link/upsert':>11} {'copies found':>12}", flush=True)
    rows = []
    for size in args.sizes:
        r = measure(args.out / f"stories-{size}.db", size, args.new)
        rows.append(r)
        print(f"{r['archived']:>18,} {r['upsert_ms']:>13.2f} {r['link_ms']:>11.2f} "
              f"{r['link_ms_after_load']:>19.2f} {r['window_load_s']:>13.2f} "
              f"{r['window_load_peak_mb']:>12.0f} {r['ratio_link_to_upsert']:>11.2f} "
              f"{r['late_copies_linked']:>5}/{r['late_copies']:<6}", flush=True)
    print(json.dumps({"bench": "stories", "results": rows}))


if __name__ == "__main__":
    main()
