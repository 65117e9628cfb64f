"""The fetch stage: the only code that talks HTTP (see client.Fetcher)."""

from aggregator.fetch.client import FEED_ACCEPT, Fetcher

__all__ = ["FEED_ACCEPT", "Fetcher"]
