"""The bundled sample newsroom for ``mediawatch demo``.

The newsroom (:mod:`scheduler.newsroom`) is package data: its server and page templates are
installed with mediawatch, so the demo runs from a wheel as well as from a checkout.
"""

from __future__ import annotations

from types import ModuleType


def load_newsroom() -> ModuleType:
    """The newsroom server module."""
    from scheduler.newsroom import server

    return server
