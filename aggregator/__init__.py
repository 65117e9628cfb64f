"""aggregator: exhibition news -> topic feeds."""
__version__ = "0.1.0"
