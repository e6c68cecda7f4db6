"""Soft 404s recognised by repetition: a site that answers 200 with one "page not found" page at every
unknown URL shows the same short text at many URLs of one host, which no single page reveals.

URLs are told apart by their last path segment and query (the slug or ID, of the canonical URL), not
whole: an error page served at unknown URLs shows under different slugs, while one article reachable at
several URLs without a canonical link (/2026/03/05/brief-123, /politics/2026/03/05/brief-123, its AMP
page) keeps its slug and is stored, its copies recorded as duplicates at load. A publication date or an
article type in the page's metadata is no help here: many CMS error templates carry the site's article
metadata too.

Crawl state, kept by the item pipeline. A short article text is held back from the spool until its host
shows it under REPEATS distinct slugs (then every holder of it, held or later, is a soft 404 and
none is stored) or until the crawl ends (then it is spooled): the first pages of a soft-404 host are
judged with the rest instead of being spooled before the signal is known. Texts of ARTICLE_CHARS or more
are never held. At most MAX_HELD records wait; beyond, the oldest are spooled unjudged, so memory and
what a killed crawl loses stay bounded (a killed crawl writes no fetch state: its pages are fetched again).

This module touches nothing: bookkeeping in memory.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from crawler.records import Article
from ingest import dedup

REPEATS = 3  # distinct slugs of one host with one short text: an error page, not an article
ARTICLE_CHARS = 1500  # error pages say little; longer texts are not held
MAX_HELD = 500


class RepeatedShortText:
    def __init__(self, repeats: int = REPEATS, article_chars: int = ARTICLE_CHARS, max_held: int = MAX_HELD):
        self.repeats = repeats
        self.article_chars = article_chars
        self.max_held = max_held
        self._held: dict[tuple[str, str], list[Article]] = {}  # insertion order: oldest first
        self._held_count = 0
        self._slugs: dict[tuple[str, str], set[str]] = {}
        self._soft_404: set[tuple[str, str]] = set()

    def offer(self, article: Article) -> tuple[list[Article], list[Article]]:
        """An extracted article; returns (articles to spool now, soft 404s)."""
        if len(article.text) >= self.article_chars:
            return [article], []
        key = (urlsplit(article.url).hostname or "", article.content_hash or dedup.content_hash(article.text))
        if key in self._soft_404:
            return [], [article]
        slugs = self._slugs.setdefault(key, set())
        if len(slugs) < self.repeats:
            slugs.add(_slug(dedup.canonical_url(article.url, article.canonical_url)))
        held = self._held.setdefault(key, [])
        held.append(article)
        self._held_count += 1
        if len(slugs) >= self.repeats:
            self._soft_404.add(key)
            self._held_count -= len(held)
            del self._held[key]
            return [], held
        released: list[Article] = []
        while self._held_count > self.max_held:
            group = self._held.pop(next(iter(self._held)))
            released += group
            self._held_count -= len(group)
        return released, []

    def drain(self) -> list[Article]:
        """Everything still held (the crawl is ending): not repeated enough to be an error page."""
        held = [article for group in self._held.values() for article in group]
        self._held.clear()
        self._held_count = 0
        return held


def _slug(url: str) -> str:
    """The last non-empty path segment with the query: what names the page within its site."""
    parts = urlsplit(url)
    segments = [segment for segment in parts.path.split("/") if segment]
    return urlunsplit(("", "", segments[-1] if segments else "", parts.query, ""))
