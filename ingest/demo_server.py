"""Serve the bundled demo newspaper (ingest/demo_site) on 127.0.0.1 for `newsingest demo` (and, with
`--serve`, for crawls the user starts; demo_config is the config that points at it).

The site is static package data read through importlib.resources, so it works from a wheel.
Feeds, sitemaps and page metadata need absolute URLs but the port is only known at run time:
those files say `{{BASE_URL}}` and this server substitutes it in every text file it sends.

Touches only a loopback socket it binds itself (any free port unless given one) and one daemon thread; reads nothing
but the package's own demo_site files, writes nothing.
"""

from __future__ import annotations

import posixpath
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from importlib.resources.abc import Traversable
from urllib.parse import unquote, urlsplit

from ingest.config import Source

BASE_URL_PLACEHOLDER = "{{BASE_URL}}"

_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".css": "text/css; charset=utf-8",
}
# feed.xml is RSS; saying so lets feed detection work from the header as on real sites.
_SPECIAL_TYPES = {"/feed.xml": "application/rss+xml; charset=utf-8"}
_TEXT_SUFFIXES = (".html", ".xml", ".txt", ".svg", ".css")


def site_root() -> Traversable:
    return files("ingest") / "demo_site"


@dataclass(frozen=True)
class _Reply:
    status: int
    content_type: str
    body: bytes


def _resolve(root: Traversable, url_path: str) -> tuple[Traversable, str] | None:
    """Map a URL path to a file under root; None for anything outside it or missing."""
    path = posixpath.normpath(unquote(url_path))
    if url_path.endswith("/"):
        path = posixpath.join(path, "index.html")
    parts = [p for p in path.split("/") if p]
    if any(p in ("..", ".") or p.startswith(".") for p in parts):
        return None
    node = root
    for part in parts:
        node = node.joinpath(part)
    if not node.is_file():
        return None
    return node, "/" + "/".join(parts)


def _reply(root: Traversable, raw_path: str, base_url: str) -> _Reply:
    url_path = urlsplit(raw_path).path or "/"
    found = _resolve(root, url_path)
    if found is None:
        return _Reply(404, "text/html; charset=utf-8",
                      b"<!doctype html><title>Not found</title><h1>Page not found</h1>")
    node, file_path = found
    suffix = posixpath.splitext(file_path)[1]
    content_type = _SPECIAL_TYPES.get(file_path) or _CONTENT_TYPES.get(suffix, "application/octet-stream")
    body = node.read_bytes()
    if suffix in _TEXT_SUFFIXES:
        body = body.replace(BASE_URL_PLACEHOLDER.encode(), base_url.encode())
    return _Reply(200, content_type, body)


def demo_source(base_url: str) -> Source:
    """The demo site as a source: its homepage and its feed; on loopback, so private hosts allowed."""
    return Source(name="demo", start_urls=(base_url + "/",), feeds=(base_url + "/feed.xml",), max_pages=100,
                  allow_private_hosts=True)


def demo_config(base_url: str) -> str:
    """newsingest.toml text that crawls the demo site served at base_url (`newsingest demo --serve`)."""
    source = demo_source(base_url)
    return (
        "# The demo site is on this machine and ours: no politeness delay needed.\n"
        "[crawl]\ndownload_delay = 0\nautothrottle = false\n\n"
        f"[[sources]]\nname = \"{source.name}\"\n"
        f"start_urls = [\"{source.start_urls[0]}\"]\nfeeds = [\"{source.feeds[0]}\"]\n"
        f"max_pages = {source.max_pages}\nallow_private_hosts = true\n"
    )


class DemoServer:
    """`with DemoServer() as server: crawl(server.base_url + "/")`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.host = host
        self.port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._base_url: str | None = None

    @property
    def base_url(self) -> str:
        # Still answers after stop(): callers report where the demo ran once it is over.
        if self._base_url is None:
            raise RuntimeError("DemoServer not started")
        return self._base_url

    def start(self) -> DemoServer:
        if self._server is not None:
            raise RuntimeError("DemoServer already started")
        self._server = ThreadingHTTPServer((self.host, self.port), _make_handler(self, site_root()))
        self._base_url = f"http://{self.host}:{self._server.server_address[1]}"
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="demo-site", daemon=True)
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

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _make_handler(demo: DemoServer, root: Traversable) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "demo-site"
        sys_version = ""

        def _serve(self, with_body: bool) -> None:
            reply = _reply(root, self.path, demo.base_url)
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if with_body:
                self.wfile.write(reply.body)

        def do_GET(self) -> None:
            self._serve(with_body=True)

        def do_HEAD(self) -> None:
            self._serve(with_body=False)

        def log_message(self, format: str, *args: object) -> None:
            pass  # the demo prints its own summary; per-request lines on stderr would drown it

    return Handler
