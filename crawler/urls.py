"""One identity for a URL in a crawl: the spider's seen-set, the request it sends, and the fetch state.

`normalize_url` applies the RFC 3986 equivalences (section 6.2.2 and 6.2.3): lower-case scheme and host,
no default port (:80 for http, :443 for https, or an empty one), "/" for an empty path, dot segments
removed, percent-escapes upper-case and unreserved characters unescaped; then drops the fragment and
tracking parameters (utm_*, fbclid, ...), which select no different page. Everything else is kept as
written: path case, the order, spelling and blank values of the other query parameters.

courlan.normalize_url was considered and does not fit: it sorts the query, drops blank parameters
(`?amp`), decodes punycode hosts and keeps fragments. ingest/dedup.py keeps using it for the stored
canonical URL, which is a different question (which article is this), not which request to send.

Pure functions, no I/O.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import unquote, urlsplit, urlunsplit

from w3lib.url import safe_url_string

_TRACKING = ("utm_", "fbclid", "gclid", "mc_cid", "mc_eid", "_ga", "yclid", "dclid")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# Characters a URL may hold as written (RFC 3986 reserved and unreserved, and "%"): anything else is
# escaped the way Scrapy's Request escapes it.
_NEEDS_ESCAPING = re.compile(r"[^A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]|%(?![0-9A-Fa-f]{2})")


# Every page's navigation repeats the same few dozen links: a small cache makes them free.
@lru_cache(maxsize=8192)
def normalize_url(url: str) -> str:
    """The crawl identity of `url` (see the module docstring); `url` itself, stripped of its fragment,
    when it cannot be parsed (a bad port, an unbalanced IPv6 bracket): the request will fail on its own."""
    url = url.strip()
    try:
        # What Scrapy's Request does to a URL first: non-ASCII escaped, IDN hosts to punycode.
        parts = urlsplit(safe_url_string(url) if _NEEDS_ESCAPING.search(url) else url)
        port = parts.port
    except ValueError:
        return url.partition("#")[0]
    scheme = parts.scheme.lower()
    netloc = parts.netloc
    if parts.hostname is not None:
        userinfo, at, _ = netloc.rpartition("@")
        host = parts.hostname  # lower-cased by urlsplit
        if ":" in host:
            host = f"[{host}]"
        netloc = userinfo + at + host
        if port is not None and port != _DEFAULT_PORTS.get(scheme):
            netloc += f":{port}"
    path = _escapes(parts.path)
    if "/." in path or path.startswith("."):
        path = _remove_dot_segments(path)
    if not path and netloc:
        path = "/"
    return urlunsplit((scheme, netloc, path, _without_tracking(_escapes(parts.query)), ""))


def _escapes(part: str) -> str:
    if "%" not in part:
        return part
    return _ESCAPE.sub(_escape, part)


def _escape(match: re.Match[str]) -> str:
    char = chr(int(match.group(1), 16))
    return char if char in _UNRESERVED else "%" + match.group(1).upper()


def _without_tracking(query: str) -> str:
    if not query:
        return ""
    # Pairs are filtered as written, not parsed and re-encoded: `a=b/c&x` must stay `a=b/c&x`.
    kept = [pair for pair in query.split("&")
            if pair and not unquote(pair.partition("=")[0]).lower().startswith(_TRACKING)]
    return "&".join(kept)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 5.2.4: /a/./b/../c is /a/c."""
    out: list[str] = []
    segments = path.split("/")
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        if segment == ".":
            if last:
                out.append("")
        elif segment == "..":
            if len(out) > 1:
                out.pop()
            if last:
                out.append("")
        else:
            out.append(segment)
    result = "/".join(out)
    if path.startswith("/") and not result.startswith("/"):
        result = "/" + result
    return result
