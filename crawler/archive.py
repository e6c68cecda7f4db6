"""The raw archive: every fetched article-candidate response kept as a WARC record (warcio), so articles
can be rebuilt later with a newer extractor (`newsingest reextract`) without fetching again.

Layout: <data_dir>/archive/<source>/<UTC stamp>-<run_id>-<n>.warc.gz, gzip per record. A file is
written as `.warc.gz.open` and renamed when it is closed (rotation at `max_bytes`, or the end of the
crawl), so readers only ever see complete files; a crash leaves an `.open` file whose complete
records `iter_archived` still reads. This module touches only the archive directory.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

from crawler.records import Page

logger = logging.getLogger(__name__)

ARCHIVE_SUFFIX = ".warc.gz"
OPEN_SUFFIX = ".open"
SOURCE_HEADER = "WARC-Newsingest-Source"
VIA_HEADER = "WARC-Newsingest-Via"
# The body we store is already decoded, so headers describing the transfer would lie about it.
_TRANSFER_HEADERS = {b"content-encoding", b"transfer-encoding", b"content-length"}


class WarcArchive:
    """Append responses to rotated WARC files of one source and crawl."""

    def __init__(self, root: Path, source: str, run_id: str, max_bytes: int = 100 * 1024 * 1024):
        self.folder = Path(root) / source
        self.source = source
        self.run_id = run_id
        self.max_bytes = max_bytes
        self._fh: Any = None
        self._writer: Any = None
        self._path: Path | None = None
        self._index = 0
        self.records = 0
        self.files: list[Path] = []

    def write(self, url: str, status: int, headers: list[tuple[bytes, bytes]], body: bytes,
              fetched_at: datetime, via: str = "") -> None:
        from warcio.statusandheaders import StatusAndHeaders

        if self._writer is None:
            self._open()
        http_headers = StatusAndHeaders(
            f"{status} {_reason(status)}",
            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers if k.lower() not in _TRANSFER_HEADERS],
            protocol="HTTP/1.1",
        )
        record = self._writer.create_warc_record(
            url,
            "response",
            payload=BytesIO(body),
            length=len(body),
            http_headers=http_headers,
            warc_headers_dict={
                "WARC-Date": fetched_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                SOURCE_HEADER: self.source,
                VIA_HEADER: via,
            },
        )
        self._writer.write_record(record)
        self.records += 1
        if self._fh.tell() >= self.max_bytes:
            self.close()

    def _open(self) -> None:
        from warcio.warcwriter import WARCWriter

        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        self._index += 1
        self._path = self.folder / f"{stamp}-{self.run_id}-{self._index}{ARCHIVE_SUFFIX}"
        self._fh = open(self._path.with_name(self._path.name + OPEN_SUFFIX), "wb")
        self._writer = WARCWriter(self._fh, gzip=True)

    def close(self) -> None:
        if self._fh is None:
            return
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        assert self._path is not None
        os.replace(self._path.with_name(self._path.name + OPEN_SUFFIX), self._path)
        self.files.append(self._path)
        self._fh = self._writer = self._path = None


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def archive_files(root: Path, source: str | None = None) -> list[Path]:
    root = Path(root)
    if not root.is_dir():
        return []
    folders = [root / source] if source else sorted(p for p in root.iterdir() if p.is_dir())
    files: list[Path] = []
    for folder in folders:
        if folder.is_dir():
            files.extend(sorted(p for p in folder.iterdir()
                                if p.name.endswith(ARCHIVE_SUFFIX) or p.name.endswith(ARCHIVE_SUFFIX + OPEN_SUFFIX)))
    return files


def iter_archived(root: Path, source: str | None = None, since: datetime | None = None) -> Iterator[Page]:
    """Every archived response as a Page (fetched_at from WARC-Date), oldest file first."""
    from scrapy.http import HtmlResponse
    from warcio.archiveiterator import ArchiveIterator

    from crawler.encoding import BrowserCharset

    for path in archive_files(root, source):
        with open(path, "rb") as fh:
            try:
                for record in ArchiveIterator(fh):
                    if record.rec_type != "response":
                        continue
                    warc_date = record.rec_headers.get_header("WARC-Date")
                    fetched_at = datetime.fromisoformat(warc_date.replace("Z", "+00:00"))
                    if since is not None and fetched_at < since:
                        continue
                    body = record.content_stream().read()
                    status = int(record.http_headers.get_statuscode() or 200)
                    url = record.rec_headers.get_header("WARC-Target-URI")
                    # Decoded exactly as the crawl decoded it (Scrapy's charset detection), so a
                    # re-extraction with the same extractor reproduces the same article.
                    response = BrowserCharset().process_response(None, HtmlResponse(
                        url, status=status, body=body, headers=list(record.http_headers.headers)))
                    yield Page(
                        url=url,
                        source=record.rec_headers.get_header(SOURCE_HEADER) or path.parent.name,
                        html=response.text,
                        status=status,
                        fetched_at=fetched_at,
                        discovered_via=record.rec_headers.get_header(VIA_HEADER) or "archive",
                    )
            except Exception as exc:  # a torn last record of a crashed crawl ends that file, not the run
                logger.warning("archive_unreadable", extra={"file": str(path), "error": str(exc)})

