"""Identity of an article: its canonical URL, the hash of its normalised text, and the Simhash of that
text that groups near-copies into clusters.

Pure functions, no I/O. The loader keys rows on canonical_url, links exact copies (same content_hash
under another canonical URL) through duplicate_of, and puts articles whose Simhashes are within
NEAR_DUPLICATE_DISTANCE bits of each other in one cluster (ingest/tables/articles.py does the lookup).
The Simhash is trafilatura's (trafilatura.deduplication.Simhash): this is the one module besides
crawler/extract.py that imports trafilatura, and only for that class, never for extraction.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from courlan import is_external, normalize_url
from trafilatura.deduplication import Simhash

# Query parameters that only select an AMP or print rendering of the same article.
_VARIANT_PARAMS = {"amp", "outputtype", "output", "print", "view", "format"}
_VARIANT_VALUES = {"", "1", "true", "amp", "print", "printable"}
_VARIANT_SEGMENTS = {"amp", "print"}
_SPACE = re.compile(r"\s+")
# example.com/story.amp.html is the AMP rendering of example.com/story.html.
_AMP_SUFFIX = re.compile(r"\.amp(?=\.html?$|$)", re.IGNORECASE)


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
    kept = [s for i, s in enumerate(path_segments) if i == 0 or s.lower() not in _VARIANT_SEGMENTS]
    path = _AMP_SUFFIX.sub("", "/".join(kept))
    # /story/amp is the AMP page of /story/: the slash before a dropped last segment stays.
    if (parts.path.endswith("/") or len(kept) < len(path_segments)) and not path.endswith("/"):
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


# ---- Near-duplicates -------------------------------------------------------------------------------

SIMHASH_BITS = 64
BLOCK_BITS = 16
BLOCKS = SIMHASH_BITS // BLOCK_BITS
_BLOCK_MASK = (1 << BLOCK_BITS) - 1
# Chosen on the labelled set (bench/dedup_quality.py, docs/benchmarks.md): copies with a sentence edited
# are within 6 bits of their original, with boilerplate added within 11, with a paragraph dropped 2 to
# 15; the nearest different article (same topic) is 16 bits away. At 10, recall is 0.97 with precision 1.0
# and 6 bits of margin below the first false merge; higher thresholds buy little recall for that margin.
NEAR_DUPLICATE_DISTANCE = 10
# Below this many words a Simhash says little (a few shared words flip most bits), so short texts get
# none and are matched by their content hash only.
MIN_SIMHASH_WORDS = 32


def simhash(text: str) -> int | None:
    """trafilatura's 64-bit Simhash of the normalised text, unsigned; None for texts too short."""
    normal = normalise_text(text)
    if len(normal.split()) < MIN_SIMHASH_WORDS:
        return None
    return Simhash(normal, length=SIMHASH_BITS).hash


def to_bigint(value: int) -> int:
    """The unsigned 64-bit value as PostgreSQL's signed bigint holds the same bits."""
    if not 0 <= value < 1 << SIMHASH_BITS:
        raise ValueError(f"not a 64-bit unsigned value: {value}")
    return value - (1 << SIMHASH_BITS) if value >= 1 << (SIMHASH_BITS - 1) else value


def from_bigint(value: int) -> int:
    return value & ((1 << SIMHASH_BITS) - 1)


def hamming(a: int, b: int) -> int:
    return (from_bigint(a) ^ from_bigint(b)).bit_count()


def block_keys(value: int) -> list[int]:
    """The keys an article is indexed under: block i's 16 bits, tagged with i so blocks never collide.
    Migration 0003 computes the same keys from the stored bigint (table article_simhash_blocks)."""
    value = from_bigint(value)
    return [(i << BLOCK_BITS) | ((value >> (i * BLOCK_BITS)) & _BLOCK_MASK) for i in range(BLOCKS)]


def probe_keys(value: int) -> list[int]:
    """Keys to look up for candidates: each block as it is and with each one of its bits flipped.

    Pigeonhole: two hashes at distance d <= 2 * BLOCKS - 1 (7) have a block differing in at most one
    bit, so every such pair is found. Pairs at 8 to 11 bits are found when their differing bits happen
    to leave one block with at most one of them (95 % of pairs at 8 bits, 61 % at 11); the rest need a
    third copy in between. 68 keys; each matches about N / 65,536 of N random hashes.
    """
    keys = []
    for key in block_keys(value):
        keys.append(key)
        keys.extend(key ^ (1 << bit) for bit in range(BLOCK_BITS))
    return keys


@dataclass(frozen=True, slots=True)
class Edge:
    """A changed article and a stored article within the distance threshold of it."""

    article_id: int
    article_cluster: int | None  # None for an article inserted by this load
    other_id: int
    other_cluster: int | None


@dataclass(frozen=True, slots=True)
class ClusterAssignment:
    articles: dict[int, int]  # changed article id -> its cluster id
    relabel: dict[int, int]  # cluster id merged away -> the cluster id that absorbs it


def assign_clusters(changed: dict[int, int | None], edges: Iterable[Edge]) -> ClusterAssignment:
    """Single-link clustering of the changed articles (id -> current cluster or None) with their
    near-duplicates. A cluster is named by its oldest article's id, so the smallest existing cluster id in
    a connected group wins and the others merge into it; a group with no cluster yet takes its smallest
    article id. Clusters only grow or merge: an edit never splits one."""
    parent: dict[int, int] = {}

    def find(node: int) -> int:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    label: dict[int, int | None] = dict(changed)
    for article_id in changed:
        find(article_id)
    for edge in edges:
        label.setdefault(edge.article_id, edge.article_cluster)
        label.setdefault(edge.other_id, edge.other_cluster)
        a, b = find(edge.article_id), find(edge.other_id)
        if a != b:
            parent[max(a, b)] = min(a, b)
    groups: dict[int, list[int]] = {}
    for node in list(parent):
        groups.setdefault(find(node), []).append(node)
    articles: dict[int, int] = {}
    relabel: dict[int, int] = {}
    for members in groups.values():
        labels = {label[m] for m in members if label.get(m) is not None}
        target = min(labels) if labels else min(members)
        for m in members:
            if m in changed:
                articles[m] = target
        for old in labels - {target}:
            relabel[old] = target
    return ClusterAssignment(articles, relabel)
