"""Identity of an article: its canonical URL and the hash of its normalised text.

Pure functions, no I/O. The loader keys rows on canonical_url and links exact copies
(same content_hash under another canonical URL) through duplicate_of.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import unicodedata
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from courlan import is_external, normalize_url

# Query parameters that only select an AMP or print rendering of the same article.
_VARIANT_PARAMS = {"amp", "outputtype", "output", "print", "view", "format"}
_VARIANT_VALUES = {"", "1", "true", "amp", "print", "printable"}
_VARIANT_SEGMENTS = {"amp", "print"}
_SPACE = re.compile(r"\s+")


def normalise_url(url: str) -> str:
    """courlan normalisation (lower-case host, sorted query, tracking parameters removed),
    then without fragment and without AMP or print variant markers."""
    try:
        normal = normalize_url(url)
    except (ValueError, AttributeError):
        normal = url.strip()
    parts = urlsplit(normal)
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not (key.lower() in _VARIANT_PARAMS and value.lower() in _VARIANT_VALUES)
    ]
    path_segments = parts.path.split("/")
    path = "/".join(s for i, s in enumerate(path_segments) if i == 0 or s.lower() not in _VARIANT_SEGMENTS)
    if parts.path.endswith("/") and not path.endswith("/"):
        path += "/"
    return urlunsplit((parts.scheme, parts.netloc, path or "/", urlencode(query), ""))


def canonical_url(fetched_url: str, stated_canonical: str | None) -> str:
    """The page's own canonical URL when it points to the same site, else the fetched URL; normalised.

    A canonical pointing to another site (syndication partners, a CMS misconfiguration) is ignored,
    since trusting it would let one site overwrite another's article.
    """
    if stated_canonical and stated_canonical.startswith(("http://", "https://")):
        if _same_site(stated_canonical, fetched_url):
            return normalise_url(stated_canonical)
    return normalise_url(fetched_url)


def _same_site(url: str, reference: str) -> bool:
    host, ref_host = urlsplit(url).hostname or "", urlsplit(reference).hostname or ""
    if _is_ip(host) or _is_ip(ref_host):
        # Registered-domain logic does not apply to addresses: 127.0.0.2 is not 127.0.0.1's site.
        return host == ref_host
    try:
        return not is_external(url, reference, ignore_suffix=False)
    except ValueError:
        return False


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def normalise_text(text: str) -> str:
    """Text as compared for identity: NFKC, case-folded, whitespace collapsed."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def content_hash(text: str) -> str:
    return hashlib.sha256(normalise_text(text).encode("utf-8", "replace")).hexdigest()
