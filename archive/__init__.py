"""mediawatch archive: the record (WARC files) and its read side.

Sub-packages, one reason to change each: :mod:`archive.warc` (WARC I/O), :mod:`archive.store`
(the SQLite index derived from the WARCs), :mod:`archive.replay` (serving captures),
:mod:`archive.web` (the analysts' interface), :mod:`archive.config` (every TOML file).
:mod:`archive.models` holds the value objects the crawler's page objects build.

This package never loads Scrapy, Twisted, APScheduler, the crawler or the scheduler
(``tests/test_layering.py`` checks what each module loads, transitively)."""
