"""Benchmark: extraction throughput, one process against the crawl's worker pool, in one run.

    python bench/extraction_pool.py [CORPUS_DIR] [--workers N] [--rounds R]

CORPUS_DIR defaults to ../shared/corpus/news-pages relative to the project root. Every page is
decompressed up front; then a worker's unit of work (`crawler.pool.extract_and_fingerprint`: extraction
and the text's fingerprints) runs over all pages R times (default 2),
first in this process, then through `crawler.pool.ExtractorPool` (forkserver workers, warmed up,
the same class and options the crawl uses) with every page submitted at once, as a crawl with
pages waiting would. Both sides are warmed up before timing. Prints pages per second of each and the
ratio pool / one process. Reads the corpus only.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The crawl's defaults (ingest/defaults.py min_article_chars; no article URL pattern), on both sides.
OPTIONS = {"min_article_chars": 400, "article_pattern": None}
sys.path.insert(0, str(ROOT))  # runnable as a script from any directory, installed or not

from crawler import extract  # noqa: E402
from crawler.pool import ExtractorPool, extract_and_fingerprint, worker_count  # noqa: E402
from crawler.records import Page  # noqa: E402


def load_pages(corpus: Path) -> list[Page]:
    pages = []
    now = datetime.now(UTC)
    with open(corpus / "expected.jsonl", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                rec = json.loads(line)
                html = gzip.decompress((corpus / f"{rec['id']}.html.gz").read_bytes()).decode("utf-8")
                pages.append(Page(url=rec["url"], source="bench", html=html, status=200, fetched_at=now))
    return pages


def one_process(pages: list[Page], rounds: int) -> tuple[float, int]:
    extract.warm_up()
    articles = 0
    started = time.perf_counter()
    for _ in range(rounds):
        for page in pages:
            articles += extract_and_fingerprint(page, OPTIONS).article is not None
    return time.perf_counter() - started, articles


async def _through_pool(pool: ExtractorPool, pages: list[Page], rounds: int) -> int:
    results = await asyncio.gather(*(pool.extract(p) for _ in range(rounds) for p in pages))
    return sum(r.article is not None for r in results)


def pooled(pages: list[Page], rounds: int, workers: int) -> tuple[float, int]:
    pool = ExtractorPool(workers, **OPTIONS)
    try:
        # Warm up: start every worker (each runs warm_up) outside the timing.
        asyncio.run(_through_pool(pool, pages[: workers * 2], 1))
        started = time.perf_counter()
        articles = asyncio.run(_through_pool(pool, pages, rounds))
        return time.perf_counter() - started, articles
    finally:
        pool.shutdown()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", nargs="?", type=Path, default=ROOT.parent / "shared" / "corpus" / "news-pages")
    ap.add_argument("--workers", type=int, default=0, help="pool size; 0 = one per core (the crawl's default)")
    ap.add_argument("--rounds", type=int, default=2, help="passes over the corpus on each side")
    args = ap.parse_args(argv)
    workers = worker_count(args.workers)
    pages = load_pages(args.corpus)
    total = len(pages) * args.rounds
    print(f"corpus: {args.corpus.resolve()} ({len(pages)} pages, "
          f"{sum(len(p.html) for p in pages) / len(pages) / 1024:.0f} KiB mean), {args.rounds} rounds")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.2f} at start; pool: {workers} workers (forkserver)")
    single_s, single_articles = one_process(pages, args.rounds)
    pool_s, pool_articles = pooled(pages, args.rounds, workers)
    single_rate, pool_rate = total / single_s, total / pool_s
    print(f"{'':14}{'pages':>8}{'articles':>10}{'seconds':>10}{'pages/s':>10}")
    print(f"{'one process':14}{total:>8}{single_articles:>10}{single_s:>10.1f}{single_rate:>10.1f}")
    print(f"{'pool':14}{total:>8}{pool_articles:>10}{pool_s:>10.1f}{pool_rate:>10.1f}")
    print(f"pool / one process: {pool_rate / single_rate:.2f}x (goal >= 1.7x on 2 cores); "
          f"load average {os.getloadavg()[0]:.2f} at end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
