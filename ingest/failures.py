"""Why a crawl failed, in words an operator can act on: a run's main failure kinds (its summary's `errors`) with
their counts and, where one exists, the setting that changes the outcome; and the limit that stopped a run.
For `newsingest crawl`'s summary line and the daemon's crawl_ended event. Pure functions: touches nothing.
"""

from __future__ import annotations

MAX_REASONS = 3  # kinds named; the rest are counted, so the summary stays one line

# Failure kind (crawler/spiders/news.py's error_kind, the middlewares' and pipelines' stats) -> what changes it.
# Keys as in ingest/defaults.py.
_SETTING_HINTS = {
    "refused_private_host": "allow with [crawl] allow_private_hosts or the source's allow_private_hosts",
    "timeout": "raise [crawl] download_timeout",
    "too_large": "raise [crawl] max_response_bytes",
    "max_redirects": "raise [crawl] max_redirects",
    "extraction_timeout": "raise [crawl] extract_timeout",
    "host_paused": "see [crawl] host_failure_limit, max_crawl_delay, retry_after_max",
    "robots_forbidden": "[crawl] obey_robots_txt",
}
# For `newsingest crawl --url`, which reads no source: its flag.
_ADHOC_HINTS = {"refused_private_host": "allow with --allow-private-hosts"}

_LIMIT_HINTS = {
    "max_pages": "[crawl] max_pages or the source's max_pages",
    "time_budget": "[crawl] max_crawl_seconds or the source's max_crawl_seconds",
}


def failure_reasons(errors: dict[str, int], *, adhoc: bool = False) -> str:
    """'refused_private_host 2: allow with [crawl] allow_private_hosts ...; timeout 1: raise [crawl]
    download_timeout; 2 more kinds 3'; empty when nothing failed. Most frequent first."""
    counted = sorted(((kind, count) for kind, count in errors.items() if isinstance(count, int) and count > 0),
                     key=lambda item: (-item[1], item[0]))
    parts = []
    for kind, count in counted[:MAX_REASONS]:
        hint = (_ADHOC_HINTS if adhoc else {}).get(kind) or _SETTING_HINTS.get(kind)
        parts.append(f"{kind} {count}: {hint}" if hint else f"{kind} {count}")
    rest = counted[MAX_REASONS:]
    if rest:
        parts.append(f"{len(rest)} more kind{'s' if len(rest) > 1 else ''} {sum(c for _, c in rest)}")
    return "; ".join(parts)


def limit_reached(finish_reason: str | None) -> str:
    """'stopped at max_pages ([crawl] max_pages ...)' when a configured limit ended the run; else empty."""
    hint = _LIMIT_HINTS.get(finish_reason or "")
    return f"stopped at {finish_reason} ({hint})" if hint else ""
