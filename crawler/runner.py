"""Run one crawl of one source in this process: Scrapy's reactor, the news spider, the extraction
pool and the spool. Returns a CrawlSummary and leaves a run summary in the spool for crawl_runs.

The reactor cannot be restarted, so run_crawl runs one crawl per process (`newsingest crawl`); the
daemon's crawl engine (crawler/engine.py) runs many in one reactor with the same settings and summaries.
Needs no database (fetch state is read when it answers). This module touches the network (through Scrapy)
and the spool.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import structlog
from scrapy.crawler import CrawlerProcess

from crawler import extract_timing
from crawler.extract import Overrides
from crawler.fetch_state import load_previous_for
from crawler.middlewares import STAT_DOCUMENTS_FETCHED, STAT_PAGES_FETCHED
from crawler.pipelines import STAT_NO_AUTHOR, STAT_NO_DATE, STAT_SHORT_BODY
from crawler.politeness import ROBOTS_REUSE_SETTING
from crawler.settings import ARCHIVE_DIR_SETTING, URL_AS_ARTICLE_SETTING, scrapy_settings
from crawler.slow_pages import NEXT_CRAWL_SETTING
from crawler.spiders.news import STAT_FETCH_FAILURES, NewsSpider
from crawler.spool import write_run_summary
from ingest.config import Config, CrawlSettings, Source
from ingest.drift import Counts
from ingest.logs import mask_secrets

log = structlog.get_logger("newsingest.crawl")

_PIPELINE = "crawler.pipelines.ExtractAndSpoolPipeline"
_PROGRESS = "crawler.progress.CrawlProgress"
_SHARED_FRONTIER = "crawler.distributed.SharedFrontier"  # distributed mode only


@dataclass(slots=True)
class CrawlSummary:
    run_id: str
    source: str
    started_at: datetime
    finished_at: datetime
    status: str  # finished | interrupted | failed
    finish_reason: str  # Scrapy's (finished, shutdown ...), or ours: time_budget, frontier_lost, spool_write_failed
    pages_fetched: int
    articles_found: int
    not_articles: int
    failed: int
    errors: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    daemon_id: str | None = None
    quality: Counts = field(default_factory=Counts)  # for the extraction-drift canary (ingest/drift.py)
    extract_seconds: dict | None = None  # crawler/extract_timing.py's histogram of per-page extraction times

    def to_dict(self) -> dict:
        summary = {
            "run_id": self.run_id,
            "source": self.source,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "status": self.status,
            "finish_reason": self.finish_reason,
            "pages_fetched": self.pages_fetched,
            "articles_found": self.articles_found,
            "failed": self.failed,
            "errors": self.errors,
            "daemon_id": self.daemon_id,
            "quality": self.quality.to_dict(),
        }
        if self.extract_seconds is not None:
            summary["extract_seconds"] = self.extract_seconds
        return summary


def adhoc_source(urls: list[str], allow_private_hosts: bool) -> Source:
    """The source of `newsingest crawl --url`: exactly these URLs, nothing discovered."""
    return Source(name="adhoc", start_urls=tuple(urls), follow_links=False, max_pages=len(urls),
                  allow_private_hosts=allow_private_hosts)


def site_source(url: str, crawl: CrawlSettings, allow_private_hosts: bool) -> Source:
    """The source of `newsingest crawl --site URL`: a site with no config. Its homepage is the start URL, its
    host (www. or not) the domain, links are followed; feeds and sitemaps come from discovery (robots.txt,
    the pages' own announcements); everything else is the [crawl] defaults. Named after the host."""
    host = (urlsplit(url).hostname or "").lower()
    name = re.sub(r"[^a-z0-9_.-]+", "-", host).strip("-._")[:64].rstrip("-._") or "site"
    return Source(name=name, start_urls=(url,), allowed_domains=(host.removeprefix("www."),),
                  max_pages=crawl.max_pages, max_crawl_seconds=crawl.max_crawl_seconds,
                  allow_private_hosts=True if allow_private_hosts else crawl.allow_private_hosts)



def seconds_to_next_crawl(source: Source, now: datetime | None = None) -> float:
    """Seconds from now until the daemon's next scheduled crawl of `source` (its cron expression's next
    firing, else its interval); 0 when the schedule never fires again."""
    if not source.cron:
        return source.interval
    from apscheduler.triggers.cron import CronTrigger

    now = now or datetime.now(UTC)
    following = CronTrigger.from_crontab(source.cron, timezone=UTC).get_next_fire_time(None, now)
    return max(0.0, (following - now).total_seconds()) if following is not None else 0.0



def crawl_settings(config: Config, source: Source, run_id: str, urls: list[str] | None = None,
                   progress: str = "off", robots_reuse: float = 0.0, as_article: bool = False,
                   scheduled: bool = False) -> dict:
    """The Scrapy settings of one crawl of `source` (or exactly `urls`), its pipeline and extensions included.
    `robots_reuse`: seconds a robots.txt parsed by an earlier crawl of this process stays good for this one.
    `as_article`: store the `urls` as articles even where they mark themselves as index pages.
    `scheduled`: a crawl of the daemon, which must not run into the source's next scheduled crawl."""
    settings = scrapy_settings(config.crawl, source)
    settings.update(
        {
            "ITEM_PIPELINES": {_PIPELINE: 300},
            "EXTENSIONS": {**settings["EXTENSIONS"], _PROGRESS: 500},
            "NEWSINGEST_PROGRESS": progress,
            "NEWSINGEST_SOURCE": source.name,
            "NEWSINGEST_RUN_ID": run_id,
            "NEWSINGEST_SPOOL_DIR": str(config.spool_dir),
            "NEWSINGEST_EXTRACT_WORKERS": config.crawl.extract_workers,
            "NEWSINGEST_MIN_ARTICLE_CHARS": config.crawl.min_article_chars,
            "NEWSINGEST_EXTRACT_TIMEOUT": config.crawl.extract_timeout,
            "NEWSINGEST_MAX_PAGE_ELEMENTS": config.crawl.max_page_elements,
            "NEWSINGEST_ARTICLE_PATTERN": source.article_pattern or "",
            "NEWSINGEST_EXTRACT_OVERRIDES": Overrides(source.body_selector, source.title_selector, source.drop_text),
            ARCHIVE_DIR_SETTING: str(config.data_dir / "archive") if config.crawl.archive else "",
            ROBOTS_REUSE_SETTING: robots_reuse,
            URL_AS_ARTICLE_SETTING: bool(urls) and as_article,
            NEXT_CRAWL_SETTING: seconds_to_next_crawl(source) if scheduled and not urls else 0.0,
        }
    )
    if config.crawl.redis_url and not urls:
        distributed = _distributed_settings(config.crawl.redis_url, source, config.crawl.redis_outage_grace)
        if distributed:
            # Only then: unconfigured, Scrapy would warn on every crawl that it disabled the extension.
            settings["EXTENSIONS"] = {**settings["EXTENSIONS"], _SHARED_FRONTIER: 510}
            settings.update(distributed)
    return settings


def previous_fetch_state(config: Config, source: Source, urls: list[str] | None = None):
    """What earlier crawls of the source fetched (conditional requests, revisit intervals); None when the
    crawl is not incremental. Best effort: with the database down the crawl goes on without it
    (fetch_state_unavailable)."""
    return load_previous_for(config, source) if config.crawl.incremental and not urls else None


def run_crawl(
    config: Config,
    source: Source,
    urls: list[str] | None = None,
    *,
    run_id: str | None = None,
    daemon_id: str | None = None,
    progress: str = "off",
    configure_logging: Callable[[], None] | None = None,
    as_article: bool = False,
) -> CrawlSummary:
    """Crawl `source` (or exactly `urls`) into the spool. `progress`: "display" (a status line on a
    terminal), "log" (periodic crawl_progress events) or "off". `as_article`: see crawl_settings."""
    run_id = run_id or uuid.uuid4().hex
    # A daemon's crawl (crawl_engine = "process") comes with its daemon id.
    settings = crawl_settings(config, source, run_id, urls, progress, as_article=as_article,
                              scheduled=daemon_id is not None)
    previous = previous_fetch_state(config, source, urls)
    structlog.contextvars.bind_contextvars(run_id=run_id, source=source.name)
    started_at = datetime.now(UTC)
    started = time.monotonic()
    process = CrawlerProcess(settings)
    # Scrapy configures logging when the process is created; ours goes on top, so one stream remains.
    if configure_logging is not None:
        configure_logging()
    crawler = process.create_crawler(NewsSpider)
    log.info("crawl_started", urls=len(urls) if urls else None)
    process.crawl(crawler, source=source, urls=urls, fetch_state=previous)
    process.start()
    summary = finish_run(config, source, run_id, crawler.stats.get_stats(), started_at, started, daemon_id)
    structlog.contextvars.unbind_contextvars("run_id", "source")
    return summary


def finish_run(config: Config, source: Source, run_id: str, stats: dict, started_at: datetime, started: float,
               daemon_id: str | None, crash: str | None = None) -> CrawlSummary:
    """A finished crawl's summary from its Scrapy stats: written to the spool (for crawl_runs) and logged as
    crawl_finished. `crash`: the error that ended the crawl outside Scrapy's own handling (a crawl engine's)."""
    errors = {
        key.removeprefix("newsingest/errors/"): int(value)
        for key, value in stats.items()
        if key.startswith("newsingest/errors/")
    }
    not_article_reasons = {
        k.removeprefix("newsingest/not_article/"): int(v)
        for k, v in stats.items()
        if k.startswith("newsingest/not_article/")
    }
    not_articles = sum(not_article_reasons.values())
    finish_reason = "crawl_error" if crash else str(stats.get("finish_reason", "unknown"))
    if crash:
        errors["crawl_error"] = errors.get("crawl_error", 0) + 1
    if finish_reason == "closespider_timeout":  # CLOSESPIDER_TIMEOUT is source.max_crawl_seconds
        finish_reason = "time_budget"
        log.warning("time_budget_reached", max_crawl_seconds=source.max_crawl_seconds)
    # Pages only: robots.txt, feeds, sitemaps, redirect hops, retries and error answers are not pages.
    pages_fetched = int(stats.get(STAT_PAGES_FETCHED, 0))
    # What the site served, feeds and sitemaps included: a quiet incremental crawl fetches no page at all.
    served = pages_fetched + int(stats.get(STAT_DOCUMENTS_FETCHED, 0))
    fetch_failures = int(stats.get(STAT_FETCH_FAILURES, 0))
    if finish_reason == "shutdown":
        status = "interrupted"
    # A spent time budget is a configured limit, like max_pages: what was fetched is a normal run's result.
    elif finish_reason not in ("finished", "max_pages", "time_budget") or (served == 0 and errors):
        status = "failed"  # nothing could be fetched: the site is down, refuses us, or the config is wrong
    elif fetch_failures > served:
        status = "failed"  # most fetches failed: a site in trouble, whatever it still served
    else:
        status = "finished"
    summary = CrawlSummary(
        run_id=run_id,
        source=source.name,
        started_at=started_at,
        finished_at=datetime.now(UTC),
        status=status,
        finish_reason=finish_reason,
        pages_fetched=pages_fetched,
        articles_found=int(stats.get("newsingest/articles", 0)),
        not_articles=not_articles,
        failed=sum(errors.values()),
        errors=errors,
        seconds=round(time.monotonic() - started, 3),
        daemon_id=daemon_id,
        quality=Counts.of_run(int(stats.get("newsingest/articles", 0)), not_article_reasons,
                              no_date=int(stats.get(STAT_NO_DATE, 0)), no_author=int(stats.get(STAT_NO_AUTHOR, 0)),
                              short_articles=int(stats.get(STAT_SHORT_BODY, 0))),
        extract_seconds=extract_timing.histogram(stats),
    )
    record = summary.to_dict()
    if crash:
        record["error"] = crash
    write_run_summary(config.spool_dir, record)
    log.info(
        "crawl_finished",
        run_id=run_id,
        source=source.name,
        status=summary.status,
        finish_reason=summary.finish_reason,
        pages=summary.pages_fetched,
        articles=summary.articles_found,
        not_articles=summary.not_articles,
        not_article_reasons=not_article_reasons,
        errors=summary.errors,
        seconds=summary.seconds,
    )
    return summary


def _distributed_settings(redis_url: str, source: Source, outage_grace: float) -> dict:
    """scrapy-redis scheduler settings for the source's shared frontier; none (a local crawl, with a
    warning) when Redis cannot be reached: other workers may then fetch some URLs again, and the
    loader's merge still keeps every article once."""
    from crawler.distributed import join_frontier, scrapy_redis_settings

    try:
        frontier = join_frontier(redis_url, source.name)
    except Exception as exc:
        log.warning("redis_unavailable", redis=mask_secrets(redis_url), error=str(exc))
        return {}
    return scrapy_redis_settings(redis_url, frontier, outage_grace)
