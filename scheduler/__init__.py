"""mediawatch operations layer: the ``mediawatch`` CLI, the APScheduler service, monitoring
(:mod:`scheduler.monitor`) and the sample newsroom behind ``mediawatch demo``."""
