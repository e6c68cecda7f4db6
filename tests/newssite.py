"""The tests' fixture news site: a WordPress-like newspaper ("The Fixture Times") on 127.0.0.1.

Serves a homepage, paginated section/tag/author archives, article pages wrapped in heavy
theme chrome, RSS/Atom/JSON feeds, a sitemap index (gzipped Google News sitemap plus a
plain sitemap) and robots.txt, all generated from `FixtureArticle` values so tests know
exactly what a perfect crawl and extraction would yield. Every request is recorded in
`NewsSite.requests`, so tests can assert what was (and was not) fetched.

Touches only a loopback socket it binds itself (port 0) and one daemon thread; stdlib only,
no files, nothing outside 127.0.0.0/8. Offsite links point at the reserved `.invalid` TLD.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import html
import json
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

SITE_NAME = "The Fixture Times"
SECTIONS = ("world", "business", "science")
PAGE_SIZE = 3  # articles per archive page: every section of the default set has two pages
HOMEPAGE_TEASERS = 6  # fewer than the default set, so link discovery must follow sections
DEFAULT_ARTICLE_COUNT = 12
OFFSITE_URL = "https://www.partner-news.invalid/2026/03/regional-roundup/"
PRIVATE_PATH = "/private/secret-draft/"
HUGE_PATH = "/huge/endless-live-blog/"  # streams NewsSite.huge_bytes of HTML, no Content-Length
PDF_PATH = "/files/annual-report-2025"  # a PDF, though no extension says so, as CMS download links do
RSS_TRACKING_QUERY = "utm_source=rss&utm_medium=rss&utm_campaign=fixture-times"
REDIRECT_PREFIX = "/go"  # NewsSite.feed_redirects: /go/<article path> answers 301 to the article

# Strings of the theme's chrome on every article page; none may survive into an extracted body.
CHROME_STRINGS: list[str] = [
    "Skip to content",
    "We use cookies",
    "Accept all cookies",
    "Manage preferences",
    "Breaking News",
    "Article ID:",
    "Share on Facebook",
    "Share on X",
    "Share on WhatsApp",
    "Share by email",
    "Copy link",
    "Photo: The Fixture Times",
    "- Advertisement -",
    "Sign up for our newsletter",
    "No spam. Unsubscribe at any time.",
    "Previous article",
    "Next article",
    "About the author",
    "writes for The Fixture Times",
    "Related articles",
    "Leave a Reply",
    "Please enter your comment!",
    "Please enter your name here",
    "You have entered an incorrect email address!",
    "Please enter your email address here",
    "Save my name, email, and website in this browser for the next time I comment.",
    "Post Comment",
    "Most read",
    "Stay connected",
    "© 2026 The Fixture Times. All rights reserved.",
]


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower().replace("’", "").replace("'", "")).strip("-")


def _article_path(published_at: datetime, slug: str) -> str:
    # WordPress dates the permalink in the site's local time, i.e. the article's own offset.
    return f"/{published_at:%Y/%m/%d}/{slug}/"


@dataclass(frozen=True)
class FixtureArticle:
    """One article as the site publishes it: the ground truth a crawl should recover."""

    slug: str
    path: str  # /yyyy/mm/dd/slug/ — the clean, canonical path
    title: str
    authors: list[str]
    published_at: datetime  # timezone-aware, with time of day
    section: str
    paragraphs: list[str]
    tags: list[str] = field(default_factory=list)
    caption: str = ""  # featured image caption: chrome, must not reach the body
    modified_at: datetime | None = None

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)

    @property
    def summary(self) -> str:
        return self.paragraphs[0]

    @classmethod
    def create(
        cls,
        title: str,
        authors: list[str],
        published_at: datetime,
        section: str,
        paragraphs: list[str],
        tags: list[str] | None = None,
        caption: str = "",
        slug: str | None = None,
        modified_at: datetime | None = None,
    ) -> FixtureArticle:
        """Build an article whose slug and path follow the site's permalink rules."""
        if published_at.tzinfo is None:
            raise ValueError("published_at must be timezone-aware")
        if section not in SECTIONS:
            raise ValueError(f"section must be one of {SECTIONS}, not {section!r}")
        slug = slug or slugify(title)
        return cls(
            slug=slug,
            path=_article_path(published_at, slug),
            title=title,
            authors=list(authors),
            published_at=published_at,
            section=section,
            paragraphs=list(paragraphs),
            tags=list(tags or []),
            caption=caption,
            modified_at=modified_at,
        )


def build_articles(n: int = DEFAULT_ARTICLE_COUNT) -> list[FixtureArticle]:
    """The first n invented stories, oldest first, sections in rotation. Deterministic.

    At most len(_STORIES) (15). The default 12 leave three newer stories that are not on
    the site: `spare_articles()` returns them, for tests of `NewsSite.add_article`.
    """
    if not 0 < n <= len(_STORIES):
        raise ValueError(f"n must be between 1 and {len(_STORIES)}, not {n}")
    return [_article_from_story(i, story) for i, story in enumerate(_STORIES[:n])]


def spare_articles() -> list[FixtureArticle]:
    """Stories newer than the default set, one per section, not on a default site."""
    return build_articles(len(_STORIES))[DEFAULT_ARTICLE_COUNT:]


_CET = timezone(timedelta(hours=1))
_FIRST_PUBLISHED = datetime(2026, 3, 2, 6, 40, tzinfo=UTC)


def _article_from_story(i: int, story: _Story) -> FixtureArticle:
    published = _FIRST_PUBLISHED + timedelta(hours=9 * i, minutes=(i * 23) % 50)
    if i % 3 == 1:
        # Some articles carry a non-UTC offset, as sites do; the instant is what must match.
        published = published.astimezone(_CET)
    modified = published + timedelta(hours=1 + i % 4, minutes=(i * 7) % 60) if i % 2 == 0 else None
    return FixtureArticle.create(
        title=story.title,
        authors=list(story.authors),
        published_at=published,
        section=story.section,
        paragraphs=list(story.paragraphs),
        tags=list(story.tags),
        caption=story.caption,
        modified_at=modified,
    )


@dataclass(frozen=True)
class RequestLog:
    """One request the site served."""

    method: str
    path: str  # with the query string, as sent
    headers: dict[str, str]  # header names lower-cased
    time: float  # time.monotonic(), to measure politeness delays

    @property
    def bare_path(self) -> str:
        return urlsplit(self.path).path

    @property
    def user_agent(self) -> str:
        return self.headers.get("user-agent", "")


@dataclass(frozen=True)
class _Response:
    status: int
    content_type: str
    body: bytes


def _html_response(text: str, status: int = 200) -> _Response:
    return _Response(status, "text/html; charset=utf-8", text.encode("utf-8"))


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _section_label(section: str) -> str:
    return section.capitalize()


def _visible_date(dt: datetime) -> str:
    hour = dt.hour % 12 or 12
    return f"{dt:%B} {dt.day}, {dt.year} at {hour}:{dt:%M} {'am' if dt.hour < 12 else 'pm'}"


def _short_date(dt: datetime) -> str:
    return f"{dt:%B} {dt.day}, {dt.year}"


def _byline_names(authors: list[str]) -> str:
    if len(authors) == 1:
        return authors[0]
    return ", ".join(authors[:-1]) + " and " + authors[-1]


@dataclass(frozen=True)
class _Archive:
    """A paginated listing: section, tag or author."""

    kind: str  # section | tag | author
    slug: str
    label: str
    articles: list[FixtureArticle]  # newest first

    @property
    def path(self) -> str:
        return f"/{self.kind}/{self.slug}/"

    @property
    def pages(self) -> int:
        return max(1, -(-len(self.articles) // PAGE_SIZE))

    def page_path(self, page: int) -> str:
        return self.path if page == 1 else f"{self.path}?page={page}"


@dataclass(frozen=True)
class _StaticPage:
    title: str
    paragraphs: list[str]


_STATIC_PAGES = {
    "/about/": _StaticPage(
        "About us",
        [
            "The Fixture Times is an independent daily covering world affairs, business and science.",
            "Our newsroom is staffed by reporters and editors who, like this newspaper, do not exist.",
        ],
    ),
    "/contact/": _StaticPage(
        "Contact",
        ["Send tips and corrections to the news desk at newsdesk@fixture-times.invalid."],
    ),
    "/privacy-policy/": _StaticPage(
        "Privacy policy",
        ["We store cookies to remember your preferences and to measure how the site is used."],
    ),
}

_STYLE = """
body{font-family:Georgia,serif;margin:0;color:#111}.td-header-wrap{background:#111;color:#fff}
.td-header-menu a{color:#fff;padding:0 10px;text-transform:uppercase;font-size:13px}
.td-ticker{background:#c00;color:#fff}.cookie-banner{position:fixed;bottom:0;background:#222;color:#eee}
.td-pb-span8{width:66%;float:left}.td-pb-span4{width:33%;float:right}.td-footer-wrapper{clear:both}
"""

_DATALAYER = """
window.dataLayer = window.dataLayer || [];
function gtag(){dataLayer.push(arguments);}
gtag('js', new Date()); gtag('config', 'G-FIXTURE01', {'anonymize_ip': true});
var tdBlocksArray = []; var tds_login_sing_in_widget = "show";
"""


class _Renderer:
    """Renders every page of the site from one consistent snapshot of the articles."""

    def __init__(self, base_url: str, articles: list[FixtureArticle], rss_tracking: bool,
                 crawl_delay: float | None = None, extra_links: tuple[str, ...] = (), feed_redirects: bool = False,
                 template: str = "classic"):
        self.base = base_url
        self.template = template
        self.feed_redirects = feed_redirects
        self.crawl_delay = crawl_delay
        self.extra_links = extra_links
        self.chronological = sorted(articles, key=lambda a: a.published_at)
        self.newest = list(reversed(self.chronological))
        # WordPress post ids follow publication order; stable for a given article set.
        self.post_id = {a.path: 1001 + i for i, a in enumerate(self.chronological)}
        self.by_path = {a.path: a for a in articles}
        self.rss_tracking = rss_tracking

    def url(self, path: str) -> str:
        return self.base + path

    # ---- archives -------------------------------------------------------------------------

    def archives(self) -> list[_Archive]:
        found: list[_Archive] = []
        for section in SECTIONS:
            found.append(_Archive("section", section, _section_label(section),
                                  [a for a in self.newest if a.section == section]))
        tags = sorted({t for a in self.newest for t in a.tags})
        for tag in tags:
            found.append(_Archive("tag", slugify(tag), tag, [a for a in self.newest if tag in a.tags]))
        authors = sorted({n for a in self.newest for n in a.authors})
        for name in authors:
            found.append(_Archive("author", slugify(name), name,
                                  [a for a in self.newest if name in a.authors]))
        return found

    def archive_at(self, path: str) -> _Archive | None:
        for archive in self.archives():
            if archive.path == path:
                return archive
        return None

    # ---- shared chrome -------------------------------------------------------------------------

    def _head(self, title: str, canonical: str, og_type: str, description: str, extra: str = "") -> str:
        return f"""<!DOCTYPE html>
<html lang="en-US">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{_esc(title)}</title>
<meta name="description" content="{_esc(description)}">
<meta name="robots" content="index, follow, max-image-preview:large">
<link rel="canonical" href="{_esc(canonical)}">
<meta property="og:locale" content="en_US">
<meta property="og:type" content="{og_type}">
<meta property="og:site_name" content="{SITE_NAME}">
<meta property="og:url" content="{_esc(canonical)}">
<meta property="og:description" content="{_esc(description)}">
{extra}
<link rel="alternate" type="application/rss+xml" title="{SITE_NAME} &raquo; Feed" href="{self.url('/feeds/rss.xml')}">
<link rel="alternate" type="application/atom+xml" title="{SITE_NAME} &raquo; Atom" href="{self.url('/feeds/atom.xml')}">
<link rel="alternate" type="application/feed+json" title="{SITE_NAME} &raquo; JSON Feed" href="{self.url('/feeds/feed.json')}">
<link rel="stylesheet" id="td-theme-css" href="{self.url('/wp-content/themes/newspaper/style.css?ver=12.6')}" type="text/css" media="all">
<style>{_STYLE}</style>
<script async src="https://www.googletagmanager.invalid/gtag/js?id=G-FIXTURE01"></script>
<script>{_DATALAYER}</script>
</head>
"""

    def _header(self) -> str:
        menu = "".join(
            f'<li class="menu-item menu-item-type-taxonomy"><a href="{self.url("/section/" + s + "/")}">'
            f"{_section_label(s)}</a></li>"
            for s in SECTIONS
        )
        ticker = "".join(
            f'<div class="td-ticker-item"><a class="td-ticker-link" href="{self.url(a.path)}">{_esc(a.title)}</a></div>'
            for a in self.newest[:3]
        )
        return f"""<body class="wp-theme-newspaper td-standard-pack global-block-template-1">
<a class="skip-link screen-reader-text" href="#td-outer-wrap">Skip to content</a>
<div id="cookie-notice" class="cookie-banner" role="dialog" aria-label="Cookie consent">
  <p class="cookie-text">We use cookies to improve your experience, to show you personalised advertising and to analyse our traffic. <a href="{self.url('/privacy-policy/')}">Read our privacy policy</a>.</p>
  <button type="button" class="cookie-accept">Accept all cookies</button> <button type="button" class="cookie-settings">Manage preferences</button>
</div>
<div id="td-outer-wrap" class="td-theme-wrap">
<div class="td-header-wrap td-header-style-1">
  <div class="td-header-top-menu-full"><div class="td-header-sp-top-menu"><span class="td_data_time">Fixture edition</span>
    <ul class="top-header-menu"><li class="menu-item"><a href="{self.url('/about/')}">About us</a></li><li class="menu-item"><a href="{self.url('/contact/')}">Contact</a></li></ul></div></div>
  <div class="td-header-sp-logo"><a class="td-main-logo" href="{self.url('/')}"><img src="/wp-content/uploads/logo.png" alt="{SITE_NAME}"><span class="td-visual-hidden">{SITE_NAME}</span></a></div>
  <nav class="td-header-menu-wrap" aria-label="Main menu"><ul id="menu-main" class="sf-menu td-header-menu">
    <li class="menu-item current-menu-item"><a href="{self.url('/')}">Home</a></li>{menu}</ul>
    <form class="header-search-wrap" role="search" action="{self.url('/')}"><input name="s" type="search" placeholder="Search"><button>Search</button></form></nav>
  <div class="td-ticker" aria-live="off"><span class="td-ticker-title">Breaking News</span>{ticker}</div>
</div>
"""

    def _footer(self) -> str:
        return f"""<div class="td-footer-wrapper"><div class="td-container">
  <div class="footer-text-wrap">{SITE_NAME} is an independent daily newspaper covering world affairs, business and science.</div>
  <ul class="td-footer-menu"><li><a href="{self.url('/about/')}">About us</a></li><li><a href="{self.url('/contact/')}">Contact</a></li><li><a href="{self.url('/privacy-policy/')}">Privacy policy</a></li></ul>
</div></div>
<div class="td-sub-footer-container"><div class="td-sub-footer-copy">© 2026 The Fixture Times. All rights reserved.</div></div>
</div>
<script>var td_viewport_interval_list = [{{"limitBottom":767,"sidebarWidth":228}}]; jQuery && jQuery(".cookie-accept").on("click", function(){{ jQuery("#cookie-notice").hide(); }});</script>
</body>
</html>
"""

    def _sidebar(self) -> str:
        items = "".join(
            f'<li class="td-popular-item"><span class="td-popular-rank">{n}</span>'
            f'<a href="{self.url(a.path)}">{_esc(a.title)}</a></li>'
            for n, a in enumerate(self.newest[:5], start=1)
        )
        return f"""<div class="td-pb-span4 td-main-sidebar" role="complementary">
  <div class="td_block_wrap td_block_social_counter"><h4 class="block-title"><span>Stay connected</span></h4>
    <div class="td_social_type"><span class="td_social_info">48,219</span> <span class="td_social_info_name">Fans</span> <a href="https://facebook.invalid/fixturetimes">Like</a></div>
    <div class="td_social_type"><span class="td_social_info">21,504</span> <span class="td_social_info_name">Followers</span> <a href="https://x.invalid/fixturetimes">Follow</a></div></div>
  <div class="td_block_wrap td_block_popular"><h4 class="block-title"><span>Most read</span></h4><ol class="td-popular-list">{items}</ol></div>
  <div class="td-a-rec td-a-rec-id-sidebar"><span class="td-adspot-title">- Advertisement -</span><a href="https://ads.fixture-times.invalid/click?zone=sidebar"><img src="https://ads.fixture-times.invalid/banners/300x250.jpg" alt="Advertisement" width="300" height="250"></a></div>
</div>
"""

    def _teaser(self, a: FixtureArticle, heading: str = "h3") -> str:
        return f"""<div class="td_module_wrap td-animation-stack">
  <div class="td-module-thumb"><a href="{self.url(a.path)}" rel="bookmark" title="{_esc(a.title)}"><img class="entry-thumb" src="/wp-content/uploads/{a.slug}-218x150.jpg" alt="" width="218" height="150"></a></div>
  <{heading} class="entry-title td-module-title"><a href="{self.url(a.path)}" rel="bookmark">{_esc(a.title)}</a></{heading}>
  <div class="td-module-meta-info"><a class="td-post-category" href="{self.url('/section/' + a.section + '/')}">{_section_label(a.section)}</a>
  <span class="td-post-author-name">{_esc(_byline_names(a.authors))}</span> - <span class="td-post-date"><time class="entry-date" datetime="{a.published_at.isoformat()}">{_short_date(a.published_at)}</time></span></div>
  <div class="td-excerpt">{_esc(a.summary[:140].rsplit(" ", 1)[0])}…</div>
</div>
"""

    # ---- pages -------------------------------------------------------------------------

    def homepage(self) -> str:
        ld = {
            "@context": "https://schema.org",
            "@type": "WebSite",
            "name": SITE_NAME,
            "url": self.url("/"),
            "potentialAction": {"@type": "SearchAction", "target": self.url("/?s={search_term_string}"),
                                "query-input": "required name=search_term_string"},
        }
        teasers = "".join(self._teaser(a, "h2" if i == 0 else "h3")
                          for i, a in enumerate(self.newest[:HOMEPAGE_TEASERS]))
        sections = "".join(
            f'<li><a class="td-pulldown-filter-link" href="{self.url("/section/" + s + "/")}">More {_section_label(s)}</a></li>'
            for s in SECTIONS
        )
        return (
            self._head(f"{SITE_NAME} | Independent news, business and science", self.url("/"), "website",
                       "The latest world, business and science news from The Fixture Times.",
                       f'<meta property="og:title" content="{SITE_NAME}">\n'
                       f'<script type="application/ld+json">{json.dumps(ld)}</script>')
            + self._header()
            + f"""<div class="td-main-content-wrap td-container"><div class="td-pb-row">
<div class="td-pb-span8 td-main-content" role="main">
  <div class="td_block_wrap td_block_big_grid"><h4 class="block-title"><span>Top stories</span></h4>{teasers}</div>
  <div class="td_block_wrap td_block_sections"><h4 class="block-title"><span>Sections</span></h4><ul>{sections}</ul></div>
  <div class="td_block_wrap td_block_partner"><h4 class="block-title"><span>From our partners</span></h4>
    <a href="{OFFSITE_URL}" rel="sponsored">Regional roundup: what our partner newsroom is reading this week</a></div>
  {"".join(f'<p><a href="{self.url(p)}">Download {_esc(p)}</a></p>' for p in self.extra_links)}
  <div class="td_block_wrap staff-tools"><a href="{self.url(PRIVATE_PATH)}" rel="nofollow">Preview: upcoming investigation</a></div>
</div>
{self._sidebar()}</div></div>
"""
            + self._footer()
        )

    def archive_page(self, archive: _Archive, page: int) -> str:
        start = (page - 1) * PAGE_SIZE
        chunk = archive.articles[start:start + PAGE_SIZE]
        canonical = self.url(archive.page_path(page))
        links: list[str] = []
        head_links: list[str] = []
        if page > 1:
            prev_url = self.url(archive.page_path(page - 1))
            links.append(f'<a class="prev page-numbers" href="{prev_url}">Previous</a>')
            head_links.append(f'<link rel="prev" href="{prev_url}">')
        links.append(f'<span class="pages">Page {page} of {archive.pages}</span>')
        if page < archive.pages:
            next_url = self.url(archive.page_path(page + 1))
            links.append(f'<a class="next page-numbers" href="{next_url}">Next</a>')
            head_links.append(f'<link rel="next" href="{next_url}">')
        title = f"{archive.label} Archives" + (f" - Page {page} of {archive.pages}" if page > 1 else "")
        ld = {
            "@context": "https://schema.org",
            "@type": "CollectionPage",
            "name": f"{archive.label} - {SITE_NAME}",
            "url": canonical,
            "isPartOf": {"@type": "WebSite", "name": SITE_NAME, "url": self.url("/")},
            "breadcrumb": {"@type": "BreadcrumbList", "itemListElement": [
                {"@type": "ListItem", "position": 1, "name": "Home", "item": self.url("/")},
                {"@type": "ListItem", "position": 2, "name": archive.label, "item": self.url(archive.path)},
            ]},
        }
        return (
            self._head(f"{title} | {SITE_NAME}", canonical, "website",
                       f"{archive.label}: the latest from {SITE_NAME}.",
                       f'<meta property="og:title" content="{_esc(title)}">\n' + "\n".join(head_links)
                       + f'\n<script type="application/ld+json">{json.dumps(ld)}</script>')
            + self._header()
            + f"""<div class="td-main-content-wrap td-container">
<div class="td-crumb-container"><div class="entry-crumbs"><span><a href="{self.url('/')}">Home</a></span> <i class="td-bread-sep"></i> <span class="td-bred-no-url-last">{_esc(archive.label)}</span></div></div>
<div class="td-pb-row"><div class="td-pb-span8 td-main-content" role="main">
  <h1 class="entry-title td-page-title">{_esc(archive.label)}</h1>
  <div class="td-ss-main-content">{"".join(self._teaser(a) for a in chunk)}</div>
  <div class="page-nav td-pb-padding-side">{" ".join(links)}</div>
</div>
{self._sidebar()}</div></div>
"""
            + self._footer()
        )

    def static_page(self, path: str, page: _StaticPage) -> str:
        body = "".join(f"<p>{_esc(p)}</p>" for p in page.paragraphs)
        return (
            self._head(f"{page.title} | {SITE_NAME}", self.url(path), "website", page.paragraphs[0],
                       f'<meta property="og:title" content="{_esc(page.title)}">')
            + self._header()
            + f"""<div class="td-main-content-wrap td-container"><div class="td-pb-row">
<div class="td-pb-span8 td-main-content" role="main"><h1 class="entry-title">{_esc(page.title)}</h1>
<div class="td-page-content">{body}</div></div>
{self._sidebar()}</div></div>
"""
            + self._footer()
        )

    def private_draft(self) -> str:
        return (
            self._head(f"DRAFT: not for publication | {SITE_NAME}", self.url(PRIVATE_PATH), "article",
                       "Embargoed draft.", '<meta name="robots" content="noindex, nofollow">')
            + self._header()
            + "<main><h1>DRAFT: not for publication</h1><p>This draft is embargoed. Crawlers that honour "
              "robots.txt never see this page.</p></main>"
            + self._footer()
        )

    def not_found(self) -> str:
        return (
            self._head(f"Page not found | {SITE_NAME}", self.url("/404/"), "website", "Page not found.")
            + self._header()
            + '<main class="td-404-title"><h1>Ooops... Error 404</h1><p>Sorry, but the page you are looking '
              'for doesn\'t exist.</p></main>'
            + self._footer()
        )

    def _share_bar(self, a: FixtureArticle, where: str) -> str:
        u = self.url(a.path)
        t = _esc(a.title)
        return f"""<div class="td-post-sharing td-post-sharing-{where}"><div class="td-post-sharing-visible">
<a class="td-social-sharing-button td-social-facebook" href="https://www.facebook.invalid/sharer.php?u={u}" title="Share on Facebook"><span class="td-social-but-text">Share on Facebook</span></a>
<a class="td-social-sharing-button td-social-twitter" href="https://x.invalid/intent/tweet?text={t}&amp;url={u}" title="Share on X"><span class="td-social-but-text">Share on X</span></a>
<a class="td-social-sharing-button td-social-whatsapp" href="https://api.whatsapp.invalid/send?text={t}%20{u}" title="Share on WhatsApp"><span class="td-social-but-text">Share on WhatsApp</span></a>
<a class="td-social-sharing-button td-social-mail" href="mailto:?subject={t}&amp;body={u}" title="Share by email"><span class="td-social-but-text">Share by email</span></a>
<a class="td-social-sharing-button td-social-copy" href="#" data-copy-url="{u}"><span class="td-social-but-text">Copy link</span></a>
</div></div>
"""

    def _related(self, a: FixtureArticle) -> list[FixtureArticle]:
        same = [o for o in self.newest if o.section == a.section and o.path != a.path]
        other = [o for o in self.newest if o.section != a.section]
        return (same + other)[:3]

    def article_page(self, a: FixtureArticle) -> str:
        clean = self.url(a.path)
        post_id = self.post_id[a.path]
        modified = a.modified_at or a.published_at
        image = self.url(f"/wp-content/uploads/{a.published_at:%Y/%m}/{a.slug}-1200x800.jpg")
        persons = [{"@type": "Person", "name": n, "url": self.url(f"/author/{slugify(n)}/")} for n in a.authors]
        ld = {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "mainEntityOfPage": {"@type": "WebPage", "@id": clean},
            "headline": a.title,
            "description": a.summary,
            "image": [image],
            "author": persons,
            "datePublished": a.published_at.isoformat(),
            "dateModified": modified.isoformat(),
            "articleSection": _section_label(a.section),
            "keywords": a.tags,
            "inLanguage": "en-US",
            "publisher": {"@type": "Organization", "name": SITE_NAME, "logo": {
                "@type": "ImageObject", "url": self.url("/wp-content/uploads/logo.png")}},
        }
        crumbs = {
            "@context": "https://schema.org",
            "@type": "BreadcrumbList",
            "itemListElement": [
                {"@type": "ListItem", "position": 1, "name": "Home", "item": self.url("/")},
                {"@type": "ListItem", "position": 2, "name": _section_label(a.section),
                 "item": self.url(f"/section/{a.section}/")},
                {"@type": "ListItem", "position": 3, "name": a.title, "item": clean},
            ],
        }
        meta = "\n".join(
            [
                f'<meta property="og:title" content="{_esc(a.title)}">',
                f'<meta property="og:image" content="{image}">',
                f'<meta name="author" content="{_esc(", ".join(a.authors))}">',
                f'<meta property="article:section" content="{_section_label(a.section)}">',
                *(f'<meta property="article:tag" content="{_esc(t)}">' for t in a.tags),
                f'<meta property="article:published_time" content="{a.published_at.isoformat()}">',
                f'<meta property="article:modified_time" content="{modified.isoformat()}">',
                '<meta name="twitter:card" content="summary_large_image">',
                f'<meta name="twitter:title" content="{_esc(a.title)}">',
                f'<script type="application/ld+json">{json.dumps(ld, ensure_ascii=False)}</script>',
                f'<script type="application/ld+json">{json.dumps(crumbs, ensure_ascii=False)}</script>',
            ]
        )
        byline = " and ".join(
            f'<a class="tdb-author-name" href="{self.url("/author/" + slugify(n) + "/")}">{_esc(n)}</a>'
            for n in a.authors
        ) if len(a.authors) <= 2 else ", ".join(
            f'<a href="{self.url("/author/" + slugify(n) + "/")}">{_esc(n)}</a>' for n in a.authors[:-1]
        ) + f' and <a href="{self.url("/author/" + slugify(a.authors[-1]) + "/")}">{_esc(a.authors[-1])}</a>'

        body_parts: list[str] = []
        if self.template == "lazy_body":
            body_parts.append(f'<p class="td-standfirst">{_esc(a.paragraphs[0])}</p>'
                              f'<div class="td-post-loader" data-src="/api/posts/{post_id}">Loading…</div>')
        for i, p in enumerate(a.paragraphs if self.template != "lazy_body" else ()):
            body_parts.append(f"<p>{_esc(p)}</p>")
            if i == 1:
                body_parts.append(
                    '<div class="td-a-rec td-a-rec-id-content_inline"><span class="td-adspot-title">- Advertisement -</span>'
                    '<div class="td-all-devices"><a href="https://ads.fixture-times.invalid/click?zone=inline-1">'
                    '<img src="https://ads.fixture-times.invalid/banners/728x90.jpg" width="728" height="90" alt="Advertisement"></a></div></div>'
                )
        tags = "".join(f'<li><a href="{self.url("/tag/" + slugify(t) + "/")}">{_esc(t)}</a></li>' for t in a.tags)
        i = self.chronological.index(a)
        prev_next = ""
        if i > 0:
            p = self.chronological[i - 1]
            prev_next += (f'<div class="td-post-prev-post"><span>Previous article</span>'
                          f'<a href="{self.url(p.path)}">{_esc(p.title)}</a></div>')
        if i + 1 < len(self.chronological):
            n = self.chronological[i + 1]
            prev_next += (f'<div class="td-post-next-post"><span>Next article</span>'
                          f'<a href="{self.url(n.path)}">{_esc(n.title)}</a></div>')
        else:
            # The newest article still shows the theme's navigation block, pointing back home.
            prev_next += f'<div class="td-post-next-post"><span>Next article</span><a href="{self.url("/")}">Home</a></div>'
        if i == 0:
            prev_next = (f'<div class="td-post-prev-post"><span>Previous article</span>'
                         f'<a href="{self.url("/")}">Home</a></div>') + prev_next
        author_boxes = "".join(
            f"""<div class="author-box-wrap"><h4 class="author-box-title">About the author</h4>
<a href="{self.url('/author/' + slugify(n) + '/')}"><img alt="" src="/wp-content/uploads/avatars/{slugify(n)}-96x96.jpg" class="avatar" width="96" height="96"></a>
<div class="desc"><div class="td-author-name vcard author"><span class="fn"><a href="{self.url('/author/' + slugify(n) + '/')}">{_esc(n)}</a></span></div>
<div class="td-author-description">{_esc(n)} writes for The Fixture Times from the {_section_label(a.section)} desk.</div></div></div>
"""
            for n in a.authors
        )
        related = "".join(
            f"""<div class="td_module_related_posts"><div class="td-module-thumb"><a href="{r.path}" rel="bookmark" title="{_esc(r.title)}"><img class="entry-thumb" src="/wp-content/uploads/{r.slug}-218x150.jpg" alt="" width="218" height="150"></a></div>
<h3 class="entry-title td-module-title"><a href="{r.path}" rel="bookmark">{_esc(r.title)}</a></h3>
<span class="td-post-date"><time class="entry-date">{_short_date(r.published_at)}</time></span></div>
"""
            for r in self._related(a)
        )
        photographer = ("Lena Arvidsson", "Kofi Mensah", "Paula Ruiz")[post_id % 3]
        return (
            self._head(f"{a.title} | {SITE_NAME}", clean, "article", a.summary, meta)
            + self._header().replace('<body class="', f'<body class="post-template-default single single-post postid-{post_id} ', 1)
            + f"""<div class="td-main-content-wrap td-container td-post-template-default">
<div class="td-crumb-container"><div class="entry-crumbs"><span><a href="{self.url('/')}">Home</a></span> <i class="td-bread-sep"></i> <span><a href="{self.url('/section/' + a.section + '/')}">{_section_label(a.section)}</a></span> <i class="td-bread-sep"></i> <span class="td-bred-no-url-last">{_esc(a.title)}</span></div></div>
<div class="td-pb-row"><div class="td-pb-span8 td-main-content" role="main"><div class="td-ss-main-content">
<article id="post-{post_id}" class="post-{post_id} post type-post status-publish format-standard has-post-thumbnail category-{a.section}">
  <div class="td-post-header">
    <span class="td-post-id-badge" title="Article ID">Article ID: {post_id}</span>
    <ul class="td-category"><li class="entry-category"><a href="{self.url('/section/' + a.section + '/')}">{_section_label(a.section)}</a></li></ul>
    <header class="td-post-title"><h1 class="entry-title">{_esc(a.title)}</h1>
      <div class="td-module-meta-info">
        <div class="td-post-author-name"><span class="td-author-by">By</span> {byline}<span class="td-author-line"> - </span></div>
        <span class="td-post-date"><time class="entry-date updated td-module-date" datetime="{a.published_at.isoformat()}">{_visible_date(a.published_at)}</time></span>
        <div class="td-post-comments"><a href="{clean}#respond"><i class="td-icon-comments"></i>0</a></div>
        <div class="td-post-views"><span class="td-nr-views-{post_id}">{(post_id * 37) % 5000:,}</span></div>
      </div>
    </header>
  </div>
{self._share_bar(a, "top")}
  <div class="td-post-featured-image"><figure class="wp-caption">
    <a href="{image}" data-caption="{_esc(a.caption)}"><img width="696" height="464" class="entry-thumb" src="{image}" alt="{_esc(a.caption)}"></a>
    <figcaption class="wp-caption-text">{_esc(a.caption)} <span class="photo-credit">Photo: The Fixture Times/{photographer}</span></figcaption>
  </figure></div>
  <div class="td-post-content tagdiv-type">
{chr(10).join(body_parts)}
  </div>
  <div class="td-newsletter-box"><h4>Sign up for our newsletter</h4>
    <p>The Morning Fixture: the day's top stories, in your inbox before breakfast.</p>
    <form action="{self.url('/newsletter/subscribe/')}" method="post"><input type="email" name="email" placeholder="Your email address"><button type="submit">Subscribe</button></form>
    <p class="td-newsletter-small">No spam. Unsubscribe at any time.</p></div>
  <footer>
    <div class="td-post-source-tags"><ul class="td-tags td-post-small-box clearfix"><li><span>TAGS</span></li>{tags}</ul></div>
{self._share_bar(a, "bottom")}
    <div class="td-block-row td-post-next-prev">{prev_next}</div>
{author_boxes}
  </footer>
</article>
<div class="td_block_wrap td_block_related_posts"><h4 class="td-related-title td-block-title"><span>Related articles</span></h4>
<div class="td_block_inner td-related-row">{related}</div></div>
<div class="comments" id="comments"><div id="respond" class="comment-respond">
  <h3 id="reply-title" class="comment-reply-title"><div class="td-comment-form-title">Leave a Reply</div> <small><a rel="nofollow" id="cancel-comment-reply-link" href="{clean}#respond" style="display:none;">Cancel reply</a></small></h3>
  <form action="{self.url('/wp-comments-post.php')}" method="post" id="commentform" class="comment-form" novalidate>
    <div class="comment-form-input-wrap td-form-comment"><label for="comment" class="screen-reader-text">Comment</label>
      <textarea placeholder="Comment:" id="comment" name="comment" cols="45" rows="8" aria-required="true"></textarea>
      <div class="td-warning-comment">Please enter your comment!</div></div>
    <div class="comment-form-input-wrap td-form-author"><label for="author" class="screen-reader-text">Name</label>
      <input id="author" name="author" placeholder="Name:*" type="text" value="" size="30" aria-required="true">
      <div class="td-warning-author">Please enter your name here</div></div>
    <div class="comment-form-input-wrap td-form-email"><label for="email" class="screen-reader-text">Email</label>
      <input id="email" name="email" placeholder="Email:*" type="text" value="" size="30" aria-required="true">
      <div class="td-warning-email-error">You have entered an incorrect email address!</div>
      <div class="td-warning-email">Please enter your email address here</div></div>
    <div class="comment-form-input-wrap td-form-url"><label for="url" class="screen-reader-text">Website</label>
      <input id="url" name="url" placeholder="Website:" type="text" value="" size="30"></div>
    <p class="comment-form-cookies-consent"><input id="wp-comment-cookies-consent" name="wp-comment-cookies-consent" type="checkbox" value="yes"><label for="wp-comment-cookies-consent">Save my name, email, and website in this browser for the next time I comment.</label></p>
    <p class="form-submit"><button name="submit" type="submit" id="submit" class="submit">Post Comment</button> <input type="hidden" name="comment_post_ID" value="{post_id}" id="comment_post_ID"></p>
  </form>
</div></div>
</div></div>
{self._sidebar()}</div></div>
"""
            + self._footer()
        )

    # ---- feeds and sitemaps -------------------------------------------------------------------------

    def _feed_link(self, a: FixtureArticle) -> str:
        if self.feed_redirects:
            return self.url(REDIRECT_PREFIX + a.path)
        # Many WordPress sites append campaign parameters to feed links; the crawler must
        # canonicalise them away rather than fetch the article twice.
        return self.url(a.path) + (f"?{RSS_TRACKING_QUERY}" if self.rss_tracking else "")

    def rss(self) -> str:
        items = []
        for a in self.newest:
            creators = "".join(f"<dc:creator><![CDATA[{n}]]></dc:creator>" for n in a.authors)
            cats = "".join(f"<category><![CDATA[{c}]]></category>" for c in [_section_label(a.section), *a.tags])
            items.append(
                f"""<item>
<title>{_esc(a.title)}</title>
<link>{_esc(self._feed_link(a))}</link>
{creators}
<pubDate>{format_datetime(a.published_at)}</pubDate>
{cats}
<guid isPermaLink="false">{self.url('/?p=' + str(self.post_id[a.path]))}</guid>
<description><![CDATA[{a.summary}]]></description>
</item>"""
            )
        last = self.newest[0].published_at if self.newest else _FIRST_PUBLISHED
        return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">
<channel>
<title>{SITE_NAME}</title>
<atom:link href="{self.url('/feeds/rss.xml')}" rel="self" type="application/rss+xml"/>
<link>{self.url('/')}</link>
<description>Independent news, business and science</description>
<lastBuildDate>{format_datetime(last)}</lastBuildDate>
<language>en-US</language>
<sy:updatePeriod>hourly</sy:updatePeriod>
<generator>https://wordpress.org/?v=6.5.2</generator>
{chr(10).join(items)}
</channel>
</rss>
"""

    def atom(self) -> str:
        entries = []
        for a in self.newest:
            authors = "".join(f"<author><name>{_esc(n)}</name></author>" for n in a.authors)
            entries.append(
                f"""<entry>
<title type="html">{_esc(a.title)}</title>
<link rel="alternate" type="text/html" href="{self.url(a.path)}"/>
<id>{self.url('/?p=' + str(self.post_id[a.path]))}</id>
<published>{a.published_at.isoformat()}</published>
<updated>{(a.modified_at or a.published_at).isoformat()}</updated>
{authors}
<category scheme="{self.url('/')}" term="{_section_label(a.section)}"/>
<summary type="html">{_esc(a.summary)}</summary>
</entry>"""
            )
        updated = self.newest[0].published_at if self.newest else _FIRST_PUBLISHED
        return f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en-US">
<title type="text">{SITE_NAME}</title>
<subtitle type="text">Independent news, business and science</subtitle>
<updated>{updated.isoformat()}</updated>
<link rel="alternate" type="text/html" href="{self.url('/')}"/>
<id>{self.url('/feeds/atom.xml')}</id>
<link rel="self" type="application/atom+xml" href="{self.url('/feeds/atom.xml')}"/>
{chr(10).join(entries)}
</feed>
"""

    def json_feed(self) -> str:
        feed = {
            "version": "https://jsonfeed.org/version/1.1",
            "title": SITE_NAME,
            "home_page_url": self.url("/"),
            "feed_url": self.url("/feeds/feed.json"),
            "language": "en-US",
            "items": [
                {
                    "id": str(self.post_id[a.path]),
                    "url": self.url(a.path),
                    "title": a.title,
                    "summary": a.summary,
                    "content_text": a.summary,
                    "date_published": a.published_at.isoformat(),
                    "date_modified": (a.modified_at or a.published_at).isoformat(),
                    "authors": [{"name": n} for n in a.authors],
                    "tags": [_section_label(a.section), *a.tags],
                }
                for a in self.newest
            ],
        }
        return json.dumps(feed, ensure_ascii=False, indent=1)

    def sitemap_index(self) -> str:
        last = (self.newest[0].published_at if self.newest else _FIRST_PUBLISHED).isoformat()
        return f"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>{self.url('/sitemaps/news.xml.gz')}</loc><lastmod>{last}</lastmod></sitemap>
<sitemap><loc>{self.url('/sitemaps/sections.xml')}</loc></sitemap>
</sitemapindex>
"""

    def news_sitemap(self) -> str:
        urls = "".join(
            f"""<url><loc>{self.url(a.path)}</loc><lastmod>{(a.modified_at or a.published_at).isoformat()}</lastmod>
<news:news><news:publication><news:name>{SITE_NAME}</news:name><news:language>en</news:language></news:publication>
<news:publication_date>{a.published_at.isoformat()}</news:publication_date><news:title>{_esc(a.title)}</news:title></news:news></url>
"""
            for a in self.newest
        )
        return f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
{urls}</urlset>
"""

    def sections_sitemap(self) -> str:
        urls = "".join(
            f"<url><loc>{self.url('/section/' + s + '/')}</loc><changefreq>hourly</changefreq></url>\n"
            for s in SECTIONS
        )
        return f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
{urls}</urlset>
"""

    def robots(self) -> str:
        return (
            "User-agent: *\n"
            + (f"Crawl-delay: {self.crawl_delay}\n" if self.crawl_delay else "")
            + "Disallow: /private/\n"
            "Disallow: /wp-admin/\n"
            "Allow: /wp-admin/admin-ajax.php\n"
            "\n"
            f"Sitemap: {self.url('/sitemap_index.xml')}\n"
        )

    # ---- routing -------------------------------------------------------------------------

    def respond(self, raw_path: str) -> _Response:
        parts = urlsplit(raw_path)
        path = parts.path
        query = dict(parse_qsl(parts.query))
        if path == "/":
            return _html_response(self.homepage())
        if path == "/robots.txt":
            return _Response(200, "text/plain; charset=utf-8", self.robots().encode())
        if path == "/feeds/rss.xml":
            return _Response(200, "application/rss+xml; charset=utf-8", self.rss().encode())
        if path == "/feeds/atom.xml":
            return _Response(200, "application/atom+xml; charset=utf-8", self.atom().encode())
        if path == "/feeds/feed.json":
            return _Response(200, "application/feed+json; charset=utf-8", self.json_feed().encode())
        if path == "/sitemap_index.xml":
            return _Response(200, "application/xml; charset=utf-8", self.sitemap_index().encode())
        if path == "/sitemaps/news.xml.gz":
            # mtime=0 keeps the bytes deterministic for a given article set.
            return _Response(200, "application/gzip", gzip.compress(self.news_sitemap().encode(), mtime=0))
        if path == "/sitemaps/sections.xml":
            return _Response(200, "application/xml; charset=utf-8", self.sections_sitemap().encode())
        if path == PRIVATE_PATH:
            return _html_response(self.private_draft())
        if path in _STATIC_PAGES:
            return _html_response(self.static_page(path, _STATIC_PAGES[path]))
        article = self.by_path.get(path)
        if article is not None:
            return _html_response(self.article_page(article))  # any query string: same article
        archive = self.archive_at(path)
        if archive is not None:
            page_text = query.get("page", "1")
            if page_text.isdigit() and 1 <= int(page_text) <= archive.pages:
                return _html_response(self.archive_page(archive, int(page_text)))
        return _html_response(self.not_found(), status=404)


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        # A crawler that stops (SIGTERM, max_pages) hangs up mid-response; that is not a site error.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class NewsSite:
    """The fixture site. `with NewsSite() as site:` or `site = NewsSite().start()` … `site.stop()`."""

    def __init__(self, host: str = "127.0.0.1", articles: list[FixtureArticle] | None = None,
                 rss_tracking_params: bool = True):
        self.host = host
        self.articles: list[FixtureArticle] = list(articles) if articles is not None else build_articles()
        self.rss_tracking_params = rss_tracking_params
        # Seconds each article page takes to serve, one article at a time: makes a crawl last
        # long enough to interrupt, whatever the crawler's concurrency.
        self.article_delay = 0.0
        self._slow_lock = threading.Lock()
        # Cleared: article pages wait (a minute at most) until a test sets it, so a crawl is surely still
        # running while the test does something beside it.
        self.articles_released = threading.Event()
        self.articles_released.set()
        # path -> seconds the page takes to answer (each request on its own: other pages are not held)
        self.slow_paths: dict[str, float] = {}
        # Politeness and limits fixtures (off unless a test sets them):
        self.crawl_delay: float | None = None  # robots.txt Crawl-delay
        self.extra_links: list[str] = []  # more links on the homepage (e.g. HUGE_PATH, PDF_PATH)
        # path -> responses to give first, each (status, Retry-After value); then the normal page
        self.busy: dict[str, list[tuple[int, str]]] = {}
        self.huge_bytes = 60 * 1024 * 1024  # HUGE_PATH streams this much HTML with no Content-Length
        self.pdf_bytes = 4 * 1024 * 1024
        self.custom: dict[str, tuple[int, str]] = {}  # path -> (status, HTML) served as is
        self.custom_content_type: dict[str, str] = {}  # path -> Content-Type of a custom page (else HTML, UTF-8)
        self.custom_etags = False  # custom pages answer with an ETag of their bytes, and 304 to a matching one
        # Feed links go through /go/<article path>, answered with a 301 to the article (click tracking).
        self.feed_redirects = False
        # The article pages' template: "classic", or "lazy_body": a redesign whose pages carry only the
        # standfirst, the rest of the body coming later from a script (extraction finds too short a text).
        self.template = "classic"
        self.redirects: dict[str, str] = {}  # path -> absolute URL answered with a 301 (another host, say)
        self.bytes_sent: dict[str, int] = {}  # HUGE_PATH / PDF_PATH: body bytes written before the client hung up
        # Every response: (path, status); 304s show conditional requests answered.
        self.responses: list[tuple[str, int]] = []
        self.requests: list[RequestLog] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> NewsSite:
        if self._server is not None:
            raise RuntimeError("NewsSite already started")
        self._server = _QuietServer((self.host, 0), _make_handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="newssite", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> NewsSite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("NewsSite not started")
        return f"http://{self.host}:{self._server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base_url + path

    # ---- content -------------------------------------------------------------------------

    def add_article(self, article: FixtureArticle) -> None:
        """Publish while running: it appears on the homepage, archives, feeds and sitemap."""
        with self._lock:
            if any(a.path == article.path for a in self.articles):
                raise ValueError(f"an article is already published at {article.path}")
            self.articles = [*self.articles, article]

    def article_urls(self) -> list[str]:
        return [self.url(a.path) for a in self.articles]

    def update_article(self, path: str, paragraphs: list[str], modified_at: datetime | None = None) -> FixtureArticle:
        """Edit a published article's body in place (same URL); returns the new version."""
        with self._lock:
            old = next(a for a in self.articles if a.path == path)
            new = dataclasses.replace(old, paragraphs=list(paragraphs), modified_at=modified_at or old.modified_at)
            self.articles = [new if a.path == path else a for a in self.articles]
        return new

    def statuses(self, path: str) -> list[int]:
        """Statuses served for a path (any query string), in order."""
        with self._lock:
            return [status for p, status in self.responses if urlsplit(p).path == path]

    def article_at(self, url_or_path: str) -> FixtureArticle | None:
        """The article a URL (or path) points at, ignoring host and query string."""
        path = urlsplit(url_or_path).path
        return next((a for a in self.articles if a.path == path), None)

    @property
    def index_urls(self) -> list[str]:
        """Every HTML page on the site that is not an article: homepage, archives (all pages), static pages."""
        renderer = self._renderer()
        urls = [self.url("/")]
        for archive in renderer.archives():
            urls.extend(self.url(archive.page_path(p)) for p in range(1, archive.pages + 1))
        urls.extend(self.url(p) for p in _STATIC_PAGES)
        return urls

    @property
    def section_urls(self) -> list[str]:
        return [self.url(f"/section/{s}/") for s in SECTIONS]

    @property
    def feed_urls(self) -> list[str]:
        return [self.url(p) for p in ("/feeds/rss.xml", "/feeds/atom.xml", "/feeds/feed.json")]

    @property
    def sitemap_url(self) -> str:
        return self.url("/sitemap_index.xml")

    # ---- request log -------------------------------------------------------------------------

    def requested_paths(self) -> list[str]:
        with self._lock:
            return [r.path for r in self.requests]

    def requests_to(self, path: str) -> list[RequestLog]:
        """Requests for a path, whatever their query string (tracking parameters included)."""
        with self._lock:
            return [r for r in self.requests if r.bare_path == path]

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    def _record(self, entry: RequestLog) -> None:
        with self._lock:
            self.requests.append(entry)

    def _renderer(self) -> _Renderer:
        with self._lock:
            articles = list(self.articles)
        return _Renderer(self.base_url, articles, self.rss_tracking_params, self.crawl_delay,
                         tuple(self.extra_links), self.feed_redirects, self.template)


def _make_handler(site: NewsSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "nginx"  # don't advertise BaseHTTP; the crawler should not care either way
        sys_version = ""

        def _serve(self, with_body: bool) -> None:
            site._record(RequestLog(
                method=self.command,
                path=self.path,
                headers={k.lower(): v for k, v in self.headers.items()},
                time=time.monotonic(),
            ))
            if site.article_delay and site.article_at(self.path) is not None:
                with site._slow_lock:
                    time.sleep(site.article_delay)
            if site.article_at(self.path) is not None:
                site.articles_released.wait(60)
            slow = site.slow_paths.get(urlsplit(self.path).path)
            if slow:
                time.sleep(min(slow, 60.0))
            bare = urlsplit(self.path).path
            with site._lock:
                queued = site.busy.get(bare)
                busy = queued.pop(0) if queued else None
            if busy is not None:
                status, retry_after = busy
                self._head(status, "text/html; charset=utf-8", 0, {"Retry-After": retry_after})
                return
            if bare in site.redirects:
                self._head(301, "text/html; charset=utf-8", 0, {"Location": site.redirects[bare]})
                return
            if site.feed_redirects and bare.startswith(REDIRECT_PREFIX + "/"):
                self._head(301, "text/html; charset=utf-8", 0, {"Location": site.url(bare[len(REDIRECT_PREFIX):])})
                return
            if bare in (HUGE_PATH, PDF_PATH):
                self._stream(bare, with_body)
                return
            if bare in site.custom:
                status, text = site.custom[bare]
                body = text.encode("utf-8")
                content_type = site.custom_content_type.get(bare, "text/html; charset=utf-8")
                validators = {}
                if site.custom_etags and status == 200:
                    validators = {"ETag": '"' + hashlib.sha1(body).hexdigest()[:20] + '"'}
                    if self.headers.get("If-None-Match") == validators["ETag"]:
                        self._head(304, content_type, None, validators)
                        return
                self._head(status, content_type, len(body), validators)
                if with_body:
                    self.wfile.write(body)
                return
            response = site._renderer().respond(self.path)
            extra = {}
            if response.status == 200:
                # Validators for conditional requests: an ETag of the bytes, and a Last-Modified.
                etag = '"' + hashlib.sha1(response.body).hexdigest()[:20] + '"'
                article = site.article_at(self.path)
                changed = (article.modified_at or article.published_at) if article else _FIRST_PUBLISHED
                extra = {"ETag": etag, "Last-Modified": format_datetime(changed.astimezone(UTC), usegmt=True)}
                if self.headers.get("If-None-Match") == etag:
                    self._head(304, response.content_type, None, extra)
                    return
            self._head(response.status, response.content_type, len(response.body), extra)
            if with_body:
                self.wfile.write(response.body)

        def _head(self, status: int, content_type: str, length: int | None, extra: dict[str, str]) -> None:
            with site._lock:
                site.responses.append((self.path, status))
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            if length is not None:
                self.send_header("Content-Length", str(length))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()

        def _stream(self, path: str, with_body: bool) -> None:
            # HTTP/1.0 without Content-Length: the body ends when the connection closes, so only
            # a client counting bytes as they arrive can stop it early.
            huge = path == HUGE_PATH
            total = site.huge_bytes if huge else site.pdf_bytes
            self._head(200, "text/html; charset=utf-8" if huge else "application/pdf", None if huge else total, {})
            chunk = (b"<p>" + b"Live update. " * 5000 + b"</p>\n") if huge else b"%PDF" + b"\0" * 65532
            sent = 0
            try:
                if huge:
                    self.wfile.write(b"<!DOCTYPE html><html><head><title>Live</title></head><body>")
                while with_body and sent < total:
                    self.wfile.write(chunk)
                    sent += len(chunk)
            except OSError:
                pass
            finally:
                with site._lock:
                    site.bytes_sent[path] = sent

        def do_GET(self) -> None:
            self._serve(with_body=True)

        def do_HEAD(self) -> None:
            self._serve(with_body=False)

        def log_message(self, format: str, *args: object) -> None:
            pass  # the request log is self.requests; stderr noise would bury test output

    return Handler


# ---- Invented stories -------------------------------------------------------------------------
# Every name, place, company and event is made up. Paragraphs are plain text; some use curly
# quotes, dashes, accents and "&" on purpose, so encoding and escaping mistakes show as diffs.


@dataclass(frozen=True)
class _Story:
    """Raw material for one FixtureArticle; dates and paths are assigned by build_articles."""

    section: str
    title: str
    authors: tuple[str, ...]
    tags: tuple[str, ...]
    caption: str
    paragraphs: tuple[str, ...]


WORLD = (
    _Story(
        section="world",
        title="Floodwaters force thousands from their homes as the Varn bursts its banks",
        authors=("Ingrid Solberg",),
        tags=("Varnholm", "Flooding", "Weather"),
        caption="Residents wade along Quay Street in Varnholm on Monday morning.",
        paragraphs=(
            "More than 6,000 people were evacuated from low-lying districts of Varnholm on Monday after the "
            "river Varn rose almost three metres overnight and spilled over flood walls that had been raised "
            "only four years ago. Emergency crews used inflatable boats to reach families trapped on upper "
            "floors along the old harbour front.",
            "The regional governor, Aldo Brenner, said the water had risen faster than any forecast had "
            "predicted. “We planned for a bad week, not for a single night like this,” he told reporters at a "
            "school gymnasium that has been turned into a shelter for about 800 people.",
            "Meteorologists said a slow-moving band of rain had dropped the equivalent of six weeks of rainfall "
            "on the hills north of the city in less than two days. Snowmelt from an unusually mild February "
            "had already left the upper reaches of the river close to capacity.",
            "Rail services between Varnholm and the coast were suspended after a section of embankment near "
            "Ostby slipped into a field, and the main road bridge was closed to all traffic while engineers "
            "inspected its piers. Officials said the closures could last until the end of the week.",
            "No deaths had been reported by Monday evening, though two people were taken to hospital with "
            "hypothermia after spending several hours on the roof of a parked van. Police urged residents not "
            "to return to their homes to collect belongings until the water had receded.",
            "Local businesses along the river began counting the cost as the first shops reopened on higher "
            "ground. Marta Lind, who runs a bookshop two streets from the quay, said the water had reached the "
            "second shelf. “Everything below knee height is gone,” she said. “We will start again, but not this month.”",
        ),
    ),
    _Story(
        section="world",
        title="Coalition talks collapse in Tarsen after a week of late-night bargaining",
        authors=("Pieter Vandermolen", "Selin Arcan"),
        tags=("Tarsen", "Elections", "Politics"),
        caption="Negotiators leave the parliament building in Aldmere after the final session.",
        paragraphs=(
            "Talks to form a new government in Tarsen broke down on Thursday after the two largest parties "
            "failed to agree on a budget framework, raising the prospect of a second general election in less "
            "than a year. The centre-right Civic Union walked out of the final session shortly before midnight.",
            "Union leader Hanne Kessel said her party could not accept proposals to raise the top rate of "
            "income tax while public spending continued to grow. “We came to compromise, not to surrender,” "
            "she said outside the parliament building in Aldmere, the capital.",
            "The Labour Alliance, which won the most seats in October but fell well short of a majority, "
            "accused its rivals of staging the walkout to avoid difficult choices. Its negotiator, Rui Falcão, "
            "said the two sides had been within a few hundred million crowns of an agreement on Wednesday.",
            "President Elsa Morgenthal is expected to meet party leaders on Monday to decide whether another "
            "candidate can be asked to try to form a government. Constitutional experts said she could also "
            "dissolve parliament, which would trigger an election within sixty days.",
            "The deadlock has already delayed the annual budget, leaving ministries operating on monthly "
            "allowances based on last year’s spending. Several mayors have warned that road repairs and school "
            "building projects will stall if a new budget is not passed before the summer.",
            "Opinion polls published this week suggest that a fresh vote would produce a parliament almost "
            "identical to the current one, with neither bloc close to the 76 seats needed to govern alone. "
            "Smaller parties have so far refused to join either side.",
            "Financial markets reacted calmly to the news. The yield on Tarsen’s ten-year government bond rose "
            "slightly on Friday morning, but analysts said investors had already expected the talks to drag "
            "on well into the spring, and that a second election would be unlikely to change the arithmetic.",
        ),
    ),
    _Story(
        section="world",
        title="Ferry link to the Isles of Mora restored after a two-year gap",
        authors=("Callum Rothery",),
        tags=("Mora", "Transport", "Islands"),
        caption="The new ferry Saltire Dawn arrives at Kirkvoe harbour on its first crossing.",
        paragraphs=(
            "A passenger and car ferry sailed from Saltcombe to the Isles of Mora on Tuesday for the first time "
            "in more than two years, ending a gap in service that islanders say cost them jobs, hospital "
            "appointments and several young families who moved to the mainland.",
            "The vessel, the Saltire Dawn, was built at a yard in the north and delivered eleven months late "
            "after problems with its hybrid engines. It can carry 180 passengers and 40 cars, roughly double "
            "the capacity of the old ferry that was withdrawn after failing a safety inspection.",
            "Several hundred people gathered on the pier at Kirkvoe to watch the ship arrive. A piper played as "
            "it docked, and children from the island’s only primary school held up a banner that read "
            "“Welcome home” in blue and yellow paint.",
            "During the gap, the islands were served by a small chartered boat that could not take vehicles "
            "and was often cancelled in rough weather. Fishermen said they had been forced to send catches by "
            "a longer route through another port, adding hours to every delivery.",
            "The regional transport authority said the new timetable would offer three return crossings a day "
            "in summer and two in winter. Fares will be frozen for the first year, and island residents will "
            "continue to receive a 50 per cent discount.",
            "Community council chair Fiona MacAllister said the return of the ferry was welcome but overdue. "
            "“People here have been patient for a very long time,” she said. “We need a second ship as a backup, "
            "so that one breakdown never again cuts us off like this.”",
        ),
    ),
    _Story(
        section="world",
        title="Restorers uncover a painted ceiling hidden for a century in Castramond town hall",
        authors=("Inès Moreau", "Tobias Hallgren"),
        tags=("Castramond", "Heritage", "Art"),
        caption="A conservator works on the newly revealed ceiling of the council chamber.",
        paragraphs=(
            "Workers renovating the town hall in Castramond have uncovered a painted ceiling that had been "
            "hidden behind a false plaster roof since the 1920s, revealing a detailed scene of the town’s "
            "medieval market that historians had known only from a single faded sketch.",
            "The painting, which covers about 90 square metres above the council chamber, was found when "
            "electricians cut an inspection hatch to replace old wiring. “I shone my torch up and saw a face "
            "looking back at me,” said electrician Paulo Serrat. “I called the foreman straight away.”",
            "Art historians believe the ceiling was painted around 1780 by a workshop from the coast, and "
            "covered over during a modernisation that also removed the chamber’s wooden panelling. Records "
            "from that period describe the decoration as “old-fashioned and gloomy” and record that it cost very little to hide.",
            "Conservators say the paint layer is in surprisingly good condition because the false ceiling "
            "protected it from smoke, light and damp. Some sections near the windows have flaked, and a long "
            "crack runs across the corner where the building settled after an earthquake in 1911.",
            "The council has agreed to pause the renovation while the ceiling is documented and stabilised, "
            "which could add six months and about 400,000 euros to the project. Mayor Lucia Ferrand said the "
            "delay was “a price worth paying for something that belongs to everyone”.",
            "The town plans to open the chamber to visitors on weekends once the work is complete, and a local "
            "school has already asked whether pupils can watch the conservators at work. A digital scan of "
            "the painting will be published online later this year.",
        ),
    ),
    _Story(
        section="world",
        title="Neighbours sign a water-sharing accord for the Orla basin",
        authors=("Selin Arcan",),
        tags=("Orla", "Water", "Diplomacy"),
        caption="Delegates shake hands after the signing ceremony in Vessa.",
        paragraphs=(
            "Three countries that share the Orla river signed an agreement on Saturday setting out how its water "
            "will be divided during droughts, after almost a decade of negotiations that at times threatened "
            "to sour relations between the upstream and downstream states.",
            "The accord, signed in the border town of Vessa, creates a joint commission with the power to "
            "order reductions in irrigation when the river’s flow falls below agreed levels. Each country will "
            "install monitoring stations that publish readings every hour.",
            "Farmers in the lower basin have long complained that dams built upstream left their fields dry in "
            "late summer. In 2023, hundreds of orchards along the delta were abandoned after the river fell to "
            "its lowest level in living memory.",
            "Negotiators said the breakthrough came when the upstream government agreed to release water from "
            "its largest reservoir during dry spells in exchange for a share of the electricity generated "
            "downstream. The details of that exchange will be reviewed every five years.",
            "Environmental groups welcomed the deal but warned that it did not set aside enough water for the "
            "wetlands at the river mouth, which are home to migrating birds. “The river is not only a pipe "
            "for farms and turbines,” said Dorota Wnuk of the Orla Delta Trust.",
            "The agreement must still be ratified by the three parliaments. Officials said they hoped the "
            "commission would hold its first meeting before the summer irrigation season begins in June, probably in the delta city of Marisca, where its small permanent staff will be based.",
        ),
    ),
)

BUSINESS = (
    _Story(
        section="business",
        title="Calder Freight to cut 400 jobs as parcel volumes slump",
        authors=("Martin Okafor",),
        tags=("Calder Freight", "Jobs", "Logistics"),
        caption="Lorries queue outside the Calder Freight depot in Halbridge.",
        paragraphs=(
            "Calder Freight said on Wednesday it would cut about 400 jobs and close two sorting depots after "
            "parcel volumes fell for a third consecutive quarter, blaming weaker online shopping and the loss "
            "of a major retail contract to a rival carrier.",
            "The company, which employs around 5,200 people, said most of the cuts would fall at its depots in "
            "Halbridge and Tenmouth, which will close by the end of September. Staff will be offered transfers "
            "to other sites where possible, it said.",
            "Chief executive Gwen Atherley said the decision was painful but necessary. “We built capacity for "
            "a boom that has not returned,” she said in a statement. “We have to match our network to the "
            "volumes our customers are actually sending.”",
            "Revenue fell 9 per cent to 612 million in the year to February, while operating profit almost "
            "halved. The company also cut its dividend and said it would sell a fleet of older vans to reduce "
            "debt taken on during an expansion three years ago.",
            "Union officials said they would fight the closures and accused management of moving work to "
            "subcontractors paid by the parcel. “This is not about falling volumes, it is about cheaper "
            "labour,” said Darren Pask, a regional organiser for the transport workers’ union.",
            "Shares in Calder Freight fell 6 per cent in morning trading. Analysts said the restructuring had "
            "been expected but that the scale of the dividend cut had surprised some investors. The company will set out further details at an investor meeting next month.",
        ),
    ),
    _Story(
        section="business",
        title="Brightwater Energy wins approval for an offshore wind farm off Kestrel Bay",
        authors=("Helena Vasquez", "Martin Okafor"),
        tags=("Brightwater Energy", "Wind power", "Kestrel Bay"),
        caption="A survey vessel off Kestrel Bay, where the turbines will be installed.",
        paragraphs=(
            "Brightwater Energy has won planning approval for a 1.2-gigawatt wind farm off Kestrel Bay, clearing "
            "the way for one of the largest infrastructure projects in the region’s history. The company said "
            "construction could begin next spring if financing is completed on time.",
            "The project will include up to 80 turbines installed about 30 kilometres from the coast, far enough "
            "that they will be barely visible from the shore on most days. A new substation will be built on "
            "former industrial land near the harbour at Ferrisport.",
            "Planning officials rejected objections from a group of fishing cooperatives, who argued that cable "
            "routes would cross some of the best scallop grounds in the bay. Brightwater agreed to reroute one "
            "cable and to fund a study of how the sea bed recovers after burial work.",
            "The company estimates the wind farm will cost about 3.4 billion to build and will create up to "
            "1,500 jobs during construction, including at a port facility where turbine blades will be "
            "assembled. About 120 permanent maintenance jobs will be based in Ferrisport.",
            "Finance director Olu Adeyemi said the company was in talks with three banks and a pension fund "
            "over a share of the cost. “The approval gives lenders the certainty they have been waiting for,” "
            "he said. “We expect to close the financing before the end of the year.”",
            "Local councillors welcomed the decision, saying the harbour had been waiting for a major employer "
            "since the closure of its last shipyard. Some residents remain worried about heavy traffic on the "
            "coast road during the construction period and have asked for a bypass around the village of Ness.",
        ),
    ),
    _Story(
        section="business",
        title="Harlow & Pike shares jump after a surprise profit upgrade",
        authors=("Helena Vasquez",),
        tags=("Harlow & Pike", "Retail", "Markets"),
        caption="Shoppers outside the Harlow & Pike flagship store on Ridley Street.",
        paragraphs=(
            "Shares in the department store group Harlow & Pike rose 14 per cent on Tuesday after it raised its "
            "profit forecast for the second time in three months, saying customers had returned to its shops "
            "in larger numbers than expected over the winter.",
            "The company now expects pre-tax profit of between 88 million and 92 million for the year, up from "
            "a previous range of 70 million to 78 million. Sales in stores open for more than a year rose 7 per "
            "cent in the ten weeks to the end of February.",
            "Chief executive Rowan Pike, a great-grandson of one of the founders, said a decision to cut the "
            "number of ranges and invest in staff training had paid off. “People want to be helped by someone "
            "who knows the product,” he said. “That is the one thing a website cannot do.”",
            "The group closed nine loss-making stores last year and refurbished its flagship on Ridley Street, "
            "adding a food hall and a repair counter for clothes and shoes. The repair service alone has "
            "handled more than 30,000 orders since it opened in October.",
            "Retail analysts cautioned that the upgrade came from a low base and that spending could weaken if "
            "interest rates stayed high. “It is a good quarter, not yet a turnaround,” said Farah Qureshi, an "
            "analyst at the broker Lennox Marsh.",
            "The company will publish full-year results in May, when it is also expected to update investors "
            "on the sale of its warehouse in Brookfield and on plans to reopen a store in the city of Amberley, which closed during a rent dispute in 2022.",
        ),
    ),
    _Story(
        section="business",
        title="Small bakeries feel the squeeze as flour prices hit a five-year high",
        authors=("Jonas Bramwell", "Aoife Kearney"),
        tags=("Food prices", "Small business", "Inflation"),
        caption="Loaves cooling at the Brannigan family bakery in Drumlane.",
        paragraphs=(
            "Independent bakeries say they are being forced to raise prices or cut opening hours after the "
            "wholesale cost of bread flour climbed to its highest level in five years, driven by a poor harvest "
            "across the main growing regions and higher transport costs.",
            "A sack of strong white flour now costs about 31 per cent more than it did a year ago, according to "
            "figures collected by the Craft Bakers’ Association. Butter and energy prices have also risen, "
            "though less sharply than during the spike two years ago.",
            "At the Brannigan family bakery in Drumlane, owner Siobhán Brannigan has raised the price of a "
            "sourdough loaf twice since Christmas. “Every customer notices,” she said. “Some of them tell us "
            "they understand, and some of them just stop coming.”",
            "The association said at least 40 of its members had closed in the past twelve months, most of them "
            "small shops in market towns. It is asking the government to extend an energy support scheme for "
            "businesses that run ovens for long hours overnight.",
            "Larger supermarket chains have so far absorbed much of the increase, buying flour on longer "
            "contracts and using their own bakeries. That has widened the gap between supermarket bread and "
            "loaves from independent shops, bakers say, and made it harder for small shops to compete on price alone.",
            "Grain traders expect prices to ease later in the year if the next harvest is normal. Until then, "
            "some bakers are experimenting with blends that use more local rye and spelt, which have been less "
            "affected by the shortage and give the bread a darker crust that regular customers seem to enjoy.",
            "“We have survived worse,” Ms Brannigan said, sliding another tray into the oven. “But every year "
            "it gets a little harder to explain to people why good bread costs what it costs. We just keep baking and hope they keep coming.”",
        ),
    ),
    _Story(
        section="business",
        title="Port Ellery’s container terminal reopens after the crane strike ends",
        authors=("Martin Okafor",),
        tags=("Port Ellery", "Shipping", "Strikes"),
        caption="Cranes at the Port Ellery container terminal resume work on Sunday.",
        paragraphs=(
            "The container terminal at Port Ellery resumed full operations on Sunday after crane operators "
            "voted to accept a new pay offer, ending an eleven-day strike that left dozens of ships waiting "
            "at anchor and disrupted deliveries to shops and factories.",
            "Members of the dockers’ union backed the deal by 312 votes to 87. It gives crane operators a pay "
            "rise of 8 per cent this year and 4 per cent next year, along with a new rota that limits the "
            "number of consecutive night shifts.",
            "Terminal operator Ellery Gateway said it would take about two weeks to clear the backlog of "
            "containers. Ships that had diverted to other ports during the strike are expected to return over "
            "the coming month as schedules settle, and that extra weekend shifts had been added to speed up the work.",
            "Manufacturers in the region said the stoppage had left them short of parts. A car components "
            "maker near Wexby halted one production line for three days because it could not get steel "
            "fittings that were sitting in containers on the quay.",
            "The strike was the longest at the port since 1998. Union negotiator Bernadette Kowal said the "
            "result showed that operators “cannot keep running the terminal on goodwill and overtime”, and "
            "that staffing would be reviewed again next year. The operator declined to comment on her remarks.",
        ),
    ),
)

SCIENCE = (
    _Story(
        section="science",
        title="Astronomers at Mirevale observatory spot a comet on an unusual path",
        authors=("Anneke Visser",),
        tags=("Astronomy", "Comets", "Mirevale"),
        caption="The comet as a faint smudge in a long-exposure image taken at Mirevale.",
        paragraphs=(
            "Astronomers at the Mirevale observatory have discovered a faint comet travelling on a steeply "
            "tilted orbit that will carry it unusually close to the Sun next winter, a path that could make it "
            "visible through binoculars for a few weeks if it survives the approach.",
            "The object was first noticed by a graduate student, Ravi Menon, who was checking images taken for "
            "a survey of asteroids. “It looked like a smudge on the sensor at first,” he said. “Then it moved "
            "between frames, and it had a tail.”",
            "Follow-up observations from two other telescopes confirmed that the comet is on an orbit inclined "
            "at almost 70 degrees to the plane in which the planets travel. Researchers think it has come from "
            "the distant cloud of icy bodies that surrounds the solar system.",
            "Comets that pass close to the Sun often break apart as their ice evaporates, and the team warned "
            "that there is no guarantee of a bright display. “Comets are famous for disappointing people,” said "
            "observatory director Dr Katrin Holm. “We will know much more by the autumn.”",
            "The discovery has been reported to the international body that names comets, and it has been given "
            "a provisional designation. If confirmed, it will be the first comet discovered at Mirevale since "
            "the observatory opened in 1962, and staff have already started a sweepstake on its eventual name.",
            "The team plans to measure the comet’s brightness every clear night over the coming months to "
            "estimate the size of its nucleus, and is inviting amateur astronomers to send in their own "
            "observations through the observatory’s website. Clear skies are forecast for much of next week.",
        ),
    ),
    _Story(
        section="science",
        title="Bees trained to detect crop blight in field trials",
        authors=("Tomasz Wielgosz", "Anneke Visser"),
        tags=("Agriculture", "Bees", "Plant disease"),
        caption="A researcher checks a hive used in the blight-detection trials near Haldersby.",
        paragraphs=(
            "Honeybees can be trained to recognise the smell of a fungal blight that attacks potato crops and "
            "to signal its presence days before leaves show any damage, according to researchers who ran "
            "trials on farms near Haldersby and on a university test site last summer.",
            "The team exposed bees to the scent of infected plants while rewarding them with sugar water, a "
            "method that has been used to train insects to detect explosives. Trained bees then spent more time "
            "hovering over infected rows than over healthy ones.",
            "Cameras fixed at the edges of the fields tracked the bees and produced maps of where they "
            "lingered. In eleven of fourteen tests, the maps pointed to blight at least four days before it "
            "was found by agronomists walking the fields.",
            "“Farmers usually spray whole fields as a precaution,” said Dr Lena Haas, who led the study. “If you "
            "know where the disease starts, you can treat a corner of the field instead of all of it, which "
            "saves money and keeps chemicals out of the soil.”",
            "Other scientists said the results were promising but that the trials were small and took place "
            "in a single, unusually dry season. Bees are also less active in wind and rain, which are the "
            "conditions in which blight tends to spread fastest.",
            "The researchers plan to repeat the trials on a larger scale this year with the help of two farming "
            "cooperatives, and to test whether bees from the same hive can be trained to detect more than one "
            "disease at a time.",
        ),
    ),
    _Story(
        section="science",
        title="Deep-sea survey finds coral gardens off the Norhaven shelf",
        authors=("Kirsten Dahl",),
        tags=("Oceans", "Coral", "Norhaven"),
        caption="Cold-water corals photographed by a remotely operated vehicle at 640 metres.",
        paragraphs=(
            "A research expedition has found extensive gardens of cold-water coral on the steep slopes at the "
            "edge of the Norhaven continental shelf, in an area that had been proposed for deep-sea trawling "
            "and had never before been surveyed with cameras.",
            "The team, working from the research vessel Aurora Keel, used a remotely operated vehicle to film "
            "the sea bed at depths of between 400 and 900 metres. The footage shows dense thickets of branching "
            "coral, sponges the size of armchairs and large numbers of fish and crabs.",
            "Chief scientist Dr Sunniva Berg said the corals grow only a few millimetres a year, meaning some of "
            "the colonies are likely to be several centuries old. “Once a trawl net passes over this, it will "
            "not come back in our lifetimes,” she said.",
            "The survey was funded by the fisheries ministry after environmental groups challenged plans to open "
            "new fishing grounds along the shelf edge. The ministry said it would consider the findings before "
            "making a final decision later this year, after a public consultation that opens in April.",
            "Representatives of the fishing industry said they supported protecting the most important sites "
            "but argued that a blanket ban would be unnecessary. They have proposed a system of closed boxes "
            "around known coral areas, with fishing allowed in between and observers carried on every vessel.",
            "The scientists have made more than 30 hours of video available to other researchers and plan to "
            "return next year to survey a second stretch of the slope further north, where sonar maps suggest even larger reefs may lie beneath strong currents.",
        ),
    ),
    _Story(
        section="science",
        title="Researchers grow drought-tolerant barley from an old seed bank",
        authors=("Tomasz Wielgosz",),
        tags=("Agriculture", "Climate", "Genetics"),
        caption="Trial plots of heritage barley at the Eskerby research station.",
        paragraphs=(
            "Plant breeders have grown a drought-tolerant strain of barley from seeds that had been stored in a "
            "national seed bank for more than seventy years, and say it could help farmers cope with longer "
            "dry spells without relying on genetic modification.",
            "The seeds came from a landrace once grown by farmers on the dry eastern plains, which disappeared "
            "from fields in the 1950s when higher-yielding modern varieties took over. Only a few hundred grams "
            "survived in cold storage at the Eskerby research station.",
            "In trials over two summers, plants grown from the old seed produced about 20 per cent less grain "
            "than modern barley when water was plentiful, but almost twice as much during a simulated drought, "
            "when irrigation was cut by two-thirds.",
            "The breeders have since crossed the landrace with a modern variety to combine its hardiness with "
            "better yields. “We are not trying to turn the clock back,” said Dr Magnus Ekholm. “We are "
            "borrowing a few good ideas from farmers who solved this problem long ago.”",
            "Brewers have also taken an interest. A small brewery in Fennick has made a test batch of beer from "
            "the first harvest and says the grain gives a slightly nutty flavour that customers have liked. It plans to brew a larger batch this autumn.",
            "The research station hopes to release seed of the new cross to farmers within four years, once it "
            "has completed the official trials needed before any new variety can be sold. Two seed companies have already asked for samples of the new cross.",
        ),
    ),
    _Story(
        section="science",
        title="Drones measure a fast retreat of glaciers in the Aster range",
        authors=("Kirsten Dahl", "Anneke Visser"),
        tags=("Glaciers", "Climate", "Drones"),
        caption="A survey drone over the snout of the Hallvard glacier in the Aster range.",
        paragraphs=(
            "Glaciers in the Aster mountains lost ice at almost twice the previous estimated rate over the past "
            "five years, according to a study that used drones to map the surface of eighteen glaciers in far "
            "greater detail than satellite images allow.",
            "Researchers from the university of Lindquist flew the drones every autumn since 2021, building "
            "three-dimensional models accurate to a few centimetres. Comparing the models showed that the "
            "largest glacier, the Hallvard, thinned by an average of 2.3 metres a year.",
            "Earlier estimates based on satellite data had suggested a loss of about 1.2 metres a year. The "
            "team said the difference was largely explained by steep, shaded areas near the glacier edges that "
            "satellites struggle to measure, and by the coarse resolution of older elevation maps.",
            "Lead author Dr Oskar Lindgren said the findings mattered for towns in the valleys below, which rely "
            "on meltwater for drinking water and hydroelectric power. “The glaciers are a savings account, and "
            "we are spending it faster than we thought,” he said.",
            "The study also found that two small glaciers on south-facing slopes have effectively stopped "
            "moving and are now classed as stagnant ice. Researchers expect them to disappear entirely within "
            "the next two decades, leaving bare rock where skiers crossed ice within living memory.",
            "The team plans to install weather stations on three of the glaciers this summer to understand how "
            "much of the melting is caused by warmer air and how much by dust and soot darkening the ice. The results are expected to be published next year.",
        ),
    ),
)

# Interleaved so consecutive publication dates rotate through the sections.
_STORIES: tuple[_Story, ...] = tuple(s for trio in zip(WORLD, BUSINESS, SCIENCE, strict=True) for s in trio)
