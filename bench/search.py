"""Search latency at a million articles: mediawatch's search against the raw FTS5 floor and
sqlite-utils' ``table.search()``, on the same database, in one run.

The synthetic archive: English, Russian and Turkish articles (60 / 25 / 15 %) from
Zipf-distributed vocabularies, 20 sources, ten years of dates, wire-story lengths (title 6-12
words, lead 15-40, body 110-260), and in about a third of them names of the field spelt as
outlets in each language spell them (:data:`NAMES`: ``Шойгу``/``Şoygu``/``Shoigu``,
``С-400``/``S-400``, ``Лаврову``, ``Erdoğan'ın``...). It is written fast, straight into the
``articles`` table (the FTS triggers index it, each article's gazetteer entities with it,
and ``article_entities``, as ingest does) with ``executemany`` in one transaction, then
``fold_terms`` is filled from the index's vocabulary
(:func:`archive.store.names.rebuild_names`); aliases, versions and
captures, which search never reads, are left out. Cached under ``bench/out/`` (git-ignored)
and reused while its parameters match.

For a fixed query mix (very common, common, medium and rare terms, phrases, prefixes,
boolean operators; with and without source and date filters; names across scripts, a
designator, an entity filter; ``--sort relevance`` and ``newest``) it measures p50 and p95 of
``archive.search.search`` returning the top 20 with snippets, names widened to every script
(the default) and ``exact``, of the bare FTS5 query (``MATCH ... ORDER BY rank LIMIT 20``
on the FTS table: no join, no snippet; the floor) and of sqlite-utils ``table.search()``.
It also prints the size of the full-text index against what widening adds
(``fold_terms``, ``article_entities``).
Prints a table and ends with one JSON line of its figures.

    python bench/search.py [--articles 1000000] [--repeat 7] [--db bench/out/search.db]
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlite_utils  # noqa: E402

from archive.config.entities import default_gazetteer  # noqa: E402
from archive.models import (  # noqa: E402
    Article,
    WarcLocation,
)
from archive.store.db import Archive  # noqa: E402
from archive.store.identity import article_id, content_hash  # noqa: E402
from archive.store.names import rebuild_names, text_entities  # noqa: E402
from archive.store.records import CaptureRef  # noqa: E402
from archive.store.schema import ENTITY_COLUMN, date_key, entity_tokens  # noqa: E402
from archive.store.search import (  # noqa: E402
    SORTS,
    SearchQuery,
    count,
    expansions,
    fts_expression,
    search,
)
from archive.web.serving import settle  # noqa: E402

if TYPE_CHECKING:
    import sqlite3

BUILD_VERSION = 5
SOURCES = [f"outlet{i:02d}" for i in range(20)]
START = datetime(2016, 1, 1, tzinfo=UTC)
YEARS = 10


def _words(text: str) -> list[str]:
    return text.split()


EN = _words("the of and to in a said on for that with by is was as at from has be it its have an "
      "are not will were which but this their they after been also more had who would about "
      "defence ministry minister military missile system summit talks president foreign "
      "security forces army navy air deal contract arms sanctions ceasefire border troops "
      "nato russia turkey ukraine syria china united states government officials statement "
      "agreement weapons drone drones frigate corvette submarine exercise exercises brigade "
      "procurement delivery deliveries radar tank tanks artillery strike strikes attack "
      "negotiations diplomats diplomatic envoy ambassador treaty alliance parliament")
RU = _words("и в не на что с по как это из за к от о для министр обороны заявил министерство "
      "россии сша нато система системы переговоры поставки зенитный комплекс армия флот "
      "военные учения договор санкции президент безопасности ракеты ракетный удар войска "
      "границы сотрудничество делегация саммит переговоров оборонный контракт")
TR = _words("ve bir bu da de ile için olarak dedi bakan savunma bakanlığı türkiye rusya abd nato "
      "sistemi füze anlaşma görüşme tatbikat ordu donanma hava kuvvetleri sınır güvenlik "
      "cumhurbaşkanı dışişleri heyet zirve teslimat sözleşme yaptırım ateşkes askeri")
_SYLLABLES = {"en": _words("ka ro mi tel van dor is us an pre con ter sol vic nor lam est"),
              "ru": _words("ко ра ми тел ва до ис ус ан пре кон тер сол вик нор лам"),
              "tr": _words("ka ro mi tel van dör is üs an pre kon ter sol vik nor lam")}


#: Names of the field as outlets in each language print them (with case endings and
#: Turkish suffixes): one of these goes into about a third of the articles.
NAMES: dict[str, list[str]] = {
    "en": ["Shoigu", "Sergei Shoigu", "S-400", "Lavrov", "Cavusoglu", "Erdogan", "Zelenskyy's",
           "Su-57", "Idlib", "Bayraktar TB2", "Moscow", "Kyiv"],
    "ru": ["Шойгу", "Сергей Шойгу", "С-400", "Лавров", "Лаврову", "Лаврова", "Чавушоглу",
           "Эрдоган", "Эрдогана", "Зеленского", "Су-57", "Идлибе", "Москвы", "Киеве"],
    "tr": ["Şoygu", "S-400", "Lavrov", "Çavuşoğlu", "Erdoğan'ın", "Erdoğan", "Zelenskiy",
           "Su-57", "İdlib'de", "Bayraktar TB2", "Moskova", "Kiev"],
}


def vocabulary(lang: str, rng: random.Random, size: int = 40_000) -> list[str]:
    """Real words first (the frequent ones), then pseudo-words for the long tail."""
    words = list(dict.fromkeys({"en": EN, "ru": RU, "tr": TR}[lang]))
    syllables = _SYLLABLES[lang]
    seen = set(words)
    while len(words) < size:
        word = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def sentence_pool(lang: str, rng: random.Random, n: int = 30_000) -> list[str]:
    """Sentences of Zipf-distributed words (s = 1.05): texts are drawn from these."""
    words = vocabulary(lang, rng)
    weights = list(itertools.accumulate(1.0 / (rank ** 1.05) for rank in range(1, len(words) + 1)))
    pool = []
    for _ in range(n):
        picked = rng.choices(words, cum_weights=weights, k=rng.randint(8, 24))
        pool.append(" ".join(picked).capitalize() + ".")
    return pool


def articles(n: int, seed: int = 7) -> Iterator[tuple[Article, CaptureRef]]:
    """``n`` synthetic articles in date order (ten years), with their captures; about a
    third name someone or something of :data:`NAMES` in the article's language."""
    rng = random.Random(seed)
    pools = {lang: sentence_pool(lang, rng) for lang in ("en", "ru", "tr")}
    step = timedelta(days=365.25 * YEARS) / n
    for i in range(n):
        lang = rng.choices(("en", "ru", "tr"), weights=(60, 25, 15))[0]
        pool = pools[lang]
        source = rng.choice(SOURCES)
        published = START + step * i + timedelta(seconds=rng.randint(0, 600))
        words = " ".join(rng.choice(pool) for _ in range(3)).split()
        title = " ".join(words[: rng.randint(6, 12)]).rstrip(".").capitalize()
        lead = " ".join(rng.choice(pool) for _ in range(rng.randint(1, 2)))
        body = "\n\n".join(" ".join(rng.choice(pool) for _ in range(rng.randint(2, 4)))
                           for _ in range(rng.randint(3, 5)))
        if rng.random() < 0.35:
            name = rng.choice(NAMES[lang])
            if rng.random() < 0.3:
                title = f"{name}: {title}"
            else:
                cut = rng.randint(0, len(body))
                cut = body.rfind(" ", 0, cut) + 1
                body = f"{body[:cut]}{name} {body[cut:]}"
        url = f"https://{source}.example/{published:%Y/%m/%d}/{i}.html"
        article = Article(url=url, source=source, title=title, lead=lead, body=body,
                          published=published, language=lang, canonical_url=url,
                          short_url=f"https://{source}.example/s/{i:x}", body_method="bench")
        capture = CaptureRef(location=WarcLocation("bench.warc.gz", i * 4096, 4096), url=url,
                             status=200, fetched_at=published + timedelta(minutes=30),
                             digest=f"sha1:{i:032d}", record_id=f"<urn:uuid:{i:036d}>",
                             kind="article", source=source)
        yield article, capture


_COLUMNS = ("pk", "id", "source", "url", "canonical_url", "short_url", "title", "lead", "body",
            "published", "language", "body_method", "content_hash", "version", "first_seen",
            "last_seen", ENTITY_COLUMN)


def _row(i: int, article: Article, capture: CaptureRef, entities: list[str]
         ) -> tuple[object, ...]:
    """The ``articles`` row ingest would write for a new article (the columns search reads)
    that mentions ``entities``."""
    assert article.published is not None
    published = article.published.strftime("%Y-%m-%dT%H:%M:%SZ")
    seen = capture.fetched_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    # Date-ordered rowids as ingest gives them; the low bits keep two articles of the same
    # second apart (1,024 rowids per second: archive.store.schema.date_key).
    return (date_key(published) + (i & 1023), article_id(article.url), article.source,
            article.url, article.canonical_url, article.short_url, article.title, article.lead,
            article.body, published, article.language, article.body_method,
            content_hash(article), 1, seen, seen, entity_tokens(entities))


def build(path: Path, n: int) -> None:
    """Build (or reuse) the synthetic archive at ``path``: rows straight into ``articles``
    (one transaction, ``executemany``), then the name tables as ingest would fill them."""
    meta = {"articles": n, "version": BUILD_VERSION}
    if path.exists():
        db = sqlite_utils.Database(path)
        if "bench_meta" in db.table_names() and \
                dict(db.execute("SELECT key, value FROM bench_meta").fetchall()) == \
                {k: str(v) for k, v in meta.items()}:
            print(f"reusing {path} ({n:,} articles)")
            return
        db.close()
        path.unlink()
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".building")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{partial}{suffix}").unlink(missing_ok=True)
    archive = Archive(partial)
    conn = archive.db.conn
    conn.execute("PRAGMA cache_size = -500000")
    started = time.perf_counter()
    insert = (f"INSERT INTO articles ({', '.join(_COLUMNS)}) "
              f"VALUES ({', '.join('?' * len(_COLUMNS))})")
    items = enumerate(articles(n))
    gazetteer = default_gazetteer()
    done = 0
    with archive.transaction():
        while done < n:
            rows, tagged = [], []
            for i, (a, c) in itertools.islice(items, 20_000):
                # The entities as ingest finds them, so their tokens go into the index with
                # the text (archive.store.articles.upsert).
                found = text_entities(gazetteer, a.title, a.lead, a.body)
                row = _row(i, a, c, found)
                rows.append(row)
                tagged.extend((row[1], e) for e in found)
            conn.executemany(insert, rows)
            conn.executemany("INSERT INTO article_entities (article_id, entity_id)"
                             " VALUES (?, ?)", tagged)
            done += len(rows)
            if done % 100_000 == 0 or done == n:
                rate = done / (time.perf_counter() - started)
                print(f"  built {done:,} / {n:,} articles ({rate:,.0f}/s)", flush=True)
    built = time.perf_counter()
    with archive.transaction():
        rebuild_names(conn, entities=False)  # fold_terms from the index vocabulary
    print(f"  fold_terms in {time.perf_counter() - built:,.0f} s", flush=True)
    conn.execute("CREATE TABLE bench_meta (key TEXT PRIMARY KEY, value TEXT)")
    for key, value in meta.items():
        conn.execute("INSERT INTO bench_meta VALUES (?, ?)", [key, str(value)])
    conn.commit()
    conn.execute("INSERT INTO articles_fts(articles_fts) VALUES ('optimize')")
    conn.commit()
    archive.checkpoint()
    archive.close()
    partial.rename(path)
    print(f"built {path} in {time.perf_counter() - started:,.0f} s")


def main() -> None:
    """Build or reuse the archive, then measure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--build-only", action="store_true")
    opts = parser.parse_args()
    path = opts.db or ROOT / "bench" / "out" / f"search-{opts.articles}.db"
    build(path, opts.articles)
    if opts.build_only:
        return
    measure(path, opts.repeat)


#: The query mix: (class, query text, filters). Terms are words of the generated
#: vocabularies; their document counts are printed, so the classes can be checked.
QUERIES: list[tuple[str, str, dict[str, object]]] = [
    ("very common term", "the", {}),
    ("very common, Russian", "и", {}),
    ("common term", "defence", {}),
    ("medium term", "diplomats", {}),
    ("rare term", "{rare}", {}),
    ("phrase", '"{phrase}"', {}),
    ("prefix", "negotiat*", {}),
    ("boolean", "missile AND (navy OR army) NOT drone", {}),
    ("common + source", "defence", {"source": "outlet07"}),
    ("very common + source", "the", {"source": "outlet07"}),
    ("prefix + source", "negotiat*", {"source": "outlet07"}),
    ("medium + language", "diplomats", {"language": "en"}),
    ("common + one year", "defence", {"since": datetime(2019, 1, 1, tzinfo=UTC),
                                      "until": datetime(2020, 1, 1, tzinfo=UTC)}),
    ("very common + source + year", "the", {"source": "outlet07",
                                            "since": datetime(2017, 1, 1, tzinfo=UTC),
                                            "until": datetime(2018, 1, 1, tzinfo=UTC)}),
    ("title field", "title:summit", {}),
    # Names in every script (widened unless exact): NAMES spells them per language.
    ("name, Latin query", "Shoigu", {}),
    ("name, Cyrillic query", "Шойгу", {}),
    ("designator", "S-400", {}),
    ("name, case endings", "Lavrov", {}),
    ("gazetteer alias", "Selenskyj", {}),
    ("two names", "Erdogan Cavusoglu", {}),
    ("common + entity", "defence", {"entities": ("sergei-shoigu",)}),
    ("name + source", "Shoigu", {"source": "outlet07"}),
]


def _timed(fn: Callable[[], object], repeat: int) -> list[float]:
    fn()  # warm the page cache and the statement cache
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _terms(conn: sqlite3.Connection) -> dict[str, str]:
    """A rare word and a phrase that occur in the generated texts."""
    body = conn.execute("SELECT body FROM articles WHERE language = 'en' LIMIT 1 OFFSET 500"
                        ).fetchone()[0]
    words = [w.strip(".").lower() for w in body.split()]
    rare = max(words, key=len)  # long pseudo-words are the tail of the vocabulary
    return {"rare": rare, "phrase": " ".join(words[2:4])}


def sizes(conn: sqlite3.Connection) -> dict[str, int]:
    """Bytes of the full-text index, of the name tables widening adds, and of the file."""
    def pages(names: str) -> int:
        return int(conn.execute(f"SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE {names}"
                                ).fetchone()[0])

    return {"fts_index": pages("name LIKE 'articles_fts%'"),
            "fold_terms": pages("name LIKE '%fold_terms%'"),
            "article_entities": pages("name LIKE '%article_entities%'"),
            "database": pages("1")}


def measure(path: Path, repeat: int) -> dict[str, object]:
    """Time every query class, widened and exact; print the table, sizes and JSON line."""
    Archive(path).close()  # a cached database built by older code gets its migrations
    archive = Archive.open_readonly(path)
    conn = archive.db.conn
    conn.execute("PRAGMA cache_size = -1000000")  # 1 GB: the index stays in memory
    utils = sqlite_utils.Database(conn)
    terms = _terms(conn)
    settle()  # as `mediawatch serve` readies each process that answers searches
    figures: dict[str, object] = {}
    print(f"{archive.db['articles'].count:,} articles; p50 / p95 in ms of {repeat} runs; "
          "mw: names widened (the default), exact: --exact; floor and sqlite-utils run the "
          "widened MATCH\n")
    header = (f"{'query class':28} {'matches':>9} {'exact':>8} {'sort':>9} {'mw p50':>7} "
              f"{'mw p95':>7} {'exact p95':>9} {'floor p95':>9} {'s-utils p95':>11}")
    print(header)
    print("-" * len(header))
    for name, template, filters in QUERIES:
        text = template.format(**terms)
        q = SearchQuery(text, **filters)  # type: ignore[arg-type]
        matches = count(archive, q, cap=None)
        exact_matches = count(archive, replace(q, exact=True), cap=None)
        widened = expansions(archive, q)
        match = fts_expression(text, widened.get if widened else None)
        floor = _timed(lambda m=match: conn.execute(
            "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? ORDER BY rank LIMIT 20",
            [m]).fetchall(), repeat)
        where, args = _utils_where(q)
        reference = _timed(lambda m=match, w=where, a=args: list(utils["articles"].search(
            m, limit=20, where=w, where_args=a)), repeat)
        row: dict[str, object] = {"matches": matches, "exact_matches": exact_matches,
                                  "floor_p95": round(_p(floor, .95), 2),
                                  "sqlite_utils_p95": round(_p(reference, .95), 2)}
        for sort in SORTS:
            sorted_q = replace(q, sort=sort)
            mine = _timed(lambda sq=sorted_q: search(archive, sq), repeat)
            exact_q = replace(sorted_q, exact=True)
            exact = _timed(lambda sq=exact_q: search(archive, sq), repeat)
            row[f"{sort}_p50"] = round(_p(mine, .5), 2)
            row[f"{sort}_p95"] = round(_p(mine, .95), 2)
            row[f"{sort}_exact_p95"] = round(_p(exact, .95), 2)
            print(f"{name:28} {matches:9,d} {exact_matches:8,d} {sort:>9} {_p(mine, .5):7.1f} "
                  f"{_p(mine, .95):7.1f} {_p(exact, .95):9.1f} {_p(floor, .95):9.1f} "
                  f"{_p(reference, .95):11.1f}")
        figures[name] = row
    worst = max(max(float(r[f"{s}_p95"]) for s in SORTS)  # type: ignore[index]
                for r in figures.values())
    worst_exact = max(max(float(r[f"{s}_exact_p95"]) for s in SORTS)  # type: ignore[index]
                      for r in figures.values())
    print(f"\nworst mediawatch p95: {worst:.1f} ms widened, {worst_exact:.1f} ms exact "
          "(target: under 50 ms for every class)")
    size = sizes(conn)
    added = size["fold_terms"] + size["article_entities"]
    print(f"full-text index {size['fts_index'] / 1e6:,.1f} MB; widening adds fold_terms "
          f"{size['fold_terms'] / 1e6:,.1f} MB and article_entities "
          f"{size['article_entities'] / 1e6:,.1f} MB: {added / size['fts_index']:.1%} of the "
          f"index, {added / size['database']:.1%} of the database "
          f"({size['database'] / 1e6:,.0f} MB); exact search needs neither")
    print(json.dumps({"bench": "search", "articles": archive.db["articles"].count,
                      "worst_p95_ms": round(worst, 2), "worst_exact_p95_ms": round(worst_exact, 2),
                      "sizes": size, "classes": figures}, ensure_ascii=False))
    archive.close()
    return figures


def _utils_where(q: SearchQuery) -> tuple[str | None, dict[str, object]]:
    """The same filters for sqlite-utils' ``search(where=...)``."""
    clauses, args = [], {}
    if q.source:
        clauses.append("source = :source")
        args["source"] = q.source
    for name, op in (("since", ">="), ("until", "<")):
        value = getattr(q, name)
        if value is not None:
            clauses.append(f"coalesce(published, first_seen) {op} :{name}")
            args[name] = value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return (" AND ".join(clauses) or None), args


if __name__ == "__main__":
    main()
