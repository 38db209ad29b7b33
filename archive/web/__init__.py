"""Web servers over the archive (Starlette): replay of captures on an origin of its own
(:mod:`archive.web.replay_app`) and, beside it, the interface."""
