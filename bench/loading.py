"""Benchmark: the loader's rows per second against a bare `COPY` of the same rows through psql.

    python bench/loading.py [CORPUS_DIR] [--rows N] [--distinct] [--dsn ADMIN_DSN]

Creates a scratch database (newsingest_bench_<random>) on the server of ADMIN_DSN (default
postgresql://postgres@127.0.0.1:5432/postgres), migrates it, and drops it at the end.

1. Articles: the corpus pages (default ../shared/corpus/news-pages) are extracted once, then N
   records (default 20,000) are made from them under distinct URLs, each text made unique by a
   numbered sentence (so every copy of a corpus article is a near-duplicate of the others: the
   loader's slowest path), or with --distinct each text made of random corpus words in the
   template's paragraph and word counts (no near-duplicates), and written to the spool with
   `SpoolWriter` (200 records a segment, as a crawl).
2. Loader: `ingest.load.load_spool` over that spool into the empty, migrated database: read and
   validate segments, canonical URL and hash, staging COPY, merge into `articles` with its indexes
   and constraints in place, one transaction per batch of up to 1,000 records. Timed from start to end.
3. Baseline: the rows just loaded are exported (`COPY articles TO` a file), and the file is loaded
   into a bare table (`CREATE TABLE bare (LIKE articles INCLUDING COMPRESSION)`: same columns and
   text compression, no index, no constraint) with `psql -c "\\copy bare FROM file"`, timed around
   the psql process.
Prints rows per second of both and the ratio loader / bare COPY (goal >= 0.5).
Touches only its scratch database and a temporary directory.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from crawler import extract  # noqa: E402
from crawler.spool import SpoolWriter  # noqa: E402
from ingest import dedup  # noqa: E402
from ingest.load import load_spool  # noqa: E402
from ingest.migrate import migrate  # noqa: E402

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def corpus_articles(corpus: Path) -> list:
    articles = []
    with open(corpus / "expected.jsonl", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                rec = json.loads(line)
                html = gzip.decompress((corpus / f"{rec['id']}.html.gz").read_bytes()).decode("utf-8")
                article = extract.extract_html(html, rec["url"])
                if article.text:
                    articles.append(article)
    return articles


def write_spool(root: Path, templates: list, rows: int, distinct: bool = False) -> int:
    writer = SpoolWriter(root, "bench", "benchrun", max_records=200, max_seconds=1e9)
    vocabulary = sorted({w for t in templates for w in t.text.split()})
    chance = random.Random(20261125)
    for n in range(rows):
        base = templates[n % len(templates)]
        if distinct:
            # The template's paragraph and word counts, its words drawn from the whole corpus: no two
            # texts are near-duplicates, as in a crawl of different stories.
            text = "\n\n".join(" ".join(chance.choice(vocabulary) for _ in p.split()) for p in base.text.split("\n\n"))
        else:
            text = f"{base.text}\n\nBenchmark record {n}."
        # A crawl's extraction workers fingerprint each text before it reaches the spool; so does this.
        writer.append(replace(
            base, url=f"https://bench.example/{n}/story/", canonical_url=None, source="bench",
            text=text, http_status=200, content_hash=dedup.content_hash(text), simhash=dedup.simhash(text),
        ))
    writer.close()
    return writer.segments_closed


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", nargs="?", type=Path, default=ROOT.parent / "shared" / "corpus" / "news-pages")
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--distinct", action="store_true",
                    help="texts of random corpus words, none a near-duplicate of another (default: near-copies)")
    ap.add_argument("--dsn", default=ADMIN, help="a server where we may create and drop a database")
    args = ap.parse_args(argv)

    name = f"newsingest_bench_{uuid.uuid4().hex[:8]}"
    dsn = psycopg.conninfo.make_conninfo(args.dsn, dbname=name)
    with psycopg.connect(args.dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        version = admin.execute("SHOW server_version").fetchone()[0]
    try:
        with tempfile.TemporaryDirectory() as tmp, psycopg.connect(dsn, autocommit=True) as conn:
            migrate(conn)
            templates = corpus_articles(args.corpus)
            spool = Path(tmp) / "spool"
            segments = write_spool(spool, templates, args.rows, args.distinct)
            mib = sum(p.stat().st_size for p in (spool / "ready").iterdir()) / 2**20
            compression = conn.execute(
                "SELECT attcompression FROM pg_attribute WHERE attrelid = 'articles'::regclass AND attname = 'text'"
            ).fetchone()[0] or "default (pglz)"
            print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
                  f"PostgreSQL {version}; load average {os.getloadavg()[0]:.2f} at start")
            print(f"spool: {args.rows} records in {segments} segments, {mib:.1f} MiB "
                  f"({len(templates)} corpus articles reused); articles.text compression: {compression}")

            started = time.perf_counter()
            result = load_spool(conn, spool)
            loader_s = time.perf_counter() - started
            stored = conn.execute("SELECT count(*) FROM articles").fetchone()[0]

            # Generated columns are computed, not copied: both sides list the stored ones.
            columns = ", ".join(c for (c,) in conn.execute(
                "SELECT quote_ident(column_name) FROM information_schema.columns WHERE table_name = 'articles'"
                " AND is_generated = 'NEVER' ORDER BY ordinal_position"))
            export = Path(tmp) / "articles.copy"
            with open(export, "wb") as fh, conn.cursor().copy(f"COPY (SELECT {columns} FROM articles) TO STDOUT") as cp:
                for block in cp:
                    fh.write(block)
            conn.execute("CREATE TABLE bare (LIKE articles INCLUDING COMPRESSION)")
            started = time.perf_counter()
            subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-c",
                            f"\\copy bare ({columns}) FROM '{export}'"], check=True)
            copy_s = time.perf_counter() - started
            copied = conn.execute("SELECT count(*) FROM bare").fetchone()[0]
            export_mib = export.stat().st_size / 2**20
        loader_rate, copy_rate = stored / loader_s, copied / copy_s
        print(f"{'':28}{'rows':>8}{'seconds':>10}{'rows/s':>10}")
        print(f"{'loader (load_spool)':28}{stored:>8}{loader_s:>10.2f}{loader_rate:>10.0f}"
              f"   inserted {result.inserted}, segments {result.segments}")
        print(f"{'bare COPY through psql':28}{copied:>8}{copy_s:>10.2f}{copy_rate:>10.0f}"
              f"   file of {export_mib:.1f} MiB")
        print(f"loader / bare COPY: {loader_rate / copy_rate:.2f} (goal >= 0.5); "
              f"load average {os.getloadavg()[0]:.2f} at end")
    finally:
        with psycopg.connect(args.dsn, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
