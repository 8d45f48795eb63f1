"""feed-monitor: watch news feeds, store articles, alert on watchlist actors and terms."""

__version__ = "0.1.0"
