"""Replay of stored captures on an origin of their own: the pure rules (:mod:`.rules`), HTML and
CSS rewriting (:mod:`.rewrite`), capture lookup over the WARC files (:mod:`.lookup`) and the
replay ASGI app (:mod:`.app`). With :mod:`archive.web`, the only code that loads Starlette."""
