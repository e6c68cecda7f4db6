"""Benchmark: end to end, articles loaded per second by a real crawl from an empty database, against
the worker pool's pure extraction rate on the same pages (and news-please on the same site).

    python bench/end_to_end.py [CORPUS_DIR] [--pages 5000] [--dsn ADMIN_DSN]
                               [--extract-pages 1032] [--news-please-python PATH] [--news-please-pages 258]
                               [--skip-news-please]

1. Site: bench/corpus_site.py serves --pages article pages on 127.0.0.1 from a thread of this
   process (the corpus pages, default ../shared/corpus/news-pages, under /a/<n>/, each with its own
   canonical URL and a numbered credit line so that each is an article of its own), announced
   through 8 RSS section feeds and a sitemap index of sitemaps of 1,000.
2. Crawl and load: a scratch database (newsingest_bench_<random> on ADMIN_DSN's server, default
   postgresql://postgres@127.0.0.1:5432/postgres) is migrated (`newsingest migrate`, untimed), then
   `newsingest crawl bench` runs as a process of its own with politeness off (no delay, no
   AutoThrottle, 32 concurrent requests to the host, robots.txt obeyed and allowing everything; the
   source allows loopback hosts, discovers through its feeds and the sitemap index, follows no links;
   extraction in its pool of one worker per core). Timed from process start to exit: startup,
   discovery, fetch, extraction, spool, then `load_spool` into the database. The figure is the rows
   in `articles` afterwards (exact copies included; see corpus_site.py) per second.
3. Pure extraction: `crawler.pool.ExtractorPool`, the crawl's class with the crawl's options, as
   bench/extraction_pool.py uses it (workers warmed up untimed, pages waiting all the time), over the
   bodies of /a/0/ .. /a/<N-1>/ for N = --extract-pages, taken from the site object without HTTP.
   The site repeats with a period of 258 pages, so the default of 4 periods has the same page mix as
   the crawl; 0 takes all --pages. Prints the loaded rate as a share of it (goal: >= 80 %).
4. news-please (unless --skip-news-please; needs --news-please-python, a Python with news-please
   installed, e.g. `python3 -m venv /tmp/np && /tmp/np/bin/pip install news-please`): its library
   API `NewsPlease.from_urls` over the first --news-please-pages article URLs of the same site, in
   batches of 32 (its fetch threads: one per URL of a batch, as our 32 concurrent requests; its
   extraction: a process pool of one process per core, started per batch by news-please itself),
   images not fetched. Counts results whose main text has at least min_article_chars (400)
   characters. It stores nothing: the comparison favours it. Prints ours / news-please.

Touches its scratch database (dropped at the end) and a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # runnable as a script from any directory, installed or not
sys.path.insert(0, str(Path(__file__).resolve().parent))

import psycopg  # noqa: E402
from corpus_site import CorpusSite  # noqa: E402
from procfs import cpu_seconds, descendants  # noqa: E402

from crawler.pool import ExtractorPool, worker_count  # noqa: E402
from crawler.records import Page  # noqa: E402

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
ARTICLE_PATTERN = "/a/[0-9]+/$"
MIN_ARTICLE_CHARS = 400  # ingest/defaults.py's, on every side
CONCURRENCY = 32
NEWS_PLEASE_BATCH = CONCURRENCY

# Runs in news-please's own virtualenv: reads {"urls", "batch", "min_chars"} on stdin, prints one JSON line.
NEWS_PLEASE_PROGRAM = r"""
import json, logging, sys, time
logging.disable(logging.CRITICAL)
from importlib.metadata import version
from newsplease import NewsPlease
job = json.load(sys.stdin)
urls, batch, min_chars = job["urls"], job["batch"], job["min_chars"]
started = time.perf_counter()
with_text = articles = 0
for i in range(0, len(urls), batch):
    # request_args must be given: without it news-please's from_urls drops every result.
    results = NewsPlease.from_urls(urls[i:i + batch], request_args={"timeout": 60}, fetch_images=False)
    for article in results.values():
        text = getattr(article, "maintext", None) or ""
        with_text += bool(text)
        articles += len(text) >= min_chars
print(json.dumps({"seconds": time.perf_counter() - started, "urls": len(urls), "with_text": with_text,
                  "articles": articles, "version": version("news-please")}))
"""


def write_config(path: Path, data_dir: Path, site: CorpusSite, pages: int) -> Path:
    feeds = ", ".join(f'"{url}"' for url in site.feed_urls())
    path.write_text(f"""
[service]
data_dir = "{data_dir}"

[crawl]
download_delay = 0
autothrottle = false
obey_robots_txt = true
concurrent_requests = {CONCURRENCY}
concurrent_requests_per_host = {CONCURRENCY}
max_pages = {pages + 10}
min_article_chars = {MIN_ARTICLE_CHARS}

[[sources]]
name = "bench"
feeds = [{feeds}]
sitemaps = ["{site.url('/sitemap_index.xml')}"]
follow_links = false
article_pattern = "{ARTICLE_PATTERN}"
allow_private_hosts = true
""")
    return path


def crawl_and_load(site: CorpusSite, pages: int, dsn: str, tmp: Path) -> dict:
    config = write_config(tmp / "bench.toml", tmp / "data", site, pages)
    env = {**os.environ, "DATABASE_URL": dsn, "NEWSINGEST_CONFIG": ""}
    cli = [sys.executable, "-m", "ingest.cli", "--config", str(config), "--log-level", "warning"]
    subprocess.run([*cli, "migrate"], cwd=ROOT, env=env, check=True, capture_output=True)
    log, out = tmp / "crawl.log", tmp / "crawl.out"
    with open(log, "w") as err, open(out, "w") as stdout:
        own = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        process = subprocess.Popen([*cli, "crawl", "bench", "--progress", "off"], cwd=ROOT, env=env,
                                   stdout=stdout, stderr=err, text=True)
        cpu: dict[int, float] = {}
        sampler = threading.Thread(target=sample_cpu, args=(process, cpu), daemon=True)
        sampler.start()
        process.wait()
        seconds = time.perf_counter() - started
        own_after = resource.getrusage(resource.RUSAGE_SELF)
        sampler.join()
    done = subprocess.CompletedProcess(process.args, process.returncode, out.read_text())
    print(f"crawl: {done.stdout.strip()} (exit {done.returncode})")
    if done.returncode != 0:
        print("crawl log (last lines):\n" + "\n".join(log.read_text().splitlines()[-20:]))
    with psycopg.connect(dsn) as conn:
        rows, copies, clusters, texts = conn.execute(
            "SELECT count(*), count(duplicate_of), count(DISTINCT cluster_id), count(DISTINCT content_hash)"
            " FROM articles").fetchone()
        crawl_s = conn.execute(
            "SELECT extract(epoch FROM finished_at - started_at) FROM crawl_runs").fetchone()
        load_s = conn.execute(
            "SELECT sum(extract(epoch FROM finished_at - started_at)) FROM load_runs").fetchone()
    return {"seconds": seconds, "rows": rows, "copies": copies, "clusters": clusters, "texts": texts,
            "served": site.served, "crawl_s": float(crawl_s[0]) if crawl_s and crawl_s[0] is not None else None,
            "load_s": float(load_s[0]) if load_s[0] is not None else None, "exit": done.returncode,
            "site_cpu": _cpu(own_after) - _cpu(own), "crawl_cpu": cpu.get(process.pid, 0.0),
            "workers_cpu": sum(v for pid, v in cpu.items() if pid != process.pid)}


def _cpu(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def sample_cpu(process: subprocess.Popen, cpu: dict[int, float]) -> None:
    """CPU seconds of each process of the crawl's tree, sampled until it exits: the pool's workers are
    not the crawl's direct children, so the kernel's accounting of reaped children misses them."""
    while process.poll() is None:
        for pid in [process.pid, *descendants(process.pid)]:
            cpu[pid] = max(cpu.get(pid, 0.0), cpu_seconds(pid))
        time.sleep(0.5)


async def _extract_all(pool: ExtractorPool, site: CorpusSite, numbers: range, in_flight: int) -> int:
    # Bounded rather than all at once: the pool stays saturated without 1.6 GB of page strings waiting.
    gate = asyncio.Semaphore(in_flight)
    now = datetime.now(UTC)

    async def one(n: int) -> bool:
        async with gate:
            page = Page(url=site.article_url(n), source="bench", html=site.article(n).decode("utf-8"),
                        status=200, fetched_at=now, discovered_via="sitemap")
            return (await pool.extract(page)).article is not None

    return sum(await asyncio.gather(*(one(n) for n in numbers)))


def pure_extraction(site: CorpusSite, count: int) -> tuple[float, int, int]:
    workers = worker_count(0)
    pool = ExtractorPool(workers, min_article_chars=MIN_ARTICLE_CHARS, article_pattern=ARTICLE_PATTERN)
    try:
        asyncio.run(_extract_all(pool, site, range(workers * 2), workers * 4))  # start and warm every worker
        started = time.perf_counter()
        articles = asyncio.run(_extract_all(pool, site, range(count), workers * 4))
        return time.perf_counter() - started, count, articles
    finally:
        pool.shutdown()


def news_please(python: str, site: CorpusSite, count: int, tmp: Path) -> dict | str:
    job = json.dumps({"urls": [site.article_url(n) for n in range(count)], "batch": NEWS_PLEASE_BATCH,
                      "min_chars": MIN_ARTICLE_CHARS})
    log = tmp / "news-please.log"
    try:
        with open(log, "w") as err:
            done = subprocess.run([python, "-c", NEWS_PLEASE_PROGRAM], input=job, stdout=subprocess.PIPE,
                                  stderr=err, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    except OSError as exc:
        return f"could not start {python}: {exc}"
    if done.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-5:])
        return f"{python} exited with {done.returncode}:\n{tail}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", nargs="?", type=Path, default=ROOT.parent / "shared" / "corpus" / "news-pages")
    ap.add_argument("--pages", type=int, default=5_000, help="article pages on the site (all crawled)")
    ap.add_argument("--dsn", default=ADMIN, help="a server where we may create and drop a database")
    ap.add_argument("--extract-pages", type=int, default=4 * 258,
                    help="pages of the pure extraction run (0: all --pages)")
    ap.add_argument("--news-please-python", metavar="PATH", help="a Python with news-please installed")
    ap.add_argument("--news-please-pages", type=int, default=258)
    ap.add_argument("--skip-news-please", action="store_true")
    args = ap.parse_args(argv)
    extract_pages = min(args.extract_pages or args.pages, args.pages)

    name = f"newsingest_bench_{uuid.uuid4().hex[:8]}"
    dsn = psycopg.conninfo.make_conninfo(args.dsn, dbname=name)
    with psycopg.connect(args.dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        version = admin.execute("SHOW server_version").fetchone()[0]
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {memory_gib:.0f} GiB, Python "
          f"{platform.python_version()}, PostgreSQL {version}; load average {os.getloadavg()[0]:.2f} at start")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            site = CorpusSite(args.corpus, args.pages)
            try:
                print(f"site: {args.pages} article pages from {len(site.templates)} corpus pages "
                      f"({site.varied} with a place for the credit line), {len(site.feed_urls())} feeds, "
                      f"sitemap index of {-(-args.pages // 1000)}; pool: {worker_count(0)} workers")
                e2e = crawl_and_load(site, args.pages, dsn, Path(tmp))
                pool_s, pool_pages, pool_articles = pure_extraction(site, extract_pages)
                np_result = None
                if not args.skip_news_please:
                    np_result = (news_please(args.news_please_python, site, args.news_please_pages, Path(tmp))
                                 if args.news_please_python else
                                 "not run: give --news-please-python PATH (a Python with news-please installed)")
            finally:
                site.stop()
    finally:
        with psycopg.connect(args.dsn, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    split = ""
    if e2e["crawl_s"] is not None and e2e["load_s"] is not None:
        split = f" (crawl {e2e['crawl_s']:.1f} s, load {e2e['load_s']:.1f} s, startup and the rest " \
                f"{e2e['seconds'] - e2e['crawl_s'] - e2e['load_s']:.1f} s)"
    print(f"loaded: {e2e['rows']} rows in articles from {e2e['served']} article pages served, in "
          f"{e2e['seconds']:.1f} s{split}")
    print(f"        {e2e['texts']} distinct texts, {e2e['copies']} stored as exact copies (duplicate_of), "
          f"{e2e['clusters']} near-duplicate clusters")
    # On 2 cores the site's thread competes with the crawl; the pure extraction run has the cores to itself.
    print(f"        CPU during the crawl: crawl process {e2e['crawl_cpu']:.0f} s, its extraction workers (and fork "
          f"server) {e2e['workers_cpu']:.0f} s, the site {e2e['site_cpu']:.0f} s; "
          f"{e2e['seconds'] * (os.cpu_count() or 1):.0f} core-s elapsed")
    loaded_rate = e2e["rows"] / e2e["seconds"]
    pool_rate = pool_articles / pool_s
    print(f"{'':34}{'pages':>8}{'articles':>10}{'seconds':>10}{'articles/s':>12}")
    print(f"{'crawl + load (newsingest crawl)':34}{e2e['served']:>8}{e2e['rows']:>10}{e2e['seconds']:>10.1f}"
          f"{loaded_rate:>12.1f}")
    print(f"{'pure extraction (ExtractorPool)':34}{pool_pages:>8}{pool_articles:>10}{pool_s:>10.1f}"
          f"{pool_rate:>12.1f}")
    if isinstance(np_result, dict):
        np_rate = np_result["articles"] / np_result["seconds"]
        label = f"news-please {np_result['version']} from_urls"
        print(f"{label:34}{np_result['urls']:>8}{np_result['articles']:>10}{np_result['seconds']:>10.1f}"
              f"{np_rate:>12.1f}")
    print(f"loaded / pure extraction: {100 * loaded_rate / pool_rate:.0f} % (goal >= 80 %)")
    if isinstance(np_result, dict):
        print(f"ours / news-please: {loaded_rate / np_rate:.2f}x (news-please: {np_result['with_text']} of "
              f"{np_result['urls']} with any main text, stores nothing)")
    elif np_result is not None:
        print(f"news-please: {np_result}")
    print(f"load average {os.getloadavg()[0]:.2f} at end")
    return 0 if e2e["exit"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
