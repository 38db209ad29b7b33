"""The sources file for the sample newsroom: :func:`render_sources` writes its ``sources.toml``.

Both outlets with their feeds, sitemaps, sections, ``follow`` patterns and selectors, for a
newsroom served at a given base URL (the tests' and ``mediawatch demo``'s crawl configuration).
"""

from __future__ import annotations

from urllib.parse import urlsplit


def render_sources(base_url: str) -> str:
    """A complete ``sources.toml`` for crawling the newsroom at ``base_url``.

    Private addresses allowed (it is served on loopback), no delay, robots obeyed, a 5 s
    timeout (the slow page answers after 2 s, so it succeeds) and a 1 MB page limit (so the
    live blog is dropped).
    """
    base = base_url.rstrip("/")
    host = urlsplit(base).hostname or "127.0.0.1"
    return f"""# Sources for the sample newsroom at {base} (tests/newsroom/server.py).

[crawl]
user_agent = "mediawatch-test/0.1 (+{base}/)"
obey_robots = true
# The newsroom runs on 127.0.0.1, a private address, which crawls refuse by default.
allow_private = true
concurrency = 8
per_domain_concurrency = 8
delay = 0.0
timeout = 5.0
max_page_size = "1MB"

[[source]]
id = "northwind"
name = "Northwind News"
feeds = ["{base}/northwind/rss.xml"]
sitemaps = ["{base}/northwind/sitemap_index.xml"]
sections = ["{base}/northwind/military/", "{base}/northwind/ru/oborona/"]
# Articles live under /northwind/[<edition>/]YYYY/MM/DD/; /s/ are short links to them.
follow = ['/northwind/(?:[a-z]+/)?\\d{{4}}/\\d{{2}}/\\d{{2}}/', '/s/[A-Za-z0-9]+$']
allowed_domains = ["{host}"]
schedule = "every 30m"
language = "en"
date_format = "%H:%M GMT%d %B %Y"

[source.selectors]
title = "h1.article__title"
published = ".article__info-date a"
lead = ".article__announce-text"
body = ".article__body"
section = ".article__supertag a"
tags = ".article__tags a"
short_url = ".b-share__short input::attr(value)"

[[source]]
id = "anatolia"
name = "Anatolia Wire"
feeds = ["{base}/anatolia/atom.xml", "{base}/anatolia/broken.xml"]
sections = ["{base}/anatolia/world/"]
follow = ['/anatolia/(?:tr|en)/[a-z-]+/[a-z0-9-]+/\\d+$', '/aa/[A-Za-z0-9]+$']
allowed_domains = ["{host}"]
schedule = "every 1h"
language = "tr"
date_format = "%d.%m.%Y %H:%M"
# Its date lines are Istanbul time without a zone.
timezone = "Europe/Istanbul"

[source.selectors]
title = ".detay-spot-category h1"
lead = ".detay-spot-category h4"
published = ".detay-bilgi .tarih"
body = ".detay-icerik"
tags = ".detay-etiket a"
short_url = '[rev="canonical"]::attr(href)'
"""
