"""The sample newsroom: a local, deliberately messy news website for tests and the demo.

Everything lives in :mod:`scheduler.newsroom.server`, a single stdlib-only module; the page
templates are under ``site/``, installed with the package so that ``mediawatch demo`` runs from
a wheel.
"""
