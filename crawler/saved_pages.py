"""Saved pages on disk (plain or gzipped HTML) turned into extraction records, for `newsingest extract`.

Touches only the files it is given; extraction itself is crawler/extract.py.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

from crawler.encoding import html_text
from crawler.extract import MAX_ELEMENTS, extract_html
from ingest import defaults


class PageTooLarge(ValueError):
    """A saved page larger than the crawl would have downloaded (max_response_bytes), once inflated."""


def read_page(path: Path, max_bytes: int = defaults.CRAWL["max_response_bytes"]) -> str:
    """The page's text, decoded by its BOM, its meta charset, else UTF-8 (as browsers do). Raises
    PageTooLarge past `max_bytes`: a small .gz file can inflate to gigabytes."""
    with open(path, "rb") as fh:
        raw = fh.read(max_bytes + 1)
        if raw[:2] == b"\x1f\x8b":
            fh.seek(0)
            with gzip.GzipFile(fileobj=fh) as inflated:
                raw = inflated.read(max_bytes + 1)  # inflates no more than asked for
    if len(raw) > max_bytes:
        raise PageTooLarge(f"larger than max_response_bytes ({max_bytes} bytes)")
    return html_text(raw)


def page_id(path: Path) -> str:
    name = path.name
    for suffix in (".gz", ".html", ".htm"):
        name = name.removesuffix(suffix)
    return name


def extract_file(path: Path, url: str | None = None, *, max_bytes: int = defaults.CRAWL["max_response_bytes"],
                 max_elements: int = MAX_ELEMENTS) -> dict:
    """One output record: the file, its id (file name without extensions) and the article's fields,
    or an `error` naming what went wrong."""
    record: dict = {"file": str(path), "id": page_id(path)}
    try:
        html = read_page(path, max_bytes)
    except (OSError, EOFError, zlib.error, PageTooLarge) as exc:  # BadGzipFile is an OSError
        record["error"] = f"cannot read {path}: {exc}"
        return record
    article = extract_html(html, url, max_elements=max_elements)
    data = article.to_dict()
    for internal in ("source", "http_status", "fetched_at"):
        data.pop(internal, None)
    record.update(data)
    return record
