"""Decoding an HTML page's bytes as a browser does, where Scrapy's decoding (w3lib) does not.

The HTML standard's prescan reads a <meta charset> declaring UTF-16 as UTF-8 (bytes that spell out
an ASCII <meta> cannot be UTF-16), and UTF-32 is no encoding of the web at all; w3lib believes both, so
such a page, UTF-8 in fact, became garbage. `BrowserCharset` (a downloader middleware) fixes the
crawl's responses; `html_text` does the same for bytes read from a file or the archive.
Pure functions and a response filter: touches nothing.
"""

from __future__ import annotations

import codecs

from scrapy.http import HtmlResponse
from w3lib.encoding import html_body_declared_encoding, html_to_unicode, http_content_type_encoding, read_bom

# Encodings a <meta> may not choose: the prescan falls back to UTF-8 for them.
_NOT_FROM_META = ("utf-16", "utf-32")


def meta_overruled(body: bytes, content_type: str | None) -> bool:
    """True when the page's only charset declaration is a <meta> a browser overrules with UTF-8: no
    byte order mark, no charset in the Content-Type, a <meta> declaring UTF-16 or UTF-32."""
    if read_bom(body)[0] or http_content_type_encoding(content_type):
        return False
    declared = html_body_declared_encoding(body)
    if not declared:
        return False
    try:
        name = codecs.lookup(declared).name
    except LookupError:
        return False
    return name.startswith(_NOT_FROM_META)


def html_text(body: bytes, content_type: str | None = None) -> str:
    """The page's text: BOM, else the Content-Type's charset, else its <meta> (as a browser reads it),
    else UTF-8."""
    if meta_overruled(body, content_type):
        content_type = "text/html; charset=utf-8"
    return html_to_unicode(content_type, body)[1]


class BrowserCharset:
    """Downloader middleware: an HTML response whose <meta> a browser overrules is decoded as UTF-8."""

    @classmethod
    def from_crawler(cls, crawler):
        return cls()  # no settings: the HTML standard's rule is not configurable

    def process_response(self, request, response):
        if isinstance(response, HtmlResponse):
            content_type = response.headers.get("Content-Type")
            if meta_overruled(response.body, content_type.decode("latin-1") if content_type else None):
                return response.replace(encoding="utf-8")
        return response
