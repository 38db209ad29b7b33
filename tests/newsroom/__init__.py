"""The sample newsroom: a local, deliberately messy news website for tests and the demo.

Everything lives in :mod:`tests.newsroom.server` (a single stdlib-only module so that the CLI can
also load it by file path); the page templates are under ``site/``.
"""
