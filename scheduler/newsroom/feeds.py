"""The sample newsroom's feeds and sitemaps, built from the story table.

Each is a function of the site's base URL and the edition: northwind's RSS 2.0 feed (with
``utm_*`` links, validators and gzip), its Google News sitemap index, news sitemap and pages
sitemap, and anatolia's Atom feed (no validators). They list :data:`STORY_SPECS`, so they
cannot drift from the ground truth the tests check.
"""

from __future__ import annotations

import hashlib
import html
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from xml.sax.saxutils import escape as xml_escape

from scheduler.newsroom.handler import Response
from scheduler.newsroom.stories import UTM, stories_of


def rss(base: str, edition: int) -> Response:
    """Northwind's RSS 2.0 feed: English stories, tracked links, ETag and Last-Modified, gzip."""
    stories = [s for s in stories_of("northwind") if s.in_feed]
    built = max(datetime.fromisoformat(s.modified_for(edition)) for s in stories)
    items = []
    for s in stories:
        published = s.published_at
        if s.key == "frigate":
            # Feeds mix offsets: one item in Ankara time, not GMT.
            pub = format_datetime(published.astimezone(timezone(timedelta(hours=3))))
        else:
            pub = format_datetime(published.astimezone(UTC), usegmt=True)
        cats = "".join(f"\n      <category>{xml_escape(t)}</category>" for t in s.tags)
        items.append(f"""    <item>
      <title>{xml_escape(s.title_for(edition))}</title>
      <link>{xml_escape(base + s.path + UTM)}</link>
      <guid isPermaLink="true">{xml_escape(base + s.path)}</guid>
      <pubDate>{pub}</pubDate>
      <description><![CDATA[<p>{html.escape(s.summary_for(edition))}</p>]]></description>{cats}
      <enclosure url="{base}/northwind/img/{s.key}.gif" type="image/gif" length="43"/>
    </item>""")
    body = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
  <channel>
    <title>Northwind News - Military &amp; Intelligence</title>
    <link>{base}/northwind/military/</link>
    <description>Defence and diplomacy news from Northwind News</description>
    <language>en</language>
    <copyright>Northwind News 2024</copyright>
    <lastBuildDate>{format_datetime(built.astimezone(UTC), usegmt=True)}</lastBuildDate>
    <atom:link href="{base}/northwind/rss.xml" rel="self" type="application/rss+xml"/>
{chr(10).join(items)}
  </channel>
</rss>
"""
    # Validators derived from the content, so they change exactly when the feed does.
    etag = '"' + hashlib.sha1(body.encode()).hexdigest()[:16] + '"'
    return Response(200, body.encode(),
                     (("Content-Type", "application/rss+xml; charset=utf-8"),
                      ("ETag", etag),
                      ("Last-Modified", format_datetime(built.astimezone(UTC), usegmt=True))),
                     gzip=True)


def sitemap_index(base: str, edition: int) -> Response:
    """Northwind's sitemap index: the news sitemap and the pages sitemap."""
    latest = max(s.modified_for(edition) for s in stories_of("northwind"))
    body = f"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap>
    <loc>{base}/northwind/sitemap_news.xml</loc>
    <lastmod>{latest}</lastmod>
  </sitemap>
  <sitemap>
    <loc>{base}/northwind/sitemap_pages.xml</loc>
    <lastmod>2024-01-15T09:00:00+00:00</lastmod>
  </sitemap>
</sitemapindex>
"""
    return Response(200, body.encode(), (("Content-Type", "application/xml; charset=utf-8"),))


def news_sitemap(base: str, edition: int) -> Response:
    """Northwind's Google News sitemap: every story, the Russian section included."""
    urls = []
    for s in stories_of("northwind"):
        urls.append(f"""  <url>
    <loc>{xml_escape(base + s.path)}</loc>
    <lastmod>{s.modified_for(edition)}</lastmod>
    <news:news>
      <news:publication>
        <news:name>Northwind News</news:name>
        <news:language>{s.language}</news:language>
      </news:publication>
      <news:publication_date>{s.published}</news:publication_date>
      <news:title>{xml_escape(s.title_for(edition))}</news:title>
      <news:keywords>{xml_escape(", ".join(s.tags))}</news:keywords>
    </news:news>
  </url>""")
    body = f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
{chr(10).join(urls)}
</urlset>
"""
    return Response(200, body.encode(), (("Content-Type", "application/xml; charset=utf-8"),))


def pages_sitemap(base: str, edition: int) -> Response:
    """Northwind's sitemap of its section and tag pages."""
    # Real sitemaps list section and tag pages next to articles; they are not articles.
    pages = ["/northwind/", "/northwind/military/", "/northwind/ru/oborona/",
             "/northwind/tags/s-400/", "/northwind/tags/nato/"]
    urls = "\n".join(f"  <url><loc>{base}{p}</loc><changefreq>hourly</changefreq></url>"
                     for p in pages)
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{urls}\n</urlset>\n')
    return Response(200, body.encode(), (("Content-Type", "application/xml; charset=utf-8"),))


def atom(base: str, edition: int) -> Response:
    """Anatolia's Atom feed: no validators, the same bytes every time."""
    stories = stories_of("anatolia")
    updated = max(s.modified_for(edition) for s in stories)
    entries = []
    for s in stories:
        article_id = s.path.rsplit("/", 1)[1]
        cats = "".join(f'\n    <category term="{xml_escape(t)}"/>' for t in s.tags)
        summary = "<p>" + html.escape(s.summary_for(edition)) + "</p>"
        entries.append(f"""  <entry xml:lang="{s.language}">
    <title type="text">{xml_escape(s.title_for(edition))}</title>
    <id>tag:anatolia.example,2020:{article_id}</id>
    <link rel="alternate" type="text/html" href="{xml_escape(base + s.path)}"/>
    <published>{s.published_for(edition)}</published>
    <updated>{s.modified_for(edition)}</updated>
    <author><name>Anatolia</name></author>
    <summary type="html">{xml_escape(summary)}</summary>{cats}
  </entry>""")
    body = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="tr">
  <title>Anatolia Haber Ajansı - Dünya</title>
  <subtitle>Wire service: world, defence and diplomacy</subtitle>
  <id>tag:anatolia.example,2020:feed/world</id>
  <updated>{updated}</updated>
  <link rel="self" type="application/atom+xml" href="{base}/anatolia/atom.xml"/>
  <link rel="alternate" type="text/html" href="{base}/anatolia/world/"/>
{chr(10).join(entries)}
</feed>
"""
    return Response(200, body.encode(),
                     (("Content-Type", "application/atom+xml; charset=utf-8"),))


