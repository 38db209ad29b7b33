"""mediawatch archive: WARC capture I/O, the SQLite article archive and search.

This package never imports Scrapy or APScheduler (a test enforces it)."""
