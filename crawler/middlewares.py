"""Downloader middlewares for the news spider: the private-host guard and the page budget.

`PrivateHostGuard` refuses requests whose host is, or resolves to, a private, loopback,
link-local, reserved or otherwise non-global address, unless NEWSINGEST_ALLOW_PRIVATE_HOSTS
allows it (`PrivateHostPolicy`: true, or the addresses, networks and host names a source named;
link-local addresses, where cloud metadata services answer, only when named).
It touches DNS (through the event loop's resolver thread pool) and nothing else.
`PageBudget` counts final responses and refuses new downloads once NEWSINGEST_MAX_PAGES
responses arrived; those below status 400 are the crawl's pages fetched (stat newsingest/pages_fetched).
Both report through crawler stats and `logging` events.

Limit: the guard checks its own resolution, not the address Scrapy's downloader connects to,
so a host that re-resolves between the two (DNS rebinding) is not caught. Closing that needs
a custom DNS resolver (TWISTED_DNS_RESOLVER); not needed for configured news sites.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from typing import TYPE_CHECKING

from scrapy.exceptions import IgnoreRequest
from scrapy.utils.httpobj import urlparse_cached

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

ALLOW_PRIVATE_HOSTS_SETTING = "NEWSINGEST_ALLOW_PRIVATE_HOSTS"
MAX_PAGES_SETTING = "NEWSINGEST_MAX_PAGES"

# Request meta key: a feed or sitemap fetch, outside the page budget.
DOCUMENT_META = "newsingest_document"

STAT_PAGES_FETCHED = "newsingest/pages_fetched"
STAT_DOCUMENTS_FETCHED = "newsingest/documents_fetched"  # feeds and sitemaps that answered
STAT_REFUSED_PRIVATE = "newsingest/errors/refused_private_host"
STAT_SKIPPED_MAX_PAGES = "newsingest/skipped/max_pages"


class PrivateHostRefused(IgnoreRequest):
    """The request's host is not on the public internet and the source does not allow that."""


class PageBudgetExhausted(IgnoreRequest):
    """The crawl already received its max_pages responses."""


def is_public_address(address: str) -> bool:
    """True for a globally routable unicast IP address; False for private, loopback, link-local,
    reserved, multicast, unspecified, shared (100.64/10) and documentation ranges, and for
    IPv6 addresses that embed such an IPv4 address (mapped, 6to4, NAT64 is left alone as global).
    """
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id (fe80::1%eth0)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is not None:
            return is_public_address(str(embedded))
    if ip.is_multicast or ip.is_unspecified or ip.is_loopback or ip.is_link_local:
        return False
    if ip.is_private or ip.is_reserved:
        return False
    return ip.is_global


# Cloud metadata services outside link-local space (AWS over IPv6, Alibaba Cloud): as guarded as link-local.
_METADATA_ADDRESSES = frozenset({ipaddress.ip_address("fd00:ec2::254"), ipaddress.ip_address("100.100.100.200")})


def _ip(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(address.strip("[]").split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped  # ::ffff:169.254.169.254 is 169.254.169.254
    return ip


class PrivateHostPolicy:
    """Which non-public addresses a source may reach: `False` none; `True` all but link-local (and
    metadata) ones; a list of IP addresses, networks and host names: those only. Link-local and
    metadata addresses pass only when an address or network in the list contains them: naming a
    host is not naming the address its DNS points at."""

    def __init__(self, allowed: bool | tuple[str, ...] | list[str]):
        self.all = allowed is True
        self.networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        self.hosts: set[str] = set()
        for entry in () if isinstance(allowed, bool) else allowed:
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self.hosts.add(entry.lower().rstrip("."))

    def allows(self, host: str, address: str) -> bool:
        """May a request to `host`, which is or resolves to the non-public `address`, go out?"""
        ip = _ip(address)
        if ip is None:
            return False
        if any(ip in network for network in self.networks):
            return True
        if ip.is_link_local or ip in _METADATA_ADDRESSES:
            return False
        return self.all or host.lower().rstrip(".") in self.hosts


def _ip_literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]").split("%", 1)[0]))
    except ValueError:
        return None


class PrivateHostGuard:
    """Refuse requests to hosts on non-public addresses; resolutions cached per host for the crawl."""

    def __init__(self, stats: StatsCollector, policy: PrivateHostPolicy):
        self.stats = stats
        self.policy = policy
        # host -> task resolving to the refused address (str) or None when the host is public
        # or does not resolve (the download then fails with a DNS error, reported as such).
        self._verdicts: dict[str, asyncio.Future[str | None]] = {}
        self._logged: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PrivateHostGuard:
        allowed = crawler.settings.get(ALLOW_PRIVATE_HOSTS_SETTING, False)
        return cls(crawler.stats, PrivateHostPolicy(allowed if isinstance(allowed, bool | list | tuple) else False))

    async def process_request(self, request: Request) -> None:
        host = (urlparse_cached(request).hostname or "").lower()
        if not host:
            return
        verdict = self._verdicts.get(host)
        if verdict is None:
            verdict = asyncio.ensure_future(self._check(host))
            self._verdicts[host] = verdict
        refused_address = await asyncio.shield(verdict)
        if refused_address is None:
            return
        self.stats.inc_value(STAT_REFUSED_PRIVATE)
        # One warning per host: a misconfigured source should be visible, not flood the log.
        level = logging.DEBUG if host in self._logged else logging.WARNING
        self._logged.add(host)
        logger.log(
            level,
            "refused_private_host",
            extra={"url": request.url, "host": host, "address": refused_address},
        )
        raise PrivateHostRefused(f"host {host} resolves to non-public address {refused_address}")

    async def _check(self, host: str) -> str | None:
        literal = _ip_literal(host)
        if literal is not None:
            return self._refused(host, literal)
        if host == "localhost" or host.endswith(".localhost"):
            return self._refused(host, "127.0.0.1")
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            return None
        for info in infos:
            refused = self._refused(host, str(info[4][0]))
            if refused is not None:
                return refused
        return None

    def _refused(self, host: str, address: str) -> str | None:
        """The address when the request must be refused, else None."""
        if is_public_address(address) or self.policy.allows(host, address):
            return None
        return address


class PageBudget:
    """Count final responses; refuse further downloads once NEWSINGEST_MAX_PAGES are fetched or in flight.

    Placed before the redirect and retry middlewares (in process_response order: after them),
    so a redirect chain or a retried request counts once. robots.txt fetches and requests
    marked as discovery documents (meta DOCUMENT_META: feeds, sitemaps; the spider caps
    those itself) do not count: max_pages is a budget of pages.
    Requests in the downloader count against the budget while in flight, so a crawl gets at
    most max_pages responses; a refused request is dropped for good (its URL is not retried
    later in the crawl), so requests that fail without a response can leave budget unused.
    """

    # Request meta marks. Redirects and retries copy meta, so a follow-up of an admitted
    # request is admitted without counting twice.
    _ADMITTED = "_newsingest_admitted"
    _COUNTED = "_newsingest_counted"

    def __init__(self, crawler: Crawler, max_pages: int):
        self.crawler = crawler
        self.stats = crawler.stats
        self.max_pages = max_pages
        self.fetched = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PageBudget:
        return cls(crawler, crawler.settings.getint(MAX_PAGES_SETTING, 0))

    @staticmethod
    def _exempt(request: Request) -> bool:
        if request.meta.get(DOCUMENT_META):
            return True
        return (
            bool(request.meta.get("dont_obey_robotstxt")) and urlparse_cached(request).path == "/robots.txt"
        )

    def _in_flight(self, request: Request) -> int:
        engine = self.crawler.engine
        active = engine.downloader.active if engine is not None else ()
        # Only requests this middleware let through and whose response is not yet counted:
        # the downloader's active set also holds requests queued behind this one, still unchecked.
        return sum(1 for r in active if r.meta.get(self._ADMITTED) and not r.meta.get(self._COUNTED))

    def process_request(self, request: Request) -> None:
        if not self.max_pages or self._exempt(request) or request.meta.get(self._ADMITTED):
            return
        if self.fetched + self._in_flight(request) >= self.max_pages:
            self.stats.inc_value(STAT_SKIPPED_MAX_PAGES)
            raise PageBudgetExhausted("max_pages reached")
        request.meta[self._ADMITTED] = True

    def process_response(self, request: Request, response: Response) -> Response:
        # An error answer, or a redirect nobody followed, is no page: a site answering 503 to everything
        # must not look like one that served its pages.
        served = 200 <= response.status < 300 or response.status == 304
        if request.meta.get(DOCUMENT_META):
            if served:  # a feed or sitemap that answered: the site works even when no page was due
                self.stats.inc_value(STAT_DOCUMENTS_FETCHED)
        elif not self._exempt(request):
            request.meta[self._COUNTED] = True
            self.fetched += 1
            if served:
                self.stats.inc_value(STAT_PAGES_FETCHED)
            logger.debug("page_fetched", extra={"url": response.url, "status": response.status})
        return response
