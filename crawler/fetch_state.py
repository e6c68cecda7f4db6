"""Incremental crawling: what we know about each URL from earlier crawls, and what this crawl learns.

`FetchStateBook` holds the earlier state of one source's URLs (read at crawl start, best effort:
with the database down the crawl runs without it) and collects this crawl's observations. The
spider asks it which article URLs are due, which conditional headers to send, and tells it about
every response; the item pipeline tells it the hash of each extracted article text.

At the end of the crawl the observations are written as one JSON-lines file in
<spool>/state/ (atomically, like a segment); the loader applies it to the `fetch_state` table
(ingest/tables/fetch_state.py: apply_fetch_states). So a crawl never writes to the database.

Revisit policy (`RevisitPolicy`): an article first fetched less than `window` ago is fetched again
once its interval has passed; the interval starts at the source's interval, halves when the text
changed and doubles when it did not, within [floor, max_interval]. Older articles are fetched again
only when a site signals a change (below).

Change signals make a known article due on the next crawl, whatever its interval:
- a date a feed or sitemap gives for it (Atom <updated>, RSS/JSON Feed entry dates, sitemap <lastmod>)
  newer than the date listed when we last looked (`listed_at`), or, with none recorded, newer than our
  last fetch: so a site whose clock runs behind ours is still heard, and one stamping dates in the
  future does not get its articles fetched on every crawl;
- an undated listing (an index page, or feed entries without dates) whose content changed since the
  last crawl: the known articles it links to that are still inside `window` are refetched
  conditionally (a 304 when unchanged), newest first, at most `recheck_cap(max_pages)` per crawl.

Adaptive interval per source (`RevisitPolicy.for_source`): when an article's text changes we record
how old the replaced version was (`change_seconds`: from when we first saw it to the change, dated by
the article's own dateModified when that falls between our two fetches, else by our fetch). The median
of the source's recent samples (articles changed within `window`, at least `ADAPT_MIN_SAMPLES`) becomes
the interval new articles start at, clamped to [floor, min_interval]: a source whose articles are
corrected within minutes is revisited within minutes, one that never corrects keeps `min_interval`.

Feeds found announced on start pages are marked (DISCOVERED_FEED_STATUS) so that later crawls read them
without rediscovering them. URLs are keyed by state_key, the spider's URL identity (crawler/urls.py); rows
stored under an older spelling are re-keyed when read (keyed_states).

Left over (`left_over`): a page a crawl gave up on to keep the source's schedule (a timed-out page whose retry
would have held the next crawl, crawler/slow_pages.py) gets status left_over:<reason>; the next crawl requests
it first (`left_over_urls`), for LEFT_OVER_CRAWLS crawls in a row, after which it is a failed page like any other.

This module touches the spool's state/ directory and, in `load_previous`, reads the database.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import statistics
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from crawler.records import check_json_type
from crawler.urls import normalize_url

logger = logging.getLogger(__name__)

STATE_DIR = "state"
STATE_SUFFIX = ".jsonl"

KIND_ARTICLE = "article"
KIND_DOCUMENT = "document"  # feed, sitemap
KIND_PAGE = "page"  # index pages and other followed pages
SITEMAP_INDEX_STATUS = "sitemap_index"
# A feed the spider found announced on a start page (<link rel=alternate>): read again in later crawls
# even when that page answers 304 and so announces nothing.
DISCOVERED_FEED_STATUS = "discovered_feed"
LEFT_OVER_STATUS = "left_over:"  # + reason
LEFT_OVER_CRAWLS = 3  # crawls in a row that may leave a page over before it counts as failed

def state_key(url: str) -> str:
    """The fetch-state identity of a URL: the spider's (crawler/urls.py), so that a page has one state
    however a sitemap or a link spells it (no fragment, no tracking parameters, no default port...)."""
    return normalize_url(url)


def text_hash(text: str) -> str:
    return hashlib.sha256(" ".join(text.split()).encode("utf-8", "surrogatepass")).hexdigest()


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


@dataclass(slots=True)
class FetchState:
    url: str
    source: str
    kind: str = KIND_PAGE
    status: str = ""  # 200, 304, article, index, not_article:<reason>, error:<kind>, redirect, discovered_feed
    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None
    first_fetched_at: datetime | None = None
    last_fetched_at: datetime | None = None
    last_changed_at: datetime | None = None
    next_due_at: datetime | None = None
    revisit_seconds: float | None = None
    consecutive_failures: int = 0
    redirect_to: str | None = None  # status "redirect": the state key of where the redirects ended
    listed_at: datetime | None = None  # latest change date a feed or sitemap gave for this URL
    change_seconds: float | None = None  # articles: age of the version replaced at the last change
    # Index pages: the pagination links on the page when last read in full (at most MAX_NEXT_PAGES),
    # followed when it answers 304.
    next_pages: list[str] | None = None

    _DATES = ("first_fetched_at", "last_fetched_at", "last_changed_at", "next_due_at", "listed_at")

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        for name in self._DATES:
            if data[name] is not None:
                data[name] = data[name].isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FetchState:
        fields = {f.name: f.type for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in fields}
        for name, value in values.items():
            check_json_type(name, fields[name], value)
        for name in cls._DATES:
            value = values.get(name)
            if isinstance(value, str):
                values[name] = datetime.fromisoformat(value)
        return cls(**values)


# Pagination links remembered per index page: a page names its next page, sometimes a few numbered ones.
MAX_NEXT_PAGES = 5
# Changed articles a source needs before its interval adapts: one quick correction is an anecdote.
ADAPT_MIN_SAMPLES = 2
# Known articles refetched per crawl because an undated listing changed: at least this many, or a quarter
# of max_pages.
RECHECK_MIN = 10


def recheck_cap(max_pages: int) -> int:
    return max(RECHECK_MIN, max_pages // 4)


@dataclass(frozen=True, slots=True)
class RevisitPolicy:
    window: float = 48 * 3600.0  # seconds after the first fetch during which an article is revisited
    min_interval: float = 3600.0
    max_interval: float = 24 * 3600.0
    floor: float = 300.0  # the shortest interval, for articles and sources that change often
    start: float | None = None  # the source's adapted starting interval (for_source); None: min_interval

    @property
    def lowest(self) -> float:
        return min(self.floor, self.min_interval)

    def for_source(self, states: Iterable[FetchState], now: datetime) -> RevisitPolicy:
        """This policy with the starting interval adapted to how soon the source's articles change."""
        samples = [s.change_seconds for s in states
                   if s.kind == KIND_ARTICLE and s.change_seconds is not None and s.last_changed_at is not None
                   and now - s.last_changed_at <= timedelta(seconds=self.window)]
        if len(samples) < ADAPT_MIN_SAMPLES:
            return self
        start = min(self.min_interval, max(self.lowest, statistics.median(samples)))
        return dataclasses.replace(self, start=start)

    def is_due(self, state: FetchState, now: datetime, lastmod: datetime | None = None) -> bool:
        if self.signals_change(state, lastmod):
            return True
        if state.kind != KIND_ARTICLE:
            return True
        first = state.first_fetched_at or state.last_fetched_at
        if first is None or now - first > timedelta(seconds=self.window):
            return state.consecutive_failures > 0 and self._due_at(state, now)
        return self._due_at(state, now)

    @staticmethod
    def signals_change(state: FetchState, lastmod: datetime | None) -> bool:
        """A listed change date newer than the one listed when we last looked, or (none known) than our copy.
        A date already acted on is no signal again: a site stamping entries in the future (a time zone
        mistake) would otherwise have them fetched on every crawl."""
        if lastmod is None:
            return False
        if state.listed_at is not None:
            return lastmod > state.listed_at
        return state.last_fetched_at is not None and lastmod > state.last_fetched_at

    def in_window(self, state: FetchState, now: datetime) -> bool:
        first = state.first_fetched_at or state.last_fetched_at
        return first is not None and now - first <= timedelta(seconds=self.window)

    @staticmethod
    def _due_at(state: FetchState, now: datetime) -> bool:
        return state.next_due_at is None or state.next_due_at <= now

    def next_interval(self, previous: float | None, changed: bool) -> float:
        if previous is None:
            return self.start if self.start is not None else self.min_interval
        interval = previous / 2 if changed else previous * 2
        return min(self.max_interval, max(self.lowest, interval))


class FetchStateBook:
    """Earlier state of one source's URLs plus this crawl's observations."""

    def __init__(self, source: str, previous: dict[str, FetchState] | None, policy: RevisitPolicy):
        self.source = source
        self.previous = previous or {}
        self.policy = policy.for_source(self.previous.values(), datetime.now(UTC))
        if self.policy.start is not None:
            logger.info("revisit_adapted", extra={"source": source, "interval_seconds": round(self.policy.start, 1)})
        self.updates: dict[str, FetchState] = {}
        # state key -> the newest change date listed for it in this crawl, recorded once it is fetched
        self._listed: dict[str, datetime] = {}

    # ---- questions the spider asks

    def known(self, url: str) -> FetchState | None:
        key = state_key(url)
        return self.updates.get(key) or self.previous.get(key)

    def should_fetch_article(self, url: str, now: datetime, lastmod: datetime | None = None) -> bool:
        key = state_key(url)
        if lastmod is not None and (key not in self._listed or lastmod > self._listed[key]):
            self._listed[key] = lastmod
        state = self.previous.get(key)
        if state is not None and state.redirect_to:
            # Fetching a URL that redirected means fetching its target: the target's state decides.
            state = self.previous.get(state.redirect_to)
        if state is None or state.kind != KIND_ARTICLE:
            return True
        if self.policy.is_due(state, now, lastmod):
            return True
        if lastmod is not None and state.listed_at is None and key in self.previous:
            # Remembered without a fetch, so that a later date is recognised even when it is older than our copy.
            self._note(key).listed_at = lastmod
        return False

    def recheck_order(self, url: str, now: datetime) -> datetime | None:
        """For a known article inside the revisit window (worth refetching when a listing that links to it
        changed): when we first fetched it, to prefer the newest. None for any other URL."""
        state = self.previous.get(state_key(url))
        if state is None or state.kind != KIND_ARTICLE or not self.policy.in_window(state, now):
            return None
        return state.first_fetched_at or state.last_fetched_at

    def listing_changed(self, url: str) -> bool:
        """A feed, sitemap or index page fetched in this crawl whose content differs from the last crawl's."""
        key = state_key(url)
        earlier, now = self.previous.get(key), self.updates.get(key)
        return (earlier is not None and earlier.content_hash is not None and now is not None
                and now.content_hash is not None and now.content_hash != earlier.content_hash)

    def discovered_feeds(self) -> list[str]:
        """Feeds found on the source's pages in earlier crawls (and not failing since)."""
        return [url for url, state in self.previous.items() if state.status == DISCOVERED_FEED_STATUS]

    def next_pages(self, url: str) -> list[str]:
        """The pagination links an index page had when last read in full."""
        state = self.previous.get(state_key(url))
        return list(state.next_pages or ()) if state is not None else []

    def left_over_urls(self) -> list[str]:
        """Pages an earlier crawl left over (left_over): this crawl requests them first."""
        return [url for url, state in self.previous.items()
                if state.status.startswith(LEFT_OVER_STATUS) and state.kind != KIND_DOCUMENT]

    def conditional_headers(self, url: str) -> dict[str, str]:
        state = self.previous.get(state_key(url))
        if state is None or state.consecutive_failures or state.status == SITEMAP_INDEX_STATUS:
            return {}
        headers = {}
        if state.etag:
            headers["If-None-Match"] = state.etag
        if state.last_modified:
            headers["If-Modified-Since"] = state.last_modified
        return headers

    # ---- observations

    def _note(self, key: str) -> FetchState:
        """This crawl's copy of a URL's state, created from the earlier one without marking a fetch."""
        state = self.updates.get(key)
        if state is None:
            earlier = self.previous.get(key)
            state = dataclasses.replace(earlier) if earlier else FetchState(url=key, source=self.source)
            self.updates[key] = state
        return state

    def _update(self, url: str, kind: str | None, now: datetime) -> FetchState:
        key = state_key(url)
        state = self._note(key)
        if kind is not None and not (state.kind == KIND_ARTICLE and kind == KIND_PAGE):
            state.kind = kind
        if state.first_fetched_at is None:
            state.first_fetched_at = now
        state.last_fetched_at = now
        return state

    def response(self, url: str, kind: str, status: int, headers: Any, body: bytes | None, now: datetime) -> None:
        """A response arrived. 304 keeps the earlier validators and hash; 200 takes the new ones."""
        state = self._update(url, kind, now)
        state.consecutive_failures = 0
        state.status = str(status)
        state.redirect_to = None
        listed = self._listed.get(state.url)
        if listed is not None and (state.listed_at is None or listed > state.listed_at):
            state.listed_at = listed
        if status == 304:
            self._settle(state, changed=False, now=now)
            return
        state.etag = _header(headers, b"ETag")
        state.last_modified = _header(headers, b"Last-Modified")
        if body is not None and kind != KIND_ARTICLE:
            # Articles are compared by their extracted text (content), not their bytes: chrome changes.
            self.content(url, body_hash(body), now, status=str(status))

    def content(self, url: str, digest: str, now: datetime, status: str | None = None, kind: str | None = None,
                modified_at: datetime | None = None) -> bool:
        """The content of a fetched URL; returns True when it differs from the earlier crawl's.
        `modified_at`: when the page says it was last modified (an article's dateModified), if it does."""
        state = self._update(url, kind, now)
        earlier = self.previous.get(state_key(url))
        changed = earlier is None or earlier.content_hash != digest
        state.content_hash = digest
        if status is not None:
            state.status = status
        if changed and earlier is not None and earlier.content_hash is not None and state.kind == KIND_ARTICLE:
            state.change_seconds = _version_age(earlier, modified_at, now)
        if changed:
            state.last_changed_at = now
        self._settle(state, changed=changed and earlier is not None, now=now)
        return changed

    def extracted(self, url: str, text: str | None, status: str, modified_at: datetime | None = None) -> None:
        """What extraction made of a fetched candidate page: an article's text (and the dateModified it
        states), or a not-article reason."""
        now = datetime.now(UTC)
        if text is None:
            self.status(url, status, now)
        else:
            self.content(url, text_hash(text), now, status=status, kind=KIND_ARTICLE, modified_at=modified_at)

    def redirected(self, urls: list[str], target: str, now: datetime) -> None:
        """Requests for `urls` that redirects took to `target` (a feed's tracking links, http to https):
        each is remembered as pointing there, so that the next crawl asks whether the target is due
        instead of fetching the redirect again to find out."""
        goal = state_key(target)
        for url in urls:
            if state_key(url) == goal:
                continue
            state = self._update(url, None, now)
            state.status = "redirect"
            state.redirect_to = goal
            state.consecutive_failures = 0

    def pagination(self, url: str, links: Iterable[str]) -> None:
        """The pagination links of an index page read in full (replacing the earlier ones)."""
        self._note(state_key(url)).next_pages = sorted(links)[:MAX_NEXT_PAGES] or None

    def status(self, url: str, status: str, now: datetime, kind: str | None = None) -> None:
        state = self._update(url, kind, now)
        state.status = status

    def failure(self, url: str, kind: str, now: datetime) -> None:
        state = self._update(url, None, now)
        state.consecutive_failures += 1
        state.status = f"error:{kind}"
        backoff = min(self.policy.max_interval, self.policy.min_interval * 2 ** (state.consecutive_failures - 1))
        state.next_due_at = now + timedelta(seconds=backoff)

    def left_over(self, url: str, reason: str, now: datetime) -> bool:
        """This crawl gave up on the page to keep the schedule; True while it stays left over for the next crawl,
        False once it has been left over LEFT_OVER_CRAWLS times in a row (then a failure, with its backoff)."""
        state = self._update(url, None, now)
        if state.consecutive_failures >= LEFT_OVER_CRAWLS:
            self.failure(url, reason, now)
            return False
        state.consecutive_failures += 1
        state.status = LEFT_OVER_STATUS + reason
        state.next_due_at = now
        return True

    def _settle(self, state: FetchState, changed: bool, now: datetime) -> None:
        state.revisit_seconds = self.policy.next_interval(state.revisit_seconds, changed)
        state.next_due_at = now + timedelta(seconds=state.revisit_seconds)

    # ---- persistence

    def forget_listing_validators(self) -> None:
        """Drop the ETag and Last-Modified of feeds, sitemaps and index pages seen in this crawl.

        For a crawl that stopped on its page budget: it did not follow every link those listings
        hold, and a 304 next time would hide the rest, so the next crawl reads them in full again.
        """
        for state in self.updates.values():
            if state.kind != KIND_ARTICLE:
                state.etag = state.last_modified = None

    def write(self, spool_root: Path, run_id: str) -> Path | None:
        """Write this crawl's observations into <spool>/state/ atomically; None when there are none."""
        if not self.updates:
            return None
        from crawler.spool import write_atomically

        folder = Path(spool_root) / STATE_DIR
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = folder / f"{stamp}-{self.source}-{run_id}-{os.getpid()}-{uuid.uuid4().hex[:8]}{STATE_SUFFIX}"
        lines = "".join(json.dumps(s.to_dict(), ensure_ascii=False) + "\n" for s in self.updates.values())
        write_atomically(path, lines.encode("utf-8", "surrogatepass"))
        return path


def _version_age(earlier: FetchState, modified_at: datetime | None, now: datetime) -> float | None:
    """Seconds the replaced version of an article lived: from when we first saw it to the change, which the
    page's own dateModified dates when it falls between our last fetch and now (else now, an upper bound)."""
    since = earlier.last_changed_at or earlier.first_fetched_at
    if since is None:
        return None
    changed_at = now
    if (modified_at is not None and modified_at.tzinfo is not None and earlier.last_fetched_at is not None
            and earlier.last_fetched_at < modified_at <= now):
        changed_at = modified_at
    return max(0.0, (changed_at - since).total_seconds())


def _header(headers: Any, name: bytes) -> str | None:
    if headers is None:
        return None
    value = headers.get(name)
    return value.decode("latin-1") if value else None


def pending_state_files(spool_root: Path) -> list[Path]:
    folder = Path(spool_root) / STATE_DIR
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.name.endswith(STATE_SUFFIX))


def read_state_file(path: Path) -> list[FetchState]:
    states = []
    with open(path, encoding="utf-8", errors="surrogatepass") as fh:
        for line in fh:
            if line.strip():
                states.append(FetchState.from_dict(json.loads(line)))
    return states


def load_previous(database_url: str | None, source: str, timeout: float = 5.0) -> dict[str, FetchState] | None:
    """The fetch state of `source` from the database, or None (with a warning) when it cannot be read:
    a crawl never needs the database, it only fetches more without it."""
    if not database_url:
        return None
    try:
        import psycopg

        from ingest.tables.fetch_state import read_states

        # Bounded both ways: a database that is slow to answer costs the crawl its fetch state, not its run.
        with psycopg.connect(database_url, connect_timeout=max(1, int(timeout)),
                             options=f"-c statement_timeout={int(timeout * 1000)}") as conn:
            rows = read_states(conn, source)
    except Exception as exc:  # any failure: crawl without state
        from ingest.logs import error_text, mask_secrets

        logger.warning("fetch_state_unavailable", extra={"source": source, "error": mask_secrets(error_text(exc))})
        return None
    states = keyed_states(rows)
    logger.info("fetch_state_loaded", extra={"source": source, "urls": len(states)})
    return states


def keyed_states(rows: list[FetchState]) -> dict[str, FetchState]:
    """States by their state_key. Rows written before the key applied RFC 3986 equivalences may spell one
    URL two ways (http://host:80/x and http://host/x): they become one state, the most recently fetched."""
    states: dict[str, FetchState] = {}
    for row in rows:
        key = state_key(row.url)
        if key != row.url or (row.redirect_to and state_key(row.redirect_to) != row.redirect_to):
            row = dataclasses.replace(row, url=key, redirect_to=state_key(row.redirect_to) if row.redirect_to else None)
        earlier = states.get(key)
        if earlier is None or _fetched(row) >= _fetched(earlier):
            states[key] = row
    return states


def _fetched(state: FetchState) -> datetime:
    return state.last_fetched_at or datetime.min.replace(tzinfo=UTC)


def load_previous_for(config: Any, source: Any) -> dict[str, FetchState] | None:
    """`load_previous` for a configured source: the configured database, or the embedded one when it
    already exists under the data directory (a crawl does not create a database)."""
    url = config.database_url
    if not url and (config.data_dir / "postgres").exists():
        try:
            from ingest.db import resolve_dsn

            url = resolve_dsn(config)
        except Exception as exc:
            logger.warning("fetch_state_unavailable", extra={"source": source.name, "error": str(exc)})
            return None
    return load_previous(url, source.name)


class _NoBook:
    def extracted(self, url: str, text: str | None, status: str, modified_at: datetime | None = None) -> None:
        pass


NO_BOOK = _NoBook()
