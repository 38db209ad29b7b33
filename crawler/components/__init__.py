"""Scrapy components for everything stateful in a crawl, built ``from_crawler`` with plain
values, so that ``scrapy crawl source -a source=ID`` and ``mediawatch crawl`` run the same
machinery: WARC capture, incremental state, the source lock with recovery of open files, and
ingest at close with the run log."""
