"""Near-duplicate lookup cost at 10 thousand, 100 thousand and 1 million stored articles.

Creates a scratch database on the server given by --dsn, applies the migrations, and grows `articles`
with synthetic rows (uniformly random 64-bit Simhashes, short texts) by COPY; the database is dropped at
the end. At each size it measures, with the schema and SQL the loader uses (ingest/tables/articles.py):
- one lookup (`near_duplicates`: GIN probe with 68 keys + exact Hamming filter), for query hashes that
  are stored hashes with 0 to 10 bits flipped, so every lookup has a match;
- the same lookup forced to scan the table (index scans off), the linear baseline;
- a load of 1,000 new articles (5 segments of 200, the loader's stage + merge_staged, one transaction
  each, rolled back so the size stays put): half are near-copies of stored articles, half new.

    .venv/bin/python bench/dedup_lookup.py [--dsn postgresql://postgres@127.0.0.1:5432/postgres]
        [--sizes 10000,100000,1000000]

Touches only the scratch database it creates.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import time
import uuid
from datetime import UTC, datetime

import psycopg

from ingest import dedup
from ingest.migrate import migrate
from ingest.tables import articles as articles_sql

FETCHED = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
TEXT = "Synthetic article body for the lookup benchmark. " * 40  # about 2 KB, like a short news story
LOOKUPS = 300
SEGMENTS, SEGMENT_ROWS = 5, 200


def grow(conn: psycopg.Connection, start: int, stop: int, rng: random.Random, stored: list[int]) -> float:
    """COPY rows start..stop-1 into articles, then index their Simhash blocks in one statement (the
    per-row trigger is off during the bulk copy; it computes the same keys)."""
    began = time.monotonic()
    conn.execute("ALTER TABLE articles DISABLE TRIGGER articles_simhash_blocks")
    conn.execute("DROP INDEX IF EXISTS articles_cluster_idx")
    with conn.cursor().copy(
        "COPY articles (id, canonical_url, url, source, text, content_hash, extractor_version, fetched_at,"
        " simhash, cluster_id) FROM STDIN"
    ) as copy:
        for i in range(start, stop):
            value = rng.getrandbits(64)
            stored.append(value)
            url = f"https://bench.example/{i}/"
            copy.write_row((i + 1, url, url, "bench", TEXT, f"{i:064x}", "bench", FETCHED, dedup.to_bigint(value),
                            i + 1))
    conn.execute("SELECT setval('articles_id_seq', %s)", (stop,))
    conn.execute(
        "INSERT INTO article_simhash_blocks (block_key, simhash, article_id)"
        " SELECT key, simhash, id FROM articles CROSS JOIN LATERAL unnest(ARRAY["
        "   (simhash & 65535)::integer, 65536 + ((simhash >> 16) & 65535)::integer,"
        "   131072 + ((simhash >> 32) & 65535)::integer, 196608 + ((simhash >> 48) & 65535)::integer]) AS key"
        " WHERE id > %s AND id <= %s",
        (start, stop),
    )
    conn.execute("ALTER TABLE articles ENABLE TRIGGER articles_simhash_blocks")
    conn.execute("CREATE INDEX articles_cluster_idx ON articles (cluster_id)")
    conn.execute("VACUUM ANALYZE articles")
    conn.execute("VACUUM ANALYZE article_simhash_blocks")
    return time.monotonic() - began


def near(value: int, rng: random.Random, max_bits: int = 10) -> int:
    for bit in rng.sample(range(64), rng.randint(0, max_bits)):
        value ^= 1 << bit
    return value


def time_lookups(conn: psycopg.Connection, queries: list[int]) -> tuple[list[float], int]:
    timings, found = [], 0
    for q in queries:
        began = time.perf_counter()
        hits = articles_sql.near_duplicates(conn, dedup.to_bigint(q), dedup.probe_keys(q),
                                            dedup.NEAR_DUPLICATE_DISTANCE)
        timings.append((time.perf_counter() - began) * 1000)
        found += bool(hits)
    return timings, found


def time_scan(url: str, queries: list[int]) -> list[float]:
    timings = []
    # A connection of its own: psycopg prepares repeated statements, and a prepared plan keeps using the
    # index whatever the enable_* settings say.
    with psycopg.connect(url) as conn, conn.transaction():
        conn.execute("SET LOCAL enable_bitmapscan = off")
        conn.execute("SET LOCAL enable_indexscan = off")
        for q in queries:
            began = time.perf_counter()
            articles_sql.near_duplicates(conn, dedup.to_bigint(q), dedup.probe_keys(q), dedup.NEAR_DUPLICATE_DISTANCE)
            timings.append((time.perf_counter() - began) * 1000)
    return timings


def new_rows(rng: random.Random, stored: list[int], size: int, batch: int) -> list[articles_sql.ArticleRow]:
    rows = []
    for n in range(SEGMENT_ROWS):
        value = near(rng.choice(stored), rng) if n % 2 == 0 else rng.getrandbits(64)
        url = f"https://bench-new.example/{size}/{batch}/{n}/"
        rows.append(articles_sql.ArticleRow(
            canonical_url=url, url=url, source="bench", title="New", authors=[], published_at=None,
            modified_at=None, language="en", description=None, site_name=None, image_url=None, tags=[],
            text=TEXT + url, content_hash=f"new-{size}-{batch}-{n}", http_status=200, extractor_version="bench",
            field_sources={}, fetched_at=FETCHED, simhash=dedup.to_bigint(value),
        ))
    return rows


def time_loads(conn: psycopg.Connection, rng: random.Random, stored: list[int], size: int) -> tuple[float, int]:
    """Seconds for 1,000 new articles in segments of 200, and how many joined a stored cluster."""
    total, near_count = 0.0, 0
    for batch in range(SEGMENTS):
        rows = new_rows(rng, stored, size, batch)
        began = time.perf_counter()
        try:
            with conn.transaction():
                articles_sql.stage(conn, rows)
                counts = articles_sql.merge_staged(conn, dedup.NEAR_DUPLICATE_DISTANCE)
                total += time.perf_counter() - began
                near_count += counts.near_duplicates
                raise _Rollback
        except _Rollback:
            pass
    return total, near_count


class _Rollback(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--sizes", default="10000,100000,1000000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = random.Random(20261120)
    name = f"newsingest_dedup_lookup_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        server = admin.execute("SHOW server_version").fetchone()[0]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()},"
          f" PostgreSQL {server}; threshold {dedup.NEAR_DUPLICATE_DISTANCE} bits, {LOOKUPS} lookups per size")
    print("| stored articles | setup s | lookup median ms | lookup p95 ms | lookups with a match |"
          " table scan median ms | load of 1,000 new s | per article ms | joined a cluster |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    try:
        url = psycopg.conninfo.make_conninfo(args.dsn, dbname=name)
        with psycopg.connect(url, autocommit=True) as conn:
            migrate(conn)
            stored: list[int] = []
            for size in sizes:
                setup = grow(conn, len(stored), size, rng, stored)
                queries = [near(rng.choice(stored), rng) for _ in range(LOOKUPS)]
                time_lookups(conn, queries[:20])  # warm the cache as a running loader would have it
                timings, found = time_lookups(conn, queries)
                scan = time_scan(url, queries[:5])
                load_seconds, joined = time_loads(conn, rng, stored, size)
                print(f"| {size:,} | {setup:.1f} | {statistics.median(timings):.2f} |"
                      f" {statistics.quantiles(timings, n=20)[-1]:.2f} | {found}/{len(queries)} |"
                      f" {statistics.median(scan):.1f} | {load_seconds:.2f} | {load_seconds:.3f} |"
                      f" {joined}/{SEGMENTS * SEGMENT_ROWS} |", flush=True)
    finally:
        with psycopg.connect(args.dsn, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
