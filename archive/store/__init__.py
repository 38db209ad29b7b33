"""The SQLite archive derived from the WARC files: schema and migrations, identity (one
docstring), records and versions, crawl state, search (SQL built by pure functions), facets
and source health figures. ``mediawatch reindex`` rebuilds all of it from the WARCs."""
