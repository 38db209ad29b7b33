"""The sample newsroom: a local, deliberately messy news website for tests and the demo.

Stdlib only. :mod:`scheduler.newsroom.server` holds the :class:`Newsroom` server (and its
``python -m`` entry); the ground truth the tests check is in :mod:`~scheduler.newsroom.stories`,
the pages and routes in :mod:`~scheduler.newsroom.pages`, feeds and sitemaps in
:mod:`~scheduler.newsroom.feeds`, the HTTP handler in :mod:`~scheduler.newsroom.handler` and the
crawl configuration in :mod:`~scheduler.newsroom.sources`. The page templates are under
``site/``, installed with the package so that ``mediawatch demo`` runs from a wheel.
"""
