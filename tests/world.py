"""A small world of local news sites, one per way a crawler can find articles from a homepage.

Each `WorldSite` serves its own stories on its own 127.0.0.x address and exposes them in one discovery
style only, so a test (or bench) seeded with nothing but the homepages can tell which style a crawler
misses:

- ``rss_link``: the homepage links two stories and names its RSS feed only in ``<link rel="alternate">``.
- ``atom_section``: the homepage links one section page; that page names an Atom feed (with ``<updated>``)
  only in ``<link rel="alternate">`` and links two stories.
- ``default_port``: served on port 80; robots.txt and the sitemap spell every URL with an explicit ``:80``
  while the homepage links the same pages without it. Binding port 80 needs root (`PORT_80_NOTE`).
- ``amp``: the homepage links only the AMP versions of the stories (``<html amp>``, canonical to the story).
- ``sections``: the homepage links sections whose archives are paginated with ``rel="next"``.

Story pages never link to other stories, so a story is found through its site's style or not at all.
A site can hold pages that answer slowly (`slow`), and `correct()` edits a story in place the way a
newsroom does: new text, a later ``dateModified``, and the feed or sitemap saying so. Listing pages send
an ETag and answer conditional requests with 304, as real CMSs do.

`World` runs them together: `World.start()` puts one site of each style on 127.0.0.21 and up, `crawl(name)`
runs ``newsingest crawl`` as a user would, and `stored(site)` reads what reached the database.

Touches the loopback sockets it binds, one daemon thread per site, the config and data directory it is
given, and (reading only) the database it is given. Offsite links point at the reserved ``.invalid`` TLD.
"""

from __future__ import annotations

import errno
import hashlib
import html
import json
import os
import random
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

STYLES = ("rss_link", "atom_section", "default_port", "amp", "sections")
STORIES_PER_SITE = 12
SECTION_PAGE_SIZE = 3
PORT_80_NOTE = "binding port 80 needs root; the default_port site cannot run here"
ABOUT = ("<h1>About us</h1><p>We are a small newsroom. Write to the editor at the address below; we read "
         "every letter.</p>")
_FIRST = datetime(2026, 11, 20, 7, 15, tzinfo=UTC)

_TOWNS = ("Harwick", "Lowmoor", "Ashby Cross", "Fennel Bay", "Stoneleigh", "Marrow End", "Kettlebridge",
          "Oakhurst", "Pellingford", "Wrenfield", "Dunmere", "Calder Rise")
_SUBJECTS = ("the county council", "the harbour trust", "the regional water board", "local shopkeepers",
             "the hospital's governors", "a group of residents", "the rail operator", "the school's head teacher",
             "the fire service", "volunteers from the rowing club", "the planning committee", "the bus company")
_THINGS = ("a new footbridge", "the winter timetable", "repairs to the sea wall", "a community orchard",
           "the library's late opening", "a cycle path along the canal", "the reopened cinema", "flood barriers",
           "a youth football league", "the farmers' market", "solar panels on the town hall", "a night bus")
_VERBS = ("approved", "questioned", "delayed", "welcomed", "paid for", "put forward", "voted against",
          "agreed to review", "set aside money for", "asked for more details on")
_WHEN = ("on Tuesday evening", "after a long meeting", "earlier this week", "at the weekend", "on Monday",
         "before the end of the month", "late on Thursday", "this morning")
_QUOTES = ("We have waited years for this and people deserve a clear answer",
           "Nobody here wants to see the work stop halfway through the winter",
           "The numbers only add up if the county keeps its side of the bargain",
           "It is a small change, but it makes a real difference to families on the estate",
           "We listened to every objection and we changed the plan because of them",
           "The town has been patient, and now it needs to see the diggers arrive")
_NAMES = ("Mara Ellison", "Tom Okafor", "Priya Raman", "Lewis Hartley", "Ines Duarte", "Sam Whitcombe",
          "Hannah Brook", "Yusuf Kaya", "Clare Donnelly", "Ollie Pemberton")


@dataclass(frozen=True)
class Story:
    slug: str
    path: str  # the canonical path
    title: str
    author: str
    published_at: datetime
    modified_at: datetime
    paragraphs: tuple[str, ...]
    section: str

    @property
    def summary(self) -> str:
        return self.paragraphs[0]


def _sentence(rng: random.Random, town: str) -> str:
    return (f"In {town}, {rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_THINGS)} "
            f"{rng.choice(_WHEN)}, and {rng.choice(_SUBJECTS)} said {rng.randint(3, 97)} people "
            f"had written in about {rng.choice(_THINGS)}.")


def _paragraph(rng: random.Random, town: str) -> str:
    sentences = [_sentence(rng, town) for _ in range(rng.randint(2, 3))]
    if rng.random() < 0.5:
        sentences.append(f"\u201c{rng.choice(_QUOTES)},\u201d said {rng.choice(_NAMES)}, who lives in {town}.")
    return " ".join(sentences)


def make_stories(site_name: str, n: int = STORIES_PER_SITE) -> list[Story]:
    """n distinct invented stories for one site, oldest first; the same for the same site name."""
    rng = random.Random(hashlib.sha256(site_name.encode()).digest())
    stories = []
    for i in range(n):
        town = _TOWNS[(i + len(site_name)) % len(_TOWNS)]
        thing = rng.choice(_THINGS)
        title = f"{town} {rng.choice(('backs', 'rethinks', 'waits on', 'celebrates', 'argues over'))} {thing}"
        slug = f"{site_name.replace('_', '-')}-{i:02d}-" + "-".join(title.lower().replace("'", "").split())
        published = _FIRST + timedelta(hours=5 * i, minutes=(i * 17) % 60)
        section = ("local", "politics")[i % 2]
        stories.append(Story(
            slug=slug, path=f"/{published:%Y/%m/%d}/{slug}/", title=title.capitalize(),
            author=_NAMES[i % len(_NAMES)], published_at=published, modified_at=published,
            paragraphs=tuple(_paragraph(rng, town) for _ in range(5)), section=section,
        ))
    return stories


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    time: float  # wall clock (time.time()), to set beside the database's crawl run times

    @property
    def bare_path(self) -> str:
        return urlsplit(self.path).path


@dataclass
class WorldSite:
    """One site of the world. `with WorldSite(...) as site:` or `site.start()` … `site.stop()`."""

    name: str
    style: str
    host: str
    port: int = 0
    stories: list[Story] = field(default_factory=list)
    slow: dict[str, float] = field(default_factory=dict)  # path -> seconds before answering
    requests: list[Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.style not in STYLES:
            raise ValueError(f"style must be one of {STYLES}, not {self.style!r}")
        if not self.stories:
            self.stories = make_stories(self.name)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # ---- lifecycle

    def start(self) -> WorldSite:
        self._server = _Server((self.host, self.port), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"world-{self.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> WorldSite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "site not started"
        port = self._server.server_address[1]
        return f"http://{self.host}" if port == 80 else f"http://{self.host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def spelled_with_port(self, path: str) -> str:
        """The same URL as url(path), with the default port written out as some sitemaps do."""
        return f"http://{self.host}:80{path}" if self.base_url == f"http://{self.host}" else self.url(path)

    # ---- ground truth and edits

    def story_urls(self) -> list[str]:
        return [self.url(s.path) for s in self.stories]

    def story_at(self, path: str) -> Story | None:
        return next((s for s in self.stories if s.path == path), None)

    def correct(self, index: int, at: datetime | None = None) -> Story:
        """Correct story `index` in place: its first and last paragraphs change, and everything the site
        publishes about it (page dateModified, feed <updated>, sitemap lastmod, listing ETags) moves."""
        with self._lock:
            old = self.stories[index]
            at = at or datetime.now(UTC).replace(microsecond=0)
            first = "Correction: " + old.paragraphs[0].replace(" said ", " told reporters ", 1)
            last = old.paragraphs[-1] + " An earlier version of this story gave the wrong date for the vote."
            new = replace(old, paragraphs=(first, *old.paragraphs[1:-1], last), modified_at=at)
            self.stories = [new if s.path == old.path else s for s in self.stories]
        return new

    def requests_to(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.bare_path == path]

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    def _record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def _snapshot(self) -> list[Story]:
        with self._lock:
            return list(self.stories)

    # ---- pages

    def respond(self, path: str) -> tuple[int, str, bytes, bool]:
        """(status, content type, body, is a listing) for a path."""
        stories = self._snapshot()
        newest = sorted(stories, key=lambda s: s.published_at, reverse=True)
        by_path = {s.path: s for s in stories}
        html_type = "text/html; charset=utf-8"
        if path == "/":
            return 200, html_type, self._homepage(newest).encode(), True
        if path == "/robots.txt":
            return 200, "text/plain; charset=utf-8", self._robots().encode(), False
        if path == "/about-us/":
            return 200, html_type, self._page("About us", "website", self.url(path), ABOUT).encode(), False
        if path in by_path:
            return 200, html_type, self._story_page(by_path[path]).encode(), False
        if self.style == "rss_link" and path == "/feed/":
            return 200, "application/rss+xml; charset=utf-8", self._rss(newest).encode(), True
        if self.style == "atom_section":
            if path == "/news/":
                return 200, html_type, self._section_page("News", "/news/", newest[:2], atom=True).encode(), True
            if path == "/news/feed.atom":
                return 200, "application/atom+xml; charset=utf-8", self._atom(newest).encode(), True
        if self.style == "default_port" and path == "/sitemap.xml":
            return 200, "application/xml; charset=utf-8", self._sitemap(newest).encode(), True
        if self.style == "amp" and path.startswith("/amp/"):
            story = by_path.get(path[len("/amp"):])
            if story is not None:
                return 200, html_type, self._amp_page(story).encode(), False
        if self.style == "sections":
            for name in ("local", "politics"):
                prefix = f"/section/{name}/"
                if path == prefix or (path.startswith(prefix + "page/") and path.rstrip("/").split("/")[-1].isdigit()):
                    page = 1 if path == prefix else int(path.rstrip("/").split("/")[-1])
                    in_section = [s for s in newest if s.section == name]
                    pages = max(1, -(-len(in_section) // SECTION_PAGE_SIZE))
                    if 1 <= page <= pages:
                        chunk = in_section[(page - 1) * SECTION_PAGE_SIZE: page * SECTION_PAGE_SIZE]
                        return 200, html_type, self._section_page(
                            name.capitalize(), prefix, chunk, page=page, pages=pages).encode(), True
        return 404, html_type, self._page("Page not found", "website", self.url(path),
                                          "<h1>Page not found</h1><p>Sorry, nothing here.</p>").encode(), False

    def _page(self, title: str, og_type: str, canonical: str, body: str, head: str = "", amp: bool = False) -> str:
        return f"""<!DOCTYPE html>
<html lang="en"{' amp' if amp else ''}>
<head>
<meta charset="utf-8">
<title>{html.escape(title)} | {html.escape(self.name.replace('_', ' ').title())} Gazette</title>
<link rel="canonical" href="{html.escape(canonical)}">
<meta property="og:type" content="{og_type}">
<meta property="og:title" content="{html.escape(title)}">
{head}
</head>
<body>
<header><a href="/">{html.escape(self.name.replace('_', ' ').title())} Gazette</a>
<nav><a href="/about-us/">About us</a> <a href="https://www.advertising-partner.invalid/">Advertise</a></nav></header>
<main>
{body}
</main>
<footer><p>&copy; 2026 {html.escape(self.name.replace('_', ' ').title())} Gazette. All rights reserved.</p></footer>
</body>
</html>
"""

    def _teasers(self, stories: list[Story], prefix: str = "") -> str:
        return "\n".join(
            f'<article class="teaser"><h2><a href="{prefix}{s.path}">{html.escape(s.title)}</a></h2>'
            f'<p>{html.escape(s.summary[:90].rsplit(" ", 1)[0])}…</p></article>'
            for s in stories
        )

    def _homepage(self, newest: list[Story]) -> str:
        head = ""
        if self.style == "rss_link":
            head = '<link rel="alternate" type="application/rss+xml" title="Latest news" href="/feed/">'
            body = self._teasers(newest[:2])
        elif self.style == "atom_section":
            body = '<p><a href="/news/">All the news</a></p>'
        elif self.style == "default_port":
            body = self._teasers(newest[: len(newest) // 2])
        elif self.style == "amp":
            body = self._teasers(newest, prefix="/amp")
        else:
            body = ('<ul><li><a href="/section/local/">Local</a></li>'
                    '<li><a href="/section/politics/">Politics</a></li></ul>')
        return self._page("Front page", "website", self.url("/"), f"<h1>Latest</h1>\n{body}", head)

    def _section_page(self, label: str, prefix: str, stories: list[Story], page: int = 1, pages: int = 1,
                      atom: bool = False) -> str:
        head = ""
        if atom:
            head += f'<link rel="alternate" type="application/atom+xml" href="{prefix}feed.atom">'
        nav = ""
        if page < pages:
            head += f'\n<link rel="next" href="{prefix}page/{page + 1}/">'
            nav = f'<a rel="next" href="{prefix}page/{page + 1}/">Older stories</a>'
        canonical = self.url(prefix if page == 1 else f"{prefix}page/{page}/")
        return self._page(f"{label} news", "website", canonical,
                          f"<h1>{html.escape(label)}</h1>\n{self._teasers(stories)}\n<nav>{nav}</nav>", head)

    def _story_head(self, s: Story) -> str:
        ld = {
            "@context": "https://schema.org", "@type": "NewsArticle", "headline": s.title,
            "datePublished": s.published_at.isoformat(), "dateModified": s.modified_at.isoformat(),
            "author": [{"@type": "Person", "name": s.author}], "mainEntityOfPage": self.url(s.path),
        }
        return (f'<meta name="author" content="{html.escape(s.author)}">\n'
                f'<meta property="article:published_time" content="{s.published_at.isoformat()}">\n'
                f'<meta property="article:modified_time" content="{s.modified_at.isoformat()}">\n'
                f'<script type="application/ld+json">{json.dumps(ld)}</script>')

    def _story_body(self, s: Story) -> str:
        paragraphs = "\n".join(f"<p>{html.escape(p)}</p>" for p in s.paragraphs)
        return (f'<article><h1>{html.escape(s.title)}</h1>\n<p class="byline">By {html.escape(s.author)}, '
                f'<time datetime="{s.published_at.isoformat()}">{s.published_at:%d %B %Y}</time></p>\n'
                f'<div class="article-body">\n{paragraphs}\n</div></article>')

    def _story_page(self, s: Story) -> str:
        head = self._story_head(s)
        if self.style == "amp":
            head += f'\n<link rel="amphtml" href="{self.url("/amp" + s.path)}">'
        return self._page(s.title, "article", self.url(s.path), self._story_body(s), head)

    def _amp_page(self, s: Story) -> str:
        return self._page(s.title, "article", self.url(s.path), self._story_body(s), self._story_head(s), amp=True)

    def _robots(self) -> str:
        lines = ["User-agent: *", "Disallow: /drafts/"]
        if self.style == "default_port":
            lines += ["", f"Sitemap: {self.spelled_with_port('/sitemap.xml')}"]
        return "\n".join(lines) + "\n"

    def _rss(self, newest: list[Story]) -> str:
        items = "\n".join(
            f"<item><title>{html.escape(s.title)}</title><link>{self.url(s.path)}</link>"
            f"<pubDate>{format_datetime(s.published_at)}</pubDate>"
            f"<description>{html.escape(s.summary)}</description></item>"
            for s in newest
        )
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>{self.name}</title>'
                f"<link>{self.url('/')}</link><description>Latest</description>\n{items}\n</channel></rss>\n")

    def _atom(self, newest: list[Story]) -> str:
        entries = "\n".join(
            f'<entry><title>{html.escape(s.title)}</title><link rel="alternate" href="{self.url(s.path)}"/>'
            f"<id>{self.url(s.path)}</id><published>{s.published_at.isoformat()}</published>"
            f"<updated>{s.modified_at.isoformat()}</updated><summary>{html.escape(s.summary)}</summary></entry>"
            for s in newest
        )
        updated = max(s.modified_at for s in newest).isoformat()
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
                f"<title>{self.name}</title><id>{self.url('/news/feed.atom')}</id><updated>{updated}</updated>\n"
                f"{entries}\n</feed>\n")

    def _sitemap(self, newest: list[Story]) -> str:
        urls = "\n".join(
            f"<url><loc>{self.spelled_with_port(s.path)}</loc><lastmod>{s.modified_at.isoformat()}</lastmod></url>"
            for s in newest
        )
        return ('<?xml version="1.0" encoding="UTF-8"?>\n'
                f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{urls}\n</urlset>\n')


class _Server(ThreadingHTTPServer):
    allow_reuse_address = True

    def handle_error(self, request, client_address) -> None:
        pass  # a crawler hanging up mid-response (timeout, stop) is not a site error


def _handler(site: WorldSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "nginx"
        sys_version = ""

        def do_GET(self) -> None:
            self._serve(with_body=True)

        def do_HEAD(self) -> None:
            self._serve(with_body=False)

        def log_message(self, *args: object) -> None:
            pass

        def _serve(self, with_body: bool) -> None:
            site._record(Request(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                                 time.time()))
            path = urlsplit(self.path).path
            delay = site.slow.get(path)
            if delay:
                site._stopping.wait(delay)
            status, content_type, body, listing = site.respond(path)
            headers = {"Content-Type": content_type}
            if listing and status == 200:
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                headers["ETag"] = etag
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if with_body:
                self.wfile.write(body)

    return Handler


FIRST_HOST = 21  # 127.0.0.21 … one address per site


@dataclass
class World:
    """One site per style (the default_port one only where port 80 can be bound), one source per site."""

    sites: dict[str, WorldSite]
    database_url: str
    data_dir: Path
    config: Path | None = None

    @classmethod
    def start(cls, database_url: str, data_dir: Path) -> World:
        sites = {}
        for i, style in enumerate(STYLES):
            try:
                sites[style] = WorldSite(name=style, style=style, host=f"127.0.0.{FIRST_HOST + i}",
                                         port=80 if style == "default_port" else 0).start()
            except OSError as exc:
                if exc.errno not in (errno.EACCES, errno.EADDRINUSE):
                    raise
        return cls(sites, database_url, data_dir)

    def stop(self) -> None:
        for site in self.sites.values():
            site.stop()

    def sources_toml(self, max_pages: int = 100, interval: float | None = None) -> str:
        """One [[sources]] table per site, seeded with its homepage only."""
        every = f'interval = "{interval:g}s"\n' if interval else ""
        return "".join(f'[[sources]]\nname = "{site.name}"\nstart_urls = ["{site.url("/")}"]\n'
                       f"max_pages = {max_pages}\n{every}\n" for site in self.sites.values())

    def crawl(self, name: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """`newsingest crawl NAME` as a process, loading into the world's database."""
        assert self.config is not None, "write a config first"
        env = {**os.environ, "DATABASE_URL": self.database_url, "NEWSINGEST_DATA_DIR": str(self.data_dir),
               "NEWSINGEST_CONFIG": ""}
        return subprocess.run(
            [sys.executable, "-m", "ingest.cli", "--log-format", "json", "--config", str(self.config), "crawl", name],
            capture_output=True, text=True, env=env, timeout=timeout,
        )

    def stored(self, site: WorldSite) -> dict[str, str]:
        """canonical URL -> text of the site's articles in the database."""
        with psycopg.connect(self.database_url) as conn:
            rows = conn.execute("SELECT canonical_url, text FROM articles WHERE source = %s", (site.name,)).fetchall()
        return dict(rows)
