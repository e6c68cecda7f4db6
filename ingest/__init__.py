"""newsingest: scheduling, deduplication, loading into PostgreSQL, and the command line."""

__version__ = "0.1.0"
