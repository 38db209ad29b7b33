"""Pure page objects and their helpers: a captured response in, an article or links out.

No network, no clock, no database, no Scrapy (``tests/test_layering.py`` checks it): the
same code runs in the spider, at ingest, in ``reindex``, in ``extract`` and in tests on stored
files. :mod:`.listings` (feeds, sitemaps, section pages), :mod:`.article`, and the helpers
:mod:`.metadata`, :mod:`.dates`, :mod:`.encoding`, :mod:`.markup`, :mod:`.bodytext`,
:mod:`.pagetype`, :mod:`.blockpage`."""
