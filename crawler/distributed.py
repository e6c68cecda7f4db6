"""Distributed mode: crawl workers on any number of machines share one source's frontier in Redis.

scrapy-redis provides the shared request queue (a priority queue, our priorities kept) and the
shared dupefilter, so no URL is fetched by two workers. What it lacks, this module adds:

- Crawl generations. A worker joins the generation of the source's running crawl (one whose
  workers still send heartbeats) or starts a new one; the queue and dupefilter keys carry the
  generation, so the next scheduled crawl starts from a fresh frontier instead of finding every URL
  "seen", and nobody has to flush keys while another worker still uses them. The last worker out
  gives the generation's keys a short expiry.
- Riding out a Redis outage. `FrontierScheduler` (scrapy-redis' scheduler) holds the links found
  while Redis is away and lets the requests in flight finish; when Redis answers again within
  `[crawl] redis_outage_grace` it queues what it held and the crawl goes on (`frontier_restored`),
  else the worker stops with finish reason `frontier_lost`. Either way what it fetched is in its spool.
- Closing together. Scrapy closes a spider as soon as its own scheduler and downloader are idle;
  with a shared queue that is too early while another worker may still push links. `SharedFrontier`
  keeps an idle worker open while another worker of its generation is busy, and wakes it quickly when
  work appears (Scrapy's own idle re-check is every 5 s).

Keys (prefix newsingest:<source>): `:generation` (current id), `:generation_seq`, and per generation
`:<gen>:requests` (scrapy-redis queue), `:<gen>:dupefilter`, `:<gen>:workers` and `:<gen>:busy`
(sorted sets of worker id by last heartbeat). This module touches Redis only.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy_redis.scheduler import Scheduler

logger = logging.getLogger(__name__)

REDIS_URL_SETTING = "REDIS_URL"
GENERATION_SETTING = "NEWSINGEST_FRONTIER_PREFIX"  # newsingest:<source>:<gen>
WORKER_SETTING = "NEWSINGEST_WORKER_ID"
OUTAGE_GRACE_SETTING = "NEWSINGEST_FRONTIER_OUTAGE_GRACE"  # seconds; [crawl] redis_outage_grace

HEARTBEAT_SECONDS = 1.0
WORKER_TIMEOUT = 15.0  # a worker silent this long is gone (killed); its generation may end without it
KEYS_EXPIRE_AFTER = 3600  # seconds the last worker leaves a finished generation's keys for inspection

_JOIN = """
local now, wid, timeout = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local gen = redis.call('GET', KEYS[1])
if gen then
  local workers = KEYS[3] .. ':' .. gen .. ':workers'
  if redis.call('ZCOUNT', workers, now - timeout, '+inf') > 0 then
    redis.call('ZADD', workers, now, wid)
    redis.call('ZADD', KEYS[3] .. ':' .. gen .. ':busy', now, wid)
    return gen
  end
end
gen = tostring(redis.call('INCR', KEYS[2]))
redis.call('SET', KEYS[1], gen)
redis.call('ZADD', KEYS[3] .. ':' .. gen .. ':workers', now, wid)
redis.call('ZADD', KEYS[3] .. ':' .. gen .. ':busy', now, wid)
return gen
"""


@dataclass(frozen=True, slots=True)
class Frontier:
    prefix: str  # newsingest:<source>:<generation>
    worker_id: str

    @property
    def queue_key(self) -> str:
        return self.prefix + ":requests"

    @property
    def dupefilter_key(self) -> str:
        return self.prefix + ":dupefilter"


def _client(redis_url: str) -> Any:
    import redis

    return redis.Redis.from_url(redis_url, socket_connect_timeout=5, socket_timeout=10)


def join_frontier(redis_url: str, source: str) -> Frontier:
    """Join the source's running crawl generation, or start one. Raises redis errors when Redis is down."""
    base = f"newsingest:{source}"
    worker_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    client = _client(redis_url)
    gen = client.eval(_JOIN, 3, base + ":generation", base + ":generation_seq", base, time.time(), worker_id,
                      WORKER_TIMEOUT)
    gen = gen.decode() if isinstance(gen, bytes) else str(gen)
    frontier = Frontier(prefix=f"{base}:{gen}", worker_id=worker_id)
    logger.info("frontier_joined", extra={"source": source, "generation": gen, "worker": worker_id})
    return frontier


def scrapy_redis_settings(redis_url: str, frontier: Frontier, outage_grace: float) -> dict[str, Any]:
    return {
        "SCHEDULER": "crawler.distributed.FrontierScheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
        "SCHEDULER_QUEUE_KEY": frontier.queue_key,
        "SCHEDULER_DUPEFILTER_KEY": frontier.dupefilter_key,
        # Never flush on close: other workers may still be using the frontier. Generations replace flushing.
        "SCHEDULER_PERSIST": True,
        REDIS_URL_SETTING: redis_url,
        GENERATION_SETTING: frontier.prefix,
        WORKER_SETTING: frontier.worker_id,
        OUTAGE_GRACE_SETTING: outage_grace,
    }


class FrontierScheduler(Scheduler):
    """scrapy-redis' scheduler, made to survive Redis going away in the middle of a crawl.

    Unmodified, every call the engine makes raises while Redis is down, and the crawl neither
    progresses nor ends. Here an outage makes the worker hold the links it finds and report nothing
    to take; the engine asks again on its heartbeat, and each time Redis is tried again."""

    def __init__(self, *args: Any, outage_grace: float = 60.0, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.outage_grace = outage_grace
        # Links found while Redis is away, each with whether to queue it without asking the dupefilter.
        self._held: list[tuple[Any, bool]] = []
        self._down_since: float | None = None
        self._gave_up = False

    @classmethod
    def from_crawler(cls, crawler: Any) -> FrontierScheduler:
        scheduler = super().from_crawler(crawler)
        scheduler.outage_grace = crawler.settings.getfloat(OUTAGE_GRACE_SETTING, scheduler.outage_grace)
        return scheduler

    def enqueue_request(self, request: Any) -> bool:
        if self._down_since is not None:
            self._held.append((request, False))
            return True
        try:
            return super().enqueue_request(request)
        except RedisError as exc:
            self._lost(exc)
            # The failed call may have marked it seen without queueing it: the dupefilter would then drop
            # it for good. A link fetched twice costs less than a link never fetched.
            self._held.append((request, True))
            return True

    def next_request(self) -> Any:
        if self._down_since is not None and not self._restored():
            return None
        try:
            return super().next_request()
        except RedisError as exc:
            self._lost(exc)
            return None

    def has_pending_requests(self) -> bool:
        if self._down_since is not None:
            return True  # unknown until Redis answers; the grace, not an idle engine, ends the wait
        try:
            return super().has_pending_requests()
        except RedisError as exc:
            self._lost(exc)
            return True

    def _lost(self, exc: Exception) -> None:
        self._down_since = time.monotonic()
        logger.warning("frontier_unavailable", extra={"error": str(exc), "grace_seconds": self.outage_grace})

    def _restored(self) -> bool:
        """Whether Redis answers again, with what was held queued; gives up once the grace has passed."""
        assert self._down_since is not None
        queued = len(self._held)
        try:
            self.server.ping()
            while self._held:
                request, regardless = self._held[0]
                if regardless:
                    self.df.request_seen(request)
                    self.queue.push(request)
                else:
                    super().enqueue_request(request)
                self._held.pop(0)
        except RedisError as exc:
            if not self._gave_up and time.monotonic() - self._down_since > self.outage_grace:
                self._give_up(exc)
            return False
        logger.info("frontier_restored", extra={"outage_seconds": round(time.monotonic() - self._down_since, 1),
                                                "requests_queued": queued})
        self._down_since = None
        return True

    def _give_up(self, exc: Exception) -> None:
        self._gave_up = True
        logger.error("frontier_lost", extra={"error": str(exc), "outage_seconds": round(
            time.monotonic() - self._down_since, 1), "requests_dropped": len(self._held)})
        asyncio.ensure_future(self.spider.crawler.engine.close_spider_async(reason="frontier_lost"))


class SharedFrontier:
    """Heartbeats, and closing only when the shared queue is empty and no other worker is busy."""

    def __init__(self, crawler: Any, redis_url: str, prefix: str, worker_id: str):
        self.crawler = crawler
        self.client = _client(redis_url)
        self.prefix = prefix
        self.worker_id = worker_id
        self._loop: Any = None
        self._idle = False
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(self._busy, signal=signals.request_scheduled)
        crawler.signals.connect(self._busy, signal=signals.response_received)

    @classmethod
    def from_crawler(cls, crawler: Any) -> SharedFrontier:
        from scrapy.exceptions import NotConfigured

        s = crawler.settings
        if not s.get(REDIS_URL_SETTING) or not s.get(GENERATION_SETTING):
            raise NotConfigured("not in distributed mode")
        return cls(crawler, s.get(REDIS_URL_SETTING), s.get(GENERATION_SETTING), s.get(WORKER_SETTING))

    def spider_opened(self, spider: Any) -> None:
        from twisted.internet import task

        self._loop = task.LoopingCall(self._heartbeat)
        self._loop.start(HEARTBEAT_SECONDS, now=True)

    def _busy(self, *args: Any, **kwargs: Any) -> None:
        self._idle = False

    def _heartbeat(self) -> None:
        now = time.time()
        try:
            pipe = self.client.pipeline()
            pipe.zadd(self.prefix + ":workers", {self.worker_id: now})
            if not self._idle:
                pipe.zadd(self.prefix + ":busy", {self.worker_id: now})
            pipe.execute()
        except Exception as exc:  # Redis hiccup: the next beat retries; the crawl itself reports errors
            logger.debug("heartbeat_failed", extra={"error": str(exc)})
            return
        if self._idle and (self._queued() > 0 or not self._others_busy_quietly()):
            self._wake()  # work to take, or time to close: either way do not wait for Scrapy's 5 s re-check

    def _queued(self) -> int:
        try:
            return int(self.client.zcard(self.prefix + ":requests"))
        except Exception:
            return 0

    def _others_busy(self) -> bool:
        since = time.time() - WORKER_TIMEOUT
        members = self.client.zrangebyscore(self.prefix + ":busy", since, "+inf")
        return any(m.decode() != self.worker_id for m in members)

    def _others_busy_quietly(self) -> bool:
        try:
            return self._others_busy()
        except Exception:
            return False

    def _wake(self) -> None:
        # Scrapy re-checks an idle spider only on its 5 s heartbeat; ask the engine to look now.
        slot = getattr(self.crawler.engine, "_slot", None)
        nextcall = getattr(slot, "nextcall", None)
        if nextcall is not None:
            nextcall.schedule()

    def spider_idle(self, spider: Any) -> None:
        self._idle = True
        try:
            self.client.zrem(self.prefix + ":busy", self.worker_id)
            if self._queued() > 0 or self._others_busy():
                raise DontCloseSpider("another worker may still add to the shared frontier")
        except DontCloseSpider:
            raise
        except Exception as exc:  # Redis gone: nothing more will come through it
            logger.warning("frontier_unavailable", extra={"error": str(exc)})

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        try:
            self.client.zrem(self.prefix + ":busy", self.worker_id)
            self.client.zrem(self.prefix + ":workers", self.worker_id)
            if self.client.zcount(self.prefix + ":workers", time.time() - WORKER_TIMEOUT, "+inf") == 0:
                for suffix in (":requests", ":dupefilter", ":workers", ":busy"):
                    self.client.expire(self.prefix + suffix, KEYS_EXPIRE_AFTER)
            logger.info("frontier_left", extra={"frontier": self.prefix, "worker": self.worker_id, "reason": reason})
        except Exception as exc:
            logger.warning("frontier_unavailable", extra={"error": str(exc)})
