"""Precision and recall of near-duplicate clustering on the labelled set (tests/dedup_fixtures.py).

Two measurements:
1. A sweep of the Hamming-distance threshold with exhaustive pairwise comparison (every pair of stored
   rows, no index): what each threshold would give if candidate lookup were perfect.
2. The real path at the configured threshold (ingest.dedup.NEAR_DUPLICATE_DISTANCE): the labelled pages
   are spooled and loaded with load_spool into a scratch database this script creates and drops, and the
   clusters are read back. This includes the index's probe limits (certain up to 7 bits, likely above).

Scores are over pairs of stored rows (URL variants collapse into one row before clustering): a pair is
a true positive when both rows are the same story and share a cluster_id. Also reported: for each kind
of copy, the share that ended up in its original's cluster.

Touches the PostgreSQL server given by --dsn (a scratch database only) and a temporary spool directory.

    .venv/bin/python bench/dedup_quality.py [--dsn postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import uuid
from collections import defaultdict
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from dedup_fixtures import COPY_KINDS, labelled_pages  # noqa: E402

from crawler.records import Article  # noqa: E402
from crawler.spool import SpoolWriter  # noqa: E402
from ingest import dedup  # noqa: E402
from ingest.load import load_spool  # noqa: E402
from ingest.migrate import migrate  # noqa: E402


def stored_rows(pages) -> dict[str, object]:
    """canonical URL -> the page that row holds (the first seen; URL variants carry the same text)."""
    rows: dict[str, object] = {}
    for page in pages:
        rows.setdefault(dedup.canonical_url(page.url, page.stated_canonical), page)
    return rows


def single_link(hashes: dict[str, int | None], threshold: int) -> dict[str, str]:
    parent = {key: key for key in hashes}

    def find(key: str) -> str:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for a, b in itertools.combinations(hashes, 2):
        ha, hb = hashes[a], hashes[b]
        if ha is not None and hb is not None and dedup.hamming(ha, hb) <= threshold:
            parent[find(a)] = find(b)
    return {key: find(key) for key in hashes}


def scores(rows: dict[str, object], cluster: dict[str, object]) -> tuple[float, float, int, int, int]:
    tp = fp = fn = 0
    for a, b in itertools.combinations(rows, 2):
        same_story = rows[a].story == rows[b].story
        same_cluster = cluster[a] == cluster[b]
        tp += same_story and same_cluster
        fp += same_cluster and not same_story
        fn += same_story and not same_cluster
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall, tp, fp, fn


def recall_by_kind(rows: dict[str, object], cluster: dict[str, object]) -> dict[str, str]:
    original = {page.story: url for url, page in rows.items() if page.kind == "original"}
    hits: dict[str, list[bool]] = defaultdict(list)
    for url, page in rows.items():
        if page.kind in COPY_KINDS:
            hits[page.kind].append(cluster[url] == cluster[original[page.story]])
    return {kind: f"{sum(v)}/{len(v)}" for kind, v in hits.items()}


def measured_in_database(dsn: str, pages) -> dict[str, int]:
    name = f"newsingest_dedup_quality_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = psycopg.conninfo.make_conninfo(dsn, dbname=name)
        with psycopg.connect(url, autocommit=True) as conn, tempfile.TemporaryDirectory() as spool:
            migrate(conn)
            writer = SpoolWriter(Path(spool), "bench", "run-quality")
            for n, page in enumerate(pages):
                writer.append(Article(url=page.url, source="bench", text=page.text, fetched_at=page.fetched_at,
                                      http_status=200, extractor_version="bench",
                                      canonical_url=page.stated_canonical, title=page.title))
                if n % 40 == 39:
                    writer.flush_segment()  # several segments: clusters must also form across loads
            writer.flush_segment()
            load_spool(conn, Path(spool))
            return dict(conn.execute("SELECT canonical_url, cluster_id FROM articles").fetchall())
    finally:
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    pages = labelled_pages()
    rows = stored_rows(pages)
    stories = len({p.story for p in rows.values()})
    print(f"labelled set: {len(pages)} pages, {len(rows)} stored rows, {stories} stories "
          f"({sum(p.kind == 'same_topic' for p in rows.values())} of them same-topic articles)")
    hashes = {url: dedup.simhash(page.text) for url, page in rows.items()}
    print("\nthreshold sweep, exhaustive comparison (no index):")
    print("| max distance | precision | recall | TP | FP | FN | " + " | ".join(COPY_KINDS) + " |")
    print("|---:|---:|---:|---:|---:|---:|" + "---:|" * len(COPY_KINDS))
    for threshold in range(0, 21):
        cluster = single_link(hashes, threshold)
        p, r, tp, fp, fn = scores(rows, cluster)
        by_kind = recall_by_kind(rows, cluster)
        print(f"| {threshold} | {p:.3f} | {r:.3f} | {tp} | {fp} | {fn} | "
              + " | ".join(by_kind[k] for k in COPY_KINDS) + " |")
    cluster = measured_in_database(args.dsn, pages)
    p, r, tp, fp, fn = scores(rows, cluster)
    by_kind = recall_by_kind(rows, cluster)
    print(f"\nloaded through load_spool (index probes), threshold {dedup.NEAR_DUPLICATE_DISTANCE}:")
    print(f"precision {p:.3f}, recall {r:.3f} (TP {tp}, FP {fp}, FN {fn}); copies in their original's cluster: "
          + ", ".join(f"{k} {v}" for k, v in by_kind.items()))


if __name__ == "__main__":
    main()
