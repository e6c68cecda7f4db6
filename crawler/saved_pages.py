"""Saved pages on disk (plain or gzipped HTML) turned into extraction records, for `newsingest extract`.

Touches only the files it is given; extraction itself is crawler/extract.py.
"""

from __future__ import annotations

import gzip
from pathlib import Path

from w3lib.encoding import html_to_unicode

from crawler.extract import extract_html


def read_page(path: Path) -> str:
    """The page's text, decoded by its BOM, its meta charset, else UTF-8 (as browsers and Scrapy do)."""
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    _encoding, text = html_to_unicode(None, raw)
    return text


def page_id(path: Path) -> str:
    name = path.name
    for suffix in (".gz", ".html", ".htm"):
        name = name.removesuffix(suffix)
    return name


def extract_file(path: Path, url: str | None = None) -> dict:
    """One output record: the file, its id (file name without extensions) and the article's fields,
    or an `error` naming what went wrong."""
    record: dict = {"file": str(path), "id": page_id(path)}
    try:
        html = read_page(path)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        record["error"] = f"cannot read {path}: {exc}"
        return record
    article = extract_html(html, url)
    data = article.to_dict()
    for internal in ("source", "http_status", "fetched_at"):
        data.pop(internal, None)
    record.update(data)
    return record
