"""mediawatch scheduler: the APScheduler service (later) and the ``mediawatch`` CLI."""
