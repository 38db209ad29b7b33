"""The sample newsroom's page requisites: images, a web font, a script and stylesheets.

What a real article page pulls in besides its HTML, so that capturing and replaying it can
be tested: PNG photos in three widths for a ``srcset`` (each width its own colour, so a
replay serving the wrong candidate shows), a masthead background named by the stylesheet's
``url()``, a font named by an ``@font-face`` rule in an ``@import``-ed stylesheet, and a
script that draws nothing (the replay never runs scripts, so what a script drew could not
be compared). The images are made here (a small PNG encoder: no image files in the repo);
the font is the system's DejaVu Sans Mono when there is one, else bytes no browser accepts
(then the browser falls back, live and replayed alike). Same bytes on every answer.
"""

from __future__ import annotations

import functools
import struct
import zlib
from pathlib import Path

__all__ = ["PHOTO_WIDTHS", "app_js", "font", "masthead", "photo", "png"]

#: Widths of the article photo in its ``srcset``.
PHOTO_WIDTHS = (480, 800, 1600)
_PHOTO_COLOURS = {480: (180, 40, 40), 800: (30, 90, 160), 1600: (40, 140, 60)}
_FONTS = (Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"),
          Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"))


def png(width: int, height: int, colour: tuple[int, int, int], stripe: int = 0) -> bytes:
    """A ``width`` x ``height`` RGB PNG of ``colour``, with a lighter horizontal band every
    ``stripe`` rows when ``stripe`` > 0 (so scaling and position show in a screenshot)."""
    light = tuple(min(255, c + 70) for c in colour)
    rows = []
    for y in range(height):
        pixel = bytes(light if stripe and (y // stripe) % 2 else colour)
        rows.append(b"\x00" + pixel * width)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b""))


@functools.cache
def photo(width: int) -> bytes:
    """The article photo at one of :data:`PHOTO_WIDTHS` (16:9)."""
    return png(width, width * 9 // 16, _PHOTO_COLOURS[width], stripe=max(1, width // 20))


@functools.cache
def masthead() -> bytes:
    """The header's background strip, named by ``url()`` in main.css."""
    return png(64, 48, (0, 64, 91), stripe=6)


@functools.cache
def font() -> bytes:
    """The headline font: the system's DejaVu Sans Mono, else a stub browsers reject."""
    for path in _FONTS:
        if path.is_file():
            return path.read_bytes()
    return b"not a font: no DejaVu Sans Mono on this machine\n"


def app_js() -> bytes:
    """The site script: analytics-style bookkeeping that changes nothing on screen."""
    return (b"(function () {\n  window.dataLayer = window.dataLayer || [];\n"
            b"  window.dataLayer.push({event: 'pageview', t: Date.now()});\n"
            b"  document.documentElement.setAttribute('data-app', 'ready');\n})();\n")
