"""Typed records passed between the crawl stages and across the spool.

`Page` is what the spider hands to extraction (a fetched candidate article page);
`Article` is what extraction produces and what the spool and the loader carry.
This module touches nothing: no I/O, no network, no database.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(slots=True)
class Page:
    """A fetched page the spider believes may be an article."""

    url: str  # final URL after redirects
    source: str
    # Not in the repr: Scrapy logs an item it dropped or failed on, and a page body is no log line.
    html: str = field(repr=False)
    status: int
    fetched_at: datetime  # timezone-aware UTC
    discovered_via: str = "link"  # feed | sitemap | link | url
    # Pages given by `crawl --url` only. index_reason: the spider's classify_page verdict that the page marks
    # itself as an index (homepage, section): not stored unless its text reads as one body. as_article: the
    # user asked for the page to be stored whatever it declares (--as-article).
    index_reason: str | None = None
    as_article: bool = False


@dataclass(slots=True)
class Article:
    """One clean article, as extraction produced it. The loader derives canonical URL and hashes."""

    url: str
    source: str
    text: str  # paragraphs separated by one blank line
    fetched_at: datetime
    http_status: int
    extractor_version: str
    canonical_url: str | None = None  # as stated by the page (rel=canonical / og:url), unnormalised
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    published_at: datetime | None = None
    modified_at: datetime | None = None
    language: str | None = None
    description: str | None = None
    site_name: str | None = None
    image_url: str | None = None
    tags: list[str] = field(default_factory=list)
    # field name -> method that produced it (json-ld, meta, trafilatura, htmldate, ...)
    field_sources: dict[str, str] = field(default_factory=dict)
    # Fingerprints of the text (ingest.dedup), computed by the crawl's extraction workers so the single
    # loader process need not. None when the record predates them (the loader computes them then), and
    # simhash None also for texts too short to fingerprint.
    content_hash: str | None = None
    simhash: int | None = None

    _DATETIME_FIELDS = ("fetched_at", "published_at", "modified_at")

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        for name in self._DATETIME_FIELDS:
            if data[name] is not None:
                data[name] = data[name].isoformat()
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: dict) -> Article:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown article fields: {sorted(unknown)}")
        values = dict(data)
        for f in dataclasses.fields(cls):
            if f.name in values:
                check_json_type(f.name, f.type, values[f.name])
        for name in cls._DATETIME_FIELDS:
            if values.get(name) is not None:
                parsed = datetime.fromisoformat(values[name])
                if parsed.tzinfo is None:
                    raise ValueError(f"{name} has no UTC offset: {values[name]!r}")
                values[name] = parsed
        return cls(**values)

    @classmethod
    def from_json(cls, line: str) -> Article:
        return cls.from_dict(json.loads(line))


# What a JSON value read back from disk must be for each field annotation (datetimes travel as ISO text).
_JSON_TYPES = {
    "str": lambda v: isinstance(v, str),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "datetime": lambda v: isinstance(v, str),
    "list[str]": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
    "dict[str, str]": lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values()),
}


def check_json_type(name: str, annotation: str, value: object) -> None:
    """Raises ValueError unless `value` fits the field annotation. A record read from disk may hold
    anything JSON does: a value of the wrong type would be stored wrong (a string of authors as one
    name per letter) or break the loader, so it makes the record corrupt."""
    expected = annotation.removesuffix(" | None")
    if value is None and expected != annotation:
        return
    if not _JSON_TYPES[expected](value):
        raise ValueError(f"{name} is not {expected}: {json.dumps(value, ensure_ascii=False)[:60]}")
