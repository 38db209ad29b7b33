"""The generic tag, author, title and language finders (crawler/pages/bylines.py)."""

from __future__ import annotations

from parsel import Selector

from crawler.pages import bylines as bl

PAGE = """<html><body>
<nav><a href="/topics/world">World</a><a href="/author/editor-in-chief">Chief Editor</a></nav>
<a href="/topics/sport">Sport</a>
<h1>Air defence moved north</h1>
<div class="byline"><a href="/experts/12">Jane Roe</a> and <a href="/experts/13">John Doe</a></div>
<p>Text with an inline <a href="/topics/oil">link to oil</a> in it.</p>
<div data-component="tags"><a href="/news/topics/c1">Air defence</a>
<a rel="tag" href="/x">Border</a></div>
<aside><h2>Related topics</h2><a href="/de/nato/t-123">NATO</a></aside>
<div class="related"><div><a href="/experts/99">Other Author</a></div></div>
<div class="comments"><a href="/people/troll">Some Troll</a></div>
<footer><a href="/tag/about">About us</a></footer>
</body></html>"""


def test_topic_links_are_the_storys_topics_not_the_menus() -> None:
    found = bl.topic_links(Selector(PAGE))
    # Menus (nav, before the headline), inline links and the footer are not topics.
    assert found == ["Air defence", "Border", "NATO"]


def test_author_links_take_the_first_byline_block() -> None:
    assert bl.author_links(Selector(PAGE)) == ["Jane Roe", "John Doe"]


def test_split_list_splits_one_joined_value_only() -> None:
    assert bl.split_list(["World;Aerospace & Defense"]) == ["World", "Aerospace & Defense"]
    assert bl.split_list(["AER,AERO,GEN"]) == ["AER", "AERO", "GEN"]
    assert bl.split_list(["a, b", "c"]) == ["a, b", "c"]


def test_a_glued_site_suffix_goes_when_the_headline_is_printed() -> None:
    page = Selector("<html><body><div class='h-title'>防空部队调往北部</div></body></html>")
    assert bl.strip_glued_suffix("防空部队调往北部-新华网", page) == "防空部队调往北部"
    # A dash that belongs to the headline stays: the rest is not printed alone.
    assert bl.strip_glued_suffix("Russia-Ukraine talks resume-today", page) == \
        "Russia-Ukraine talks resume-today"


def test_script_language_names_cjk_only() -> None:
    zh = "第一段说，国防部周二在谈判陷入僵局后将两个防空营调往北部边境。"
    ja = "防衛省は火曜日、二つの防空部隊を北部の国境へ移したと発表した。"
    ko = "국방부는 화요일 두 개의 방공 포대를 북부 국경으로 옮겼다고 밝혔다."
    assert bl.script_language(zh) == "zh"
    assert bl.script_language(ja) == "ja"
    assert bl.script_language(ko) == "ko"
    assert bl.script_language("Министерство обороны перебросило две батареи ПВО.") is None
    assert bl.script_language("short") is None


def test_a_suffix_of_several_parts_goes_when_the_headline_is_printed() -> None:
    page = Selector("<html><body><h1>Ukraine: goals, chances, risks</h1></body></html>")
    assert bl.strip_glued_suffix("Ukraine: goals, chances, risks | DW | 28.04.2023", page) == \
        "Ukraine: goals, chances, risks"
    # Without the headline printed, nothing is cut.
    assert bl.strip_glued_suffix("Ukraine: goals | DW", Selector("<p>x</p>")) == \
        "Ukraine: goals | DW"


def test_a_link_that_is_not_a_url_is_no_byline_nor_topic() -> None:
    """``urlsplit`` raises on ``http://[x``: such a link is skipped, the page still parses."""
    page = Selector('<html><body><h1>T</h1><p><a href="http://[bad/author/x">Jane Roe</a>'
                    '<a href="http://[bad/tag/x">Topic</a><a href="/author/jd">John Doe</a>'
                    '</p></body></html>')
    assert bl.author_links(page) == ["John Doe"]
    assert bl.topic_links(page) == []
