"""Property-based tests (hypothesis) of the listing parsers (issue 8): feeds, sitemaps and
section pages (:mod:`crawler.pages.listings`). Random bytes, documents built from RSS, Atom,
RDF and sitemap vocabularies with random text, attributes, entities, encodings and gzip,
hostile DTDs (external entities, nested entity expansion): ``links()`` returns absolute
http(s) links or raises the documented ParseError, never another exception, reads no local
file, within a time bound; a few large inputs (tens of MB) within a memory bound, measured
in a fresh process (:func:`peak_rss_mb`)."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from archive.models import CapturedResponse
from crawler.pages.listings import FeedPage, Link, ParseError, SectionPage, SitemapPage

ROOT = Path(__file__).resolve().parents[1]
WHEN = datetime(2024, 5, 4, 10, 30, tzinfo=UTC)
URL = "http://wire.test/feeds/news.xml"
SECRET = "LOCAL-FILE-SECRET-7f3a"
FAST = settings(max_examples=150, deadline=2000, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def response(body: bytes, content_type: str | None = "application/xml",
             url: str = URL) -> CapturedResponse:
    headers = (("Content-Type", content_type),) if content_type is not None else ()
    return CapturedResponse(url=url, status=200, headers=headers, body=body, fetched_at=WHEN)


def links_or_parse_error(page: FeedPage | SitemapPage | SectionPage) -> list[Link] | None:
    """``page.links()`` checked: every link absolute http(s) with a known kind; None for the
    documented ParseError. Any other exception fails the calling test."""
    try:
        links = page.links()
    except ParseError as exc:
        refused: str | None = exc.url
    else:
        refused = None
    if refused is not None:
        assert refused == page.response.url
        return None
    for link in links:
        assert link.url.startswith(("http://", "https://")), link
        assert link.kind in ("article", "sitemap", "feed"), link
        assert SECRET not in repr(link), "an external entity was read"
    assert len({(link.url, link.kind) for link in links}) == len(links)
    return links


def peak_rss_mb(code: str, timeout: float = 120) -> float:
    """Run ``code`` in a fresh interpreter (the repository on its path) and return how many
    MB its peak resident size rose above its resident size at ``start()``: a bound on the
    memory one parse takes. ``code`` builds its input first and calls ``start()`` just
    before the measured part. Linux resets the peak (VmHWM) when "5" is written to
    /proc/self/clear_refs, so building the input does not hide the parse's peak."""
    program = textwrap.dedent("""
        import gc, sys, json
        sys.path.insert(0, {root!r})
        def _status(key):
            with open("/proc/self/status") as fh:
                return next(int(line.split()[1]) for line in fh if line.startswith(key))
        _base = [0]
        def start():
            gc.collect()
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")
            _base[0] = _status("VmRSS:")
    """).format(root=str(ROOT)) + textwrap.dedent(code) + textwrap.dedent("""
        print(json.dumps((_status("VmHWM:") - _base[0]) / 1024))
    """)
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                            timeout=timeout, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return float(json.loads(result.stdout.strip().splitlines()[-1]))


# --- strategies -----------------------------------------------------------------------

_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)
_XML_TEXT = st.one_of(
    _TEXT.map(lambda t: t.replace("&", "&amp;").replace("<", "&lt;")),
    _TEXT,  # raw, so sometimes malformed
    st.sampled_from(["&amp;", "&lt;", "&#0;", "&#xD800;", "&#1114112;", "&nbsp;", "&e;",
                     "&xxe;", "<![CDATA[x]]>", "<![CDATA[", "]]>", "<!-- c -->", "<?pi x?>",
                     "\x00", "\ufeff", "http://wire.test/a", "/relative/b", "//other.test/c",
                     "javascript:alert(1)", "http://[::1", "Mon, 32 Jan 2024 00:00:00 GMT",
                     "2024-05-04T09:00:00Z", "9999-12-31T23:59:59-14:00", "0000-00-00"]))
_NAMES = st.sampled_from([
    "rss", "channel", "item", "title", "link", "guid", "pubDate", "description", "author",
    "category", "feed", "entry", "id", "updated", "published", "summary", "content", "name",
    "rdf:RDF", "urlset", "url", "loc", "lastmod", "sitemapindex", "sitemap",
    "news:news", "news:title", "news:publication_date", "news:keywords", "news:language",
    "dc:creator", "media:content", "x"])
_ATTRS = st.dictionaries(
    st.sampled_from(["href", "rel", "type", "xml:base", "xml:lang", "version", "term", "url",
                     "xmlns", "xmlns:news", "isPermaLink"]),
    _XML_TEXT.map(lambda t: t.replace('"', "&quot;")), max_size=3)


def _element(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    def render(name: str, attrs: dict[str, str], parts: list[str]) -> str:
        attributes = "".join(f' {k}="{v}"' for k, v in attrs.items())
        return f"<{name}{attributes}>{''.join(parts)}</{name}>"
    return st.builds(render, _NAMES, _ATTRS, st.lists(children, max_size=4))


_TREE = st.recursive(_XML_TEXT, _element, max_leaves=30)
_ROOTS = st.sampled_from([
    '<rss version="2.0"><channel>{}</channel></rss>',
    '<feed xmlns="http://www.w3.org/2005/Atom">{}</feed>',
    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
    'xmlns="http://purl.org/rss/1.0/">{}</rdf:RDF>',
    '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
    'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{}</urlset>',
    '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{}</sitemapindex>',
    "{}"])
_PROLOGS = st.sampled_from([
    "", '<?xml version="1.0"?>', '<?xml version="1.0" encoding="utf-8"?>',
    '<?xml version="1.0" encoding="windows-1251"?>', '<?xml version="1.0" encoding="UTF-16"?>',
    '<?xml version="1.0" encoding="bogus-charset"?>', '<?xml version="1.1"?>',
    '<?xml version="1.0" encoding="utf-8"?><!DOCTYPE rss [<!ENTITY e "entity">]>',
    '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file://{secret}">]>',
    '<!DOCTYPE x [<!ENTITY xxe SYSTEM "http://127.0.0.1:9/x">]>',
    '<!DOCTYPE x [<!ENTITY % p SYSTEM "file:///nonexistent">%p;]>',
    "<!DOCTYPE x [" + "".join(f'<!ENTITY e{i} "{("&e" + str(i - 1) + ";") * 10}">'
                             for i in range(1, 8)) + '<!ENTITY e0 "lol">]>'])
_ENCODINGS = st.sampled_from(["utf-8", "utf-16", "utf-16-le", "windows-1251", "latin-1",
                              "shift_jis", "utf-8-sig", "cp037"])
_CONTENT_TYPES = st.one_of(st.none(), st.sampled_from([
    "application/xml", "application/rss+xml; charset=utf-8", "text/xml; charset=koi8-r",
    "application/atom+xml; charset=bogus", "text/html", "text/plain", "application/json",
    "application/octet-stream", "text/xml; charset=\x00", ""]))


@st.composite
def documents(draw: st.DrawFn, secret: str = "/nonexistent") -> bytes:
    """An XML-ish listing: prolog, root, random tree, encoded (maybe wrongly), maybe gzip'd,
    maybe truncated."""
    text = draw(_PROLOGS).replace("{secret}", secret) + draw(_ROOTS).format(draw(_TREE))
    data = text.encode(draw(_ENCODINGS), errors="replace")
    wrap = draw(st.sampled_from(["plain", "gzip", "gzip-cut", "cut", "junk-after"]))
    if wrap == "gzip":
        data = gzip.compress(data)
    elif wrap == "gzip-cut":
        data = gzip.compress(data)[: draw(st.integers(0, 40))]
    elif wrap == "cut":
        data = data[: draw(st.integers(0, max(0, len(data) - 1)))]
    elif wrap == "junk-after":
        data += draw(st.binary(max_size=30))
    return data


def _item(link: str, title: str) -> str:
    return f"<item><title>{title}</title><link>{link}</link></item>"


# --- properties -----------------------------------------------------------------------


@pytest.fixture(autouse=True, scope="module")
def _warm() -> None:
    """Load feedparser and lxml once, so that no example pays the import under the 2 s
    deadline."""
    body = b'<rss version="2.0"><channel><item><link>http://wire.test/a</link></item></channel></rss>'
    links_or_parse_error(FeedPage(response(body)))
    links_or_parse_error(SitemapPage(response(body)))



@pytest.fixture(scope="module")
def secret_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("xxe") / "secret.txt"
    path.write_text(SECRET)
    return path


@FAST
@given(body=st.binary(max_size=2000), content_type=_CONTENT_TYPES)
@example(body=b"\x1f\x8b\x08\x00garbage", content_type=None)
@example(body=b"\xef\xbb\xbf", content_type="application/xml")
@example(body=b"<", content_type="application/rss+xml")
@example(body=b"http://wire.test/a\nnot a url", content_type="text/plain")
def test_random_bytes_are_links_or_parse_error(body: bytes, content_type: str | None) -> None:
    for cls in (FeedPage, SitemapPage):
        links_or_parse_error(cls(response(body, content_type)))
    links_or_parse_error(SectionPage(response(body, content_type or "text/html"), None))


@FAST
@given(data=st.data(), content_type=_CONTENT_TYPES)
def test_listing_documents_are_links_or_parse_error(secret_file: Path, data: st.DataObject,
                                                   content_type: str | None) -> None:
    body = data.draw(documents(str(secret_file)))
    for cls in (FeedPage, SitemapPage):
        links_or_parse_error(cls(response(body, content_type)))


@FAST
@given(entries=st.lists(st.tuples(st.sampled_from(["a", "b/c", "d?x=1", "e#frag"]), _TEXT),
                        min_size=1, max_size=8),
       encoding=st.sampled_from(["utf-8", "utf-16", "windows-1251"]))
def test_a_well_formed_feed_lists_every_entry(entries: list[tuple[str, str]],
                                              encoding: str) -> None:
    """The honest half: a valid RSS feed built by the strategy yields exactly its links."""
    def esc(s: str) -> str:
        return "".join(c for c in s if c.isprintable()).replace("&", "&amp;").replace("<", "&lt;")
    items = "".join(_item(f"http://wire.test/news/{path}", esc(title))
                    for path, title in entries)
    xml = (f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0"><channel>'
           f"<title>Wire</title>{items}</channel></rss>")
    body = xml.encode(encoding, errors="xmlcharrefreplace")
    links = links_or_parse_error(FeedPage(response(body, "application/rss+xml")))
    expected = list(dict.fromkeys(f"http://wire.test/news/{p}".split("#")[0]
                                  for p, _ in entries))
    assert links is not None
    assert [link.url for link in links] == expected


@FAST
@given(locs=st.lists(st.sampled_from(["a", "b/c", "d?x=1&amp;y=2", "e"]), min_size=1,
                     max_size=6),
       index=st.booleans(), gz=st.booleans())
def test_a_well_formed_sitemap_lists_every_url(locs: list[str], index: bool, gz: bool) -> None:
    root, entry, kind = ("sitemapindex", "sitemap", "sitemap") if index else \
        ("urlset", "url", "article")
    body = (f'<?xml version="1.0"?><{root} xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            + "".join(f"<{entry}><loc>http://wire.test/{loc}</loc></{entry}>" for loc in locs)
            + f"</{root}>").encode()
    links = links_or_parse_error(SitemapPage(response(gzip.compress(body) if gz else body)))
    expected = list(dict.fromkeys(f"http://wire.test/{loc.replace('&amp;', '&')}"
                                  for loc in locs))
    assert links is not None
    assert [link.url for link in links] == expected
    assert {link.kind for link in links} == {kind}


@pytest.mark.parametrize("cls", [FeedPage, SitemapPage])
def test_external_entities_are_never_read(secret_file: Path, cls: type) -> None:
    body = (f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file://{secret_file}">]>'
            '<rss version="2.0"><channel><item><title>&xxe;</title>'
            "<link>http://wire.test/&xxe;</link></item></channel></rss>").encode()
    links_or_parse_error(cls(response(body)))


# --- bounded memory on large inputs (fresh process each) ------------------------------

_LARGE = {
    # SIZE KB of nested entity references (billion laughs), each a 10 ** 9 expansion
    "nested-entities": """
        decl = "".join(f'<!ENTITY e{i} "{("&e" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
        head = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e0 "lol">' + decl + ']>'
        item = '<url><loc>http://wire.test/&e9;</loc></url>'
        body = (head + '<urlset>' + item * (SIZE * 1024 // len(item)) + '</urlset>').encode()
    """,
    # SIZE KB of nesting (20 bytes a level: 2.6 million levels for 50 MB)
    "deep-nesting": """
        depth = SIZE * 1024 // 20
        root = "<rss><channel>" if "Feed" in "CLS" else "<urlset><url>"
        body = (root + '<item><title>' * depth + 'x' + '</title></item>' * depth).encode()
    """,
    # a gzip member that expands to 256 MB (over the 100 MB cap)
    "gzip-bomb": """
        import zlib
        c = zlib.compressobj(9, zlib.DEFLATED, 31)
        chunk = b"<" * (1024 * 1024)
        body = b"".join([c.compress(chunk) for _ in range(256)] + [c.flush()])
    """,
}


# feedparser reads about 1 MB a second (any feed, hostile or not), so FeedPage gets 512 KB
# inputs here; lxml (SitemapPage) gets the 50 MB the sitemap protocol allows.
@pytest.mark.parametrize("name", list(_LARGE))
@pytest.mark.parametrize(("cls", "size"), [("FeedPage", 512),
                                                 ("SitemapPage", 50 * 1024)])
def test_large_hostile_listings_stay_within_memory_and_time(name: str, cls: str,
                                                           size: int) -> None:
    grown = peak_rss_mb(_LARGE[name].replace("SIZE", str(size)).replace("CLS", cls) + f"""
        import time
        from datetime import datetime, UTC
        from archive.models import CapturedResponse
        from crawler.pages.listings import {cls}, ParseError
        r = CapturedResponse("http://wire.test/s.xml", 200, (("Content-Type", "application/xml"),),
                             body, datetime(2024, 1, 1, tzinfo=UTC))
        start()
        began = time.monotonic()
        try:
            links = {cls}(r).links()
            assert all(len(link.url) < 10_000 for link in links)
        except ParseError:
            pass
        assert time.monotonic() - began < 60, "too slow"
    """)
    # The 50 MB inputs may take a few times their size to parse, never a GB; the bomb's
    # output is capped at 100 MB (held twice while copied): uncapped, its 256 MB would be.
    bound = 300 if name == "gzip-bomb" else 400
    assert grown < bound, f"{cls} on {name}: peak rose by {grown:.0f} MB"


def test_an_undeclared_prefix_does_not_stop_a_sitemap() -> None:
    """Found by the documents property: ``<dc:creator>`` without ``xmlns:dc`` made lxml's
    QName raise ValueError out of SitemapPage.links()."""
    body = (b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url>'
            b"<loc>http://wire.test/a</loc><dc:creator>x</dc:creator></url>"
            b"<dc:creator></dc:creator></urlset>")
    links = links_or_parse_error(SitemapPage(response(body)))
    assert links is not None
    assert [link.url for link in links] == ["http://wire.test/a"]
