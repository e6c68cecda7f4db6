"""Per-page extraction time of a crawl as a fixed-bucket histogram, kept in the crawler's stats and handed to
the daemon in the run summary (`extract_seconds`), where ingest/monitoring.py adds it to
`newsingest_extraction_seconds`. Pre-aggregated buckets, not one value per page: a summary stays small
whatever the crawl's size. Pure functions over a stats object or dict; touches nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping

# Upper bounds in seconds: a real news page takes 10-20 ms; extract_timeout defaults to 10 s.
BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
INF = "+Inf"
_PREFIX = "newsingest/extract_seconds/"
STAT_COUNT = _PREFIX + "count"
STAT_SUM = _PREFIX + "sum"


def bucket_label(bound: float) -> str:
    """A bound as the run summary names it: "0.005", "1", "10"."""
    return f"{bound:g}"


LABELS: tuple[str, ...] = (*(bucket_label(b) for b in BUCKETS), INF)


def observe(stats, seconds: float) -> None:
    """Count one page's extraction time in a Scrapy stats collector: cumulative buckets, as Prometheus has them
    (a page counts in every bucket whose bound it does not exceed)."""
    for bound in BUCKETS:
        if seconds <= bound:
            stats.inc_value(f"{_PREFIX}le_{bucket_label(bound)}")
    stats.inc_value(STAT_COUNT)
    stats.inc_value(STAT_SUM, seconds, start=0.0)


def histogram(stats: Mapping) -> dict | None:
    """The run summary's `extract_seconds`: {"buckets": {le: cumulative count, "+Inf": count}, "sum": s,
    "count": n}; None when no page was extracted."""
    count = int(stats.get(STAT_COUNT, 0))
    if not count:
        return None
    buckets = {bucket_label(b): int(stats.get(f"{_PREFIX}le_{bucket_label(b)}", 0)) for b in BUCKETS}
    buckets[INF] = count
    return {"buckets": buckets, "sum": round(float(stats.get(STAT_SUM, 0.0)), 6), "count": count}
