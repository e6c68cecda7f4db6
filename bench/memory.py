"""Benchmark: resident memory of a crawl process over a long crawl, and of the daemon over cycles.

    python bench/memory.py [CORPUS_DIR] [--pages 10000] [--checkpoint 1000] [--daemon-pages 10000]
                           [--daemon-step 1000]

A local site on 127.0.0.1 (bench/corpus_site.py, a thread of this process) serves the corpus pages
(default ../shared/corpus/news-pages) under many URLs, /a/<n>/ being corpus page n mod 258 with its
own canonical URL and a numbered credit line, listed in one sitemap. A real `newsingest crawl bench
--no-load` process (politeness off, extraction in its worker pool, records into a temporary spool)
crawls --pages of them. Its resident memory is sampled from
/proc every 0.2 s: peak (VmHWM) when the site has served --checkpoint article pages, and at the end;
the extraction workers' peaks likewise. Goal: end peak at most 1.2x the checkpoint peak, no process
above 500 MB.

Then (unless --daemon-pages 0) a `newsingest run` daemon crawls the site every 2 s and loads into a
scratch database while the site grows like a news site: after each crawl is loaded, --daemon-step
new articles appear in the sitemap, until the daemon has loaded --daemon-pages; incremental crawling
fetches only the new ones. Its resident memory is printed after each crawl's articles are loaded, and
compared after --checkpoint and after --daemon-pages articles. --pages 0 skips the crawl process part.
The scratch database (on --dsn's server) is dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ itself, when run as a script

from corpus_site import CorpusSite  # noqa: E402
from procfs import descendants, status_kib  # noqa: E402

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def config_for(path: Path, data_dir: Path, site: CorpusSite, pages: int, interval: str = "1h") -> Path:
    path.write_text(f"""
[service]
data_dir = "{data_dir}"

[crawl]
download_delay = 0
autothrottle = false
allow_private_hosts = true
obey_robots_txt = false
concurrent_requests = 32
concurrent_requests_per_host = 32
max_pages = {pages + 10}
min_article_chars = 200

[load]
interval = "2s"

[[sources]]
name = "bench"
sitemaps = ["{site.url('/sitemap.xml')}"]
follow_links = false
article_pattern = "/a/[0-9]+/$"
interval = "{interval}"
""")
    return path


def crawl_memory(site: CorpusSite, pages: int, checkpoint: int, dsn: str, tmp: Path) -> None:
    config = config_for(tmp / "crawl.toml", tmp / "crawl-data", site, pages)
    env = {**os.environ, "DATABASE_URL": dsn, "NEWSINGEST_CONFIG": ""}
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "ingest.cli", "--config", str(config), "--log-format", "json", "--log-level", "warning",
         "crawl", "bench", "--no-load"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        text=True)
    main_peak = worker_peak = 0
    at_checkpoint = None
    while process.poll() is None:
        main_peak = max(main_peak, status_kib(process.pid, "VmHWM"))
        worker_peak = max([worker_peak, *(status_kib(p, "VmHWM") for p in descendants(process.pid))])
        if at_checkpoint is None and site.served >= checkpoint:
            at_checkpoint = (main_peak, worker_peak, site.served, time.monotonic() - started)
        time.sleep(0.2)
    seconds = time.monotonic() - started
    print(f"crawl: {process.stdout.read().strip()}")
    print(f"served {site.served} article pages in {seconds:.0f} s ({site.served / seconds:.1f} pages/s, "
          f"fetch + extraction + spool)")
    if at_checkpoint is None:
        print("the crawl never reached the checkpoint")
        return
    main_1, workers_1, served_1, seconds_1 = at_checkpoint
    print(f"{'peak RSS (MiB)':24}{'after ' + str(served_1):>14}{'after ' + str(site.served):>14}{'ratio':>8}")
    print(f"{'crawl process':24}{main_1 / 1024:>14.0f}{main_peak / 1024:>14.0f}{main_peak / main_1:>8.2f}")
    print(f"{'largest worker':24}{workers_1 / 1024:>14.0f}{worker_peak / 1024:>14.0f}"
          f"{worker_peak / max(workers_1, 1):>8.2f}")
    print(f"(checkpoint reached after {seconds_1:.0f} s); goal: ratio <= 1.2, every process < 500 MB")


def daemon_memory(site: CorpusSite, total: int, step: int, checkpoint: int, dsn: str, tmp: Path) -> None:
    """A `newsingest run` daemon crawls the site every 2 s and loads what it finds, while the site grows:
    each time the daemon has loaded a crawl, `step` more articles are published, until `total` are
    loaded. The daemon's own resident memory is read after each crawl's articles are loaded."""
    site.pages = min(total, step)
    config = config_for(tmp / "daemon.toml", tmp / "daemon-data", site, total, interval="2s")
    env = {**os.environ, "DATABASE_URL": dsn, "NEWSINGEST_CONFIG": ""}
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "ingest.cli", "--config", str(config), "--log-format", "json", "run"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    loaded, samples = 0, []  # (articles loaded, daemon RSS KiB)
    try:
        for line in process.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("event") != "crawl_loaded" or not event.get("new"):
                continue
            loaded += event["new"]
            samples.append((loaded, status_kib(process.pid, "VmRSS")))
            print(f"daemon: {loaded:>6} articles loaded after {time.monotonic() - started:5.0f} s, "
                  f"RSS {samples[-1][1] / 1024:.1f} MiB")
            if loaded >= total:
                break
            site.pages = min(total, loaded + step)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
    first = next((s for s in samples if s[0] >= checkpoint), None)
    if first is None or samples[-1][0] < total:
        print(f"the daemon loaded {loaded} of {total} articles before it stopped")
        return
    print(f"{'daemon RSS (MiB)':24}{'after ' + str(first[0]):>14}{'after ' + str(samples[-1][0]):>14}{'ratio':>8}")
    print(f"{'daemon process':24}{first[1] / 1024:>14.1f}{samples[-1][1] / 1024:>14.1f}"
          f"{samples[-1][1] / first[1]:>8.2f}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", nargs="?", type=Path, default=ROOT.parent / "shared" / "corpus" / "news-pages")
    ap.add_argument("--pages", type=int, default=10_000)
    ap.add_argument("--checkpoint", type=int, default=1_000)
    ap.add_argument("--daemon-pages", type=int, default=10_000, help="articles the daemon loads (0: no daemon run)")
    ap.add_argument("--daemon-step", type=int, default=1_000, help="articles published after each daemon crawl")
    ap.add_argument("--dsn", default=ADMIN, help="a server where we may create and drop a database")
    args = ap.parse_args(argv)
    import psycopg

    name = f"newsingest_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    dsn = psycopg.conninfo.make_conninfo(args.dsn, dbname=name)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"load average {os.getloadavg()[0]:.2f} at start")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            site = CorpusSite(args.corpus, max(args.pages, args.daemon_pages))
            try:
                if args.pages:
                    crawl_memory(site, args.pages, args.checkpoint, dsn, Path(tmp))
                if args.daemon_pages:
                    site.served = 0
                    daemon_memory(site, args.daemon_pages, args.daemon_step, args.checkpoint, dsn, Path(tmp))
            finally:
                site.stop()
    finally:
        with psycopg.connect(args.dsn, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(f"load average {os.getloadavg()[0]:.2f} at end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
