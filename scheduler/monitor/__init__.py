"""Monitoring after each crawl: watchlist matching, alert records and their delivery (Atom,
webhook, e-mail), and source-health alerts."""
