"""Web servers over the archive (Starlette): replay of captures on an origin of its own
(:mod:`archive.replay.app`) and, beside it, the interface."""
