"""Every TOML file mediawatch reads (sources with their schedules, watchlists), loaded and
validated into frozen dataclasses; every problem is one ``ConfigError`` naming the file, the
entry and the key."""
