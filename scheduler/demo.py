"""The bundled sample newsroom, loaded from the checkout for ``mediawatch demo``.

The newsroom lives in ``tests/newsroom/`` because it is first of all the test suite's stand-in
for the web; the demo loads it by path, so the demo needs a source checkout (which is what
``make demo`` runs from).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

NEWSROOM = Path(__file__).resolve().parents[1] / "tests" / "newsroom" / "server.py"


def load_newsroom(path: Path = NEWSROOM) -> ModuleType:
    """Import the newsroom server module from ``path``."""
    if not path.is_file():
        raise FileNotFoundError(f"sample newsroom not found at {path}: run from a checkout")
    spec = importlib.util.spec_from_file_location("mediawatch_newsroom", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
