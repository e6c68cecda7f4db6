"""A local news site for the benchmarks: the corpus pages under many URLs, with feeds and sitemaps.

Used by bench/memory.py and bench/end_to_end.py; serves from a thread of the calling process, on
127.0.0.1 and a free port. /a/<n>/ (n < pages) is corpus page n mod 258 (files in name order), made
into an article of its own:

- its rel=canonical and og:url name its own URL (added when the page has none), as a site's own
  pages do; the loader would otherwise key it on the fetched URL anyway, since the original canonical
  points to another site;
- a numbered credit line ("Additional reporting by correspondent no. <n> ...") is appended to a body
  paragraph (the middle one of the <p> elements whose text opens a paragraph of the corpus' expected
  body), so the copy's text, content hash and Simhash differ from every other copy's. Copies of one
  corpus page stay a few Simhash bits apart: the loader stores each as a new article and puts them in
  one near-duplicate cluster. Where the page has no such <p> (script-rendered bodies), or an extractor
  drops that paragraph, the copies' texts are equal and the loader stores them as exact copies
  (`duplicate_of` set).

Discovery documents, generated from `pages` at each request (a caller may shrink the site):
/robots.txt (allows everything, announces the sitemap index), /sitemap_index.xml (one sitemap per
1,000 articles, /sitemaps/<k>.xml, entries with lastmod), /feeds/<section>.xml (RSS 2.0: the newest
FEED_ITEMS articles of each of SECTIONS sections, article n being in section n mod SECTIONS), and
/sitemap.xml (one flat urlset of every article, without lastmod, as bench/memory.py has always
used). Article n is dated n minutes after a fixed start, so the highest numbers are the newest.
"""

from __future__ import annotations

import gzip
import html
import json
import re
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

SECTIONS = ("politics", "world", "business", "technology", "science", "culture", "sport", "opinion")
FEED_ITEMS = 100
SITEMAP_SIZE = 1000
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)

_URL = b"\x00URL\x00"
_NOTE = b"\x00NOTE\x00"
_CANONICAL = re.compile(r"""<link\b[^>]*\brel\s*=\s*["']?canonical\b[^>]*>""", re.IGNORECASE)
_OG_URL = re.compile(r"""<meta\b[^>]*\bproperty\s*=\s*["']og:url["'][^>]*>""", re.IGNORECASE)
_HEAD_END = re.compile(r"</head\s*>", re.IGNORECASE)
_PARAGRAPH = re.compile(r"<p\b[^>]*>(.*?)</p\s*>", re.IGNORECASE | re.DOTALL)
_SCRIPT = re.compile(r"<script\b.*?</script\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def _plain(fragment: str) -> str:
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", fragment))).strip()


def _template(page: str, expected_body: str | None) -> tuple[bytes, bool]:
    """The page with markers where its own URL and its credit line go; and whether the line has a place."""
    url_tags = f'<link rel="canonical" href="{_URL.decode()}">'
    page, found = _CANONICAL.subn(url_tags, page, count=1)
    if not found:
        page = _HEAD_END.sub(lambda m: url_tags + m.group(0), page, count=1)
    page = _OG_URL.sub(f'<meta property="og:url" content="{_URL.decode()}">', page, count=1)
    if expected_body:
        body = _plain(expected_body)
        # Script bodies (JSON-LD articleBody, app state) hold the same text; only real markup counts.
        scripts = [m.span() for m in _SCRIPT.finditer(page)]
        inside = [m for m in _PARAGRAPH.finditer(page)
                  if not any(start <= m.start() < end for start, end in scripts)
                  and len(text := _plain(m.group(1))) >= 60 and text[:40] in body]
        if inside:
            # A middle paragraph: leads, standfirsts and closing credits are where extractors differ.
            cut = inside[len(inside) // 2].end(1)
            return (page[:cut] + _NOTE.decode() + page[cut:]).encode(), True
    return page.encode(), False


class CorpusSite:
    """Serves the site until stop(). `served` counts article pages served; `varied` how many of the
    corpus pages carry the numbered credit line (the others' copies are exact copies)."""

    def __init__(self, corpus: Path, pages: int):
        expected = {}
        index = corpus / "expected.jsonl"
        if index.exists():
            for line in index.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    record = json.loads(line)
                    expected[record["file"]] = record
        self.templates: list[bytes] = []
        self.titles: list[str] = []
        self.varied = 0
        for path in sorted(corpus.glob("*.html.gz")):
            record = expected.get(path.name, {})
            template, varied = _template(gzip.decompress(path.read_bytes()).decode("utf-8", "replace"),
                                         record.get("body"))
            self.templates.append(template)
            self.titles.append(record.get("title") or path.name.removesuffix(".html.gz"))
            self.varied += varied
        self.pages = pages
        self.served = 0
        self._lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                path = self.path.split("?", 1)[0]
                routed = site.route(path)
                if routed is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                body, kind = routed
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    # ------------------------------------------------------------------ content

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def article_url(self, n: int) -> str:
        return self.url(f"/a/{n}/")

    def feed_urls(self) -> list[str]:
        return [self.url(f"/feeds/{name}.xml") for name in SECTIONS]

    def article(self, n: int) -> bytes:
        """The HTML of /a/<n>/, as served."""
        template = self.templates[n % len(self.templates)]
        # No "updated on" wording: extractors rightly drop such lines as page furniture.
        note = f" Additional reporting by correspondent no. {n} (reference {n:06d})."
        return template.replace(_URL, self.article_url(n).encode()).replace(_NOTE, note.encode())

    def route(self, path: str) -> tuple[bytes, str] | None:
        xml = "application/xml"
        if path.startswith("/a/") and path.endswith("/") and path[3:-1].isdigit() and int(path[3:-1]) < self.pages:
            with self._lock:
                self.served += 1
            return self.article(int(path[3:-1])), "text/html; charset=utf-8"
        if path == "/robots.txt":
            return f"User-agent: *\nAllow: /\nSitemap: {self.url('/sitemap_index.xml')}\n".encode(), "text/plain"
        if path == "/sitemap.xml":
            return self._urlset(range(self.pages), lastmod=False), xml
        if path == "/sitemap_index.xml":
            count = -(-self.pages // SITEMAP_SIZE)
            entries = "".join(
                f"<sitemap><loc>{self.url(f'/sitemaps/{k}.xml')}</loc>"
                f"<lastmod>{_w3c(min(self.pages, (k + 1) * SITEMAP_SIZE) - 1)}</lastmod></sitemap>"
                for k in range(count))
            return (f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/'
                    f'sitemap/0.9">{entries}</sitemapindex>').encode(), xml
        if path.startswith("/sitemaps/") and path.endswith(".xml") and path[10:-4].isdigit():
            k = int(path[10:-4])
            if k * SITEMAP_SIZE >= self.pages:
                return None
            return self._urlset(range(k * SITEMAP_SIZE, min(self.pages, (k + 1) * SITEMAP_SIZE))), xml
        if path.startswith("/feeds/") and path.endswith(".xml") and path[7:-4] in SECTIONS:
            return self._feed(SECTIONS.index(path[7:-4])), "application/rss+xml"
        return None

    def _urlset(self, numbers: range, lastmod: bool = True) -> bytes:
        entries = "".join(f"<url><loc>{self.article_url(n)}</loc>"
                          + (f"<lastmod>{_w3c(n)}</lastmod>" if lastmod else "") + "</url>" for n in numbers)
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f"{entries}</urlset>").encode()

    def _feed(self, section: int) -> bytes:
        newest = [n for n in range(self.pages - 1, -1, -1) if n % len(SECTIONS) == section][:FEED_ITEMS]
        items = "".join(
            f"<item><title>{escape(self.titles[n % len(self.titles)])}</title><link>{self.article_url(n)}</link>"
            f"<guid>{self.article_url(n)}</guid><pubDate>{_rfc822(n)}</pubDate></item>" for n in newest)
        name = SECTIONS[section]
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>Bench {name}</title>'
                f"<link>{self.url('/')}</link><description>Newest {name} articles</description>{items}"
                "</channel></rss>").encode()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _w3c(n: int) -> str:
    return (EPOCH + timedelta(minutes=n)).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _rfc822(n: int) -> str:
    return (EPOCH + timedelta(minutes=n)).strftime("%a, %d %b %Y %H:%M:%S +0000")
