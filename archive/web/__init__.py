"""The analysts' web interface (Starlette + Jinja2 templates, server-rendered): search, articles
with their history, sources, and the frame around a replayed capture. Replay itself is served
from another origin by :mod:`archive.replay.app`."""
