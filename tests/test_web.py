"""The web interface (archive/web/) over a real archive: the sample newsroom crawled
twice with the real ``mediawatch crawl`` (one story is edited in between), served through
Starlette's TestClient."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from starlette.testclient import TestClient

from archive.store import facets
from archive.store.facets import Filters
from archive.store.search import QueryError
from archive.web.app import create_app
from archive.web.query import parse_filters
from archive.web.views import day_chart, replay_timestamp
from scheduler.cli import web_source_rows
from scheduler.newsroom.stories import STORIES

if TYPE_CHECKING:
    from tests.conftest import Crawled

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
REPLAY = "http://127.0.0.1:1"  # never contacted: only written into links


@pytest.fixture(scope="module")
def client(crawled: Crawled) -> Iterator[TestClient]:
    app = create_app(crawled.data, crawled.config, REPLAY,
                     source_rows=web_source_rows(str(crawled.config)))
    with TestClient(app) as test_client:
        yield test_client


def api(client: TestClient, path: str, status: int = 200) -> dict:
    response = client.get(path)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


#: The stories that name the S-400: in Latin script, and in Cyrillic ("С-400").
S400_LATIN = {"s400", "aa_tr_s400", "aa_wire_s400", "names_en", "names_tr"}
S400_CYRILLIC = {"ru_s400", "names_ru"}


def test_api_search_finds_russian_and_english_with_counts(client: TestClient) -> None:
    # Names match in every script: S-400 finds the Russian "С-400" stories too.
    body = api(client, "/api/search?q=S-400")
    expected = len(S400_LATIN | S400_CYRILLIC)
    assert body["total"] == expected
    assert {h["source"] for h in body["hits"]} == {"northwind", "anatolia"}
    assert {h["language"][:2] for h in body["hits"]} == {"en", "ru", "tr"}
    assert sum(row["n"] for row in body["sources"]) == expected
    assert sum(row["n"] for row in body["days"]) == expected
    assert all("[" in h["snippet"] for h in body["hits"])
    exact = api(client, "/api/search?q=S-400&exact=1")
    assert exact["total"] == len(S400_LATIN)
    assert exact["query"]["exact"] == "1"


def test_api_search_entity_facet_and_filter(client: TestClient) -> None:
    body = api(client, "/api/search?q=Shoigu")
    # Shoigu, Шойгу and Şoygu: the one event in three languages.
    assert {h["language"][:2] for h in body["hits"]} == {"en", "ru", "tr"}
    facet = {row["value"]: row for row in body["entities"]}
    assert facet["sergei-shoigu"]["n"] == body["total"]
    assert facet["sergei-shoigu"]["name"] == "Sergei Shoigu"
    assert facet["sergei-shoigu"]["kind"] == "person"
    filtered = api(client, "/api/search?q=S-400&entity=mevlut-cavusoglu,sergey-lavrov")
    assert filtered["total"] == 3
    assert filtered["query"]["entity"] == "mevlut-cavusoglu,sergey-lavrov"
    assert "unknown entity 'nosuch'" in api(client, "/api/search?q=x&entity=nosuch", 400)["error"]
    assert "not an entity id" in api(client, "/api/search?q=x&entity=No%20Such", 400)["error"]
    page = client.get("/?q=Shoigu").text
    assert "<h2>Entities</h2>" in page
    assert "entity=sergei-shoigu" in page
    assert "Шойгу</mark>" in page  # the hit, in the article's own script
    assert 'name="exact"' in page


def test_api_search_filters_by_source_language_and_dates(client: TestClient) -> None:
    assert {h["source"] for h in api(client, "/api/search?q=S-400&source=anatolia")["hits"]} \
        == {"anatolia"}
    assert {h["language"][:2] for h in api(client, "/api/search?q=S-400&lang=tr")["hits"]} \
        == {"tr"}
    everything = api(client, "/api/search")["total"]
    assert everything == len(STORIES)
    assert api(client, "/api/search?until=1999-12-31")["total"] == 0
    assert api(client, "/api/search?since=2020-01-01")["total"] == everything


def test_api_search_tag_filter_matches_tag_facet(client: TestClient) -> None:
    tags = api(client, "/api/search")["tags"]
    assert tags, "the newsroom's articles carry tags"
    tag = tags[0]
    tagged = api(client, f"/api/search?tag={tag['value']}&per_page=100")
    assert tagged["total"] == tag["n"] == len(tagged["hits"])


def test_api_search_tag_filter_with_a_query(client: TestClient) -> None:
    tags = api(client, "/api/search?q=S-400")["tags"]
    tag = tags[0]
    tagged = api(client, f"/api/search?q=S-400&tag={tag['value'].upper()}&per_page=100")
    assert tagged["total"] == tag["n"] == len(tagged["hits"]) >= 1
    assert tagged["ranked_within"] is None
    assert tagged["total_exact"]


def test_large_result_sets_are_counted_over_a_window_and_say_so(
        client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from archive.store import facets
    from archive.web import views as app_module

    monkeypatch.setattr(facets, "FACET_WINDOW", 4)
    monkeypatch.setattr(app_module, "FACET_WINDOW", 4)
    monkeypatch.setattr(app_module, "COUNT_CAP", 6)
    monkeypatch.setattr(app_module, "RANK_WINDOW", 2)
    body = api(client, "/api/search?per_page=100")
    # facets.count_sql caps at search.COUNT_CAP (10,000): the app caps what it reports
    assert (body["total"], body["total_exact"]) == (6, False)
    assert body["facets_within"] == 4
    assert sum(row["n"] for row in body["days"]) == 4  # the newest 4 articles
    ranked = api(client, "/api/search?q=S-400")
    assert ranked["ranked_within"] == 2


def test_api_search_pages_through_every_article_once(client: TestClient) -> None:
    seen: list[str] = []
    first = api(client, "/api/search?sort=newest&per_page=5")
    assert first["pages"] == -(-len(STORIES) // 5)
    for page in range(1, first["pages"] + 1):
        seen += [h["id"] for h in api(client, f"/api/search?sort=newest&per_page=5&page={page}")
                 ["hits"]]
    assert len(seen) == len(set(seen)) == first["total"] == len(STORIES)


@pytest.mark.parametrize("query", [
    "q=*", "q=(((", "q=" + "x" * 3000, "q=a&sort=sideways", "page=0", "page=abc",
    "per_page=1000", "since=last%20tuesday", "lang=';DROP TABLE articles;--",
    "q=%00%01", "q=%22%22", "q=NEAR(a b)&since=2020-13-45",
], ids=["star", "parens", "too-long", "sort", "page-0", "page-text", "per-page", "since",
        "lang-sql", "control-chars", "empty-phrase", "bad-date"])
def test_hostile_queries_are_400_with_one_line_message(client: TestClient, query: str) -> None:
    body = api(client, f"/api/search?{query}", status=400)
    assert body["status"] == 400
    assert body["error"]
    assert "\n" not in body["error"]
    page = client.get(f"/?{query}")
    assert page.status_code == 400
    assert 'class="error"' in page.text


def test_unknown_article_and_route_are_json_404(client: TestClient) -> None:
    assert api(client, "/api/articles/nope", status=404)["error"] == "no article 'nope'"
    assert client.get("/articles/nope").status_code == 404


def test_api_article_has_aliases_versions_diff_captures_and_cluster(client: TestClient) -> None:
    hit = api(client, "/api/search?q=Geneva summit strategic stability")["hits"][0]
    article = api(client, f"/api/articles/{hit['id']}")
    assert len(article["versions"]) == 2
    (diff,) = article["diffs"]
    assert "headline" in diff["kinds"]
    title = next(f for f in diff["fields"] if f["name"] == "title")
    assert ["-", "Presidents Open "] in title["segments"]
    assert ["+", "Deal to Launch Strategic Stability Dialogue"] in title["segments"]
    capture = article["captures"][0]
    assert capture["replay_url"] == f"{REPLAY}/replay/{capture['ts']}/{capture['url']}"
    # the short URL resolves to the same article, through the alias table
    short = api(client, "/api/search?q=Idlib Escalation S-400 Deliveries")["hits"][0]
    by_short = api(client, f"/api/articles/{short['short_url']}")
    assert short["short_url"] in by_short["aliases"]
    # The wire copy, linked at ingest; Anatolia ran it first (00:10+03:00 = 21:10Z).
    # Then the coverage in other languages, linked through the entities they share.
    members = {m["id"]: m["source"] for m in by_short["cluster"]["members"]}
    assert members[by_short["cluster"]["first"]] == "anatolia"
    assert {"anatolia", "northwind"} <= set(members.values())
    assert by_short["cluster"]["first"] == by_short["cluster"]["members"][0]["id"]
    delays = [m["delay"] for m in by_short["timeline"]]
    assert delays[0] == "first"
    assert "+2 h 15 min" in delays


def test_article_page_shows_text_aliases_diff_and_replay_links(client: TestClient) -> None:
    hit = api(client, "/api/search?q=Geneva summit strategic stability")["hits"][0]
    page = client.get(f"/articles/{hit['id']}")
    assert page.status_code == 200
    assert "Versions (2)" in page.text
    assert 'class="ddel"' in page.text
    assert 'class="dadd"' in page.text
    assert 'href="/replay-frame/' in page.text


def test_article_page_and_api_give_the_publishers_local_time(client: TestClient) -> None:
    hit = api(client, "/api/search?q=Delhi radars")["hits"][0]
    assert hit["published"] == "2022-09-14T15:40:00Z"
    article = api(client, f"/api/articles/{hit['id']}")
    assert (article["published_local"], article["published_precision"],
            article["published_from"]) == ("2022-09-14T21:10:00+05:30", "second", "jsonld")
    page = client.get(f"/articles/{hit['id']}").text
    assert "<dt>published local</dt><dd>2022-09-14T21:10:00+05:30</dd>" in page


def test_replay_frame_banner_and_sandboxed_iframe(client: TestClient) -> None:
    hit = api(client, "/api/search?q=Geneva summit strategic stability")["hits"][0]
    capture = api(client, f"/api/articles/{hit['id']}")["captures"][-1]
    page = client.get(capture["frame_url"])
    assert page.status_code == 200
    assert f'href="/articles/{hit["id"]}"' in page.text
    assert f'<iframe class="replay" src="{capture["replay_url"]}" sandbox=""' in page.text
    assert f"{REPLAY}/replay/*/{capture['url']}" in page.text
    assert client.get("/replay-frame/notatime/http://x/").status_code == 400


def test_sources_page_and_api(client: TestClient) -> None:
    rows = {row["source"]: row for row in api(client, "/api/sources")}
    assert set(rows) == {"northwind", "anatolia"}
    northwind = rows["northwind"]
    assert northwind["last_status"] == "ok"
    assert northwind["schedule"]
    assert northwind["next_run"]
    assert northwind["articles"] == sum(d["n"] for d in northwind["per_day"])
    page = client.get("/sources")
    assert page.status_code == 200
    assert 'id="source-anatolia"' in page.text


def test_search_page_has_facets_chart_and_pager(client: TestClient) -> None:
    page = client.get("/?sort=newest&per_page=4")
    assert page.status_code == 200
    assert "<svg" in page.text
    assert "<rect" in page.text
    assert 'rel="next"' in page.text
    assert 'rel="prev"' not in page.text
    assert "per_page=4" in page.text.split('rel="next" href="')[1].split('"')[0]


def test_exports_stream_the_filtered_result_set(client: TestClient) -> None:
    response = client.get("/export.csv?q=S-400&source=northwind")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    expected = api(client, "/api/search?q=S-400&source=northwind")["hits"]
    # The same articles (an export is in date order, a search by relevance).
    assert sorted(r["id"] for r in rows) == sorted(h["id"] for h in expected)
    assert rows
    assert {r["source"] for r in rows} == {"northwind"}
    lines = client.get("/export.jsonl?q=S-400").text.splitlines()
    assert sorted(json.loads(line)["id"] for line in lines) \
        == sorted(h["id"] for h in api(client, "/api/search?q=S-400")["hits"])
    bad = client.get("/export.csv?q=*")
    assert bad.status_code == 400
    assert "error" in bad.json()


def test_static_css_is_served(client: TestClient) -> None:
    assert "body" in client.get("/static/style.css").text


# --------------------------------------------------------------------------- pure parts


def test_parse_filters_until_is_inclusive_and_blank_means_none() -> None:
    f, paging = parse_filters({"q": " x ", "until": "2020-11-29", "source": "", "page": "2"})
    assert f == Filters(text="x", until=f.until)
    assert f.until is not None
    assert f.until.isoformat() == "2020-11-30T00:00:00+00:00"
    assert (paging.sort, paging.page) == ("relevance", 2)
    with pytest.raises(QueryError):
        parse_filters({"q": "--"})


def test_facet_sql_pushes_every_filter_into_sql() -> None:
    sql, params = facets.counts_sql(Filters(text="S-400", source="a", language="en",
                                            tag="Syria"), "source")
    # Source, language and tag are matched inside the index, with the text.
    assert "MATCH :match" in sql
    assert "LIMIT :facet_window" in sql
    assert params["match"] == '("S-400") AND "src61" AND "lang656e" AND "tag7379726961"'


def test_day_chart_months_for_long_spans() -> None:
    chart = day_chart([{"day": "2020-01-05", "n": 2}, {"day": "2020-06-01", "n": 4}])
    assert chart["unit"] == "month"
    assert [b["label"] for b in chart["bars"]] \
        == ["2020-01", "2020-06"]
    assert chart["bars"][1]["h"] == 2 * chart["bars"][0]["h"]
    assert day_chart([])["bars"] == []


def test_replay_timestamp() -> None:
    assert replay_timestamp("2026-11-29T12:00:05Z") == "20261129120005"
