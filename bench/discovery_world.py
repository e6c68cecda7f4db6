"""Issue 15's measurements on the test world (tests/world.py), crawled as a user runs newsingest: the daemon,
each site seeded with its homepage only, every source scheduled every --interval seconds, for --seconds.

One site per discovery style (feed named only in <link rel=alternate>, feed on a section page, sitemap
spelling the default port, AMP-only links, paginated sections). The sections site has one page that
answers after --slow seconds (default 35, past the default 30 s download timeout). When a source's first
crawl has ended, one story of each site but the AMP one is corrected (new text, dateModified, feed
<updated> / sitemap lastmod / listing ETag moved).

Printed, per site: stories stored by the end; feed requests; robots.txt requests per crawl; page requests
beyond one per URL within a crawl (the same page fetched twice in one crawl); crawls started and the
largest gap between two starts (a slow page that holds a crawl makes the scheduler coalesce the next ones);
and for the corrected story, in which crawl after the correction its new text was fetched.

Touches the PostgreSQL server given by --dsn (a scratch database it creates and drops), a temporary data
directory, loopback addresses 127.0.0.21-25 (port 80 on one of them: run as root, else that site is left
out) and a `newsingest run` child process.

    .venv/bin/python bench/discovery_world.py [--seconds 240] [--interval 60] [--slow 35]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import datetime
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from world import World, WorldSite  # noqa: E402

from ingest.migrate import migrate  # noqa: E402

SLOW_PATH = "/about-us/"
CORRECT = {"rss_link": 3, "atom_section": 5, "default_port": 7, "sections": 2}
FEEDS = {"rss_link": "/feed/", "atom_section": "/news/feed.atom"}
MARKER = "An earlier version of this story"


def runs(conn, source: str) -> list[tuple[datetime, datetime | None]]:
    return conn.execute("SELECT started_at, finished_at FROM crawl_runs WHERE source = %s ORDER BY started_at",
                        (source,)).fetchall()


def crawl_of(moment: float, starts: list[float]) -> int:
    """Index of the crawl a wall-clock moment falls in (the last one started before it)."""
    index = -1
    for i, start in enumerate(starts):
        if start <= moment:
            index = i
    return index


def report(world: World, conn, corrected: dict[str, tuple[float, str]], interval: float) -> None:
    total = covered = 0
    print(f"{'site':<14} {'stored':>8} {'feeds':>6} {'robots/crawl':>13} {'dup fetches':>12} {'crawls':>7} "
          f"{'max gap s':>10} {'correction':>16}")
    for name, site in world.sites.items():
        stored = world.stored(site)
        stories = site.story_urls()
        hit = sum(url in stored for url in stories)
        total += len(stories)
        covered += hit
        started = [row[0].timestamp() for row in runs(conn, name)]
        per_crawl: dict[int, Counter] = {}
        for r in site.requests:
            per_crawl.setdefault(crawl_of(r.time, started), Counter())[r.bare_path] += 1
        robots = [c["/robots.txt"] for i, c in sorted(per_crawl.items()) if i >= 0]
        dups = sum(n - 1 for c in per_crawl.values() for path, n in c.items()
                   if n > 1 and path not in ("/robots.txt", SLOW_PATH))
        feeds = sum(c[FEEDS[name]] for c in per_crawl.values()) if name in FEEDS else "-"
        gaps = [b - a for a, b in zip(started, started[1:], strict=False)]
        caught = "-"
        if name in corrected:
            at, path = corrected[name]
            fetched = [r.time for r in site.requests if r.bare_path == path and r.time > at]
            text = stored.get(site.url(path), "")
            if MARKER in text and fetched:
                after = [s for s in started if s > at]
                # The first fetch after the correction that the stored text can come from.
                which = sum(1 for s in after if s <= fetched[0])
                caught = f"crawl {max(1, which)} after"
            else:
                caught = "not caught"
        print(f"{name:<14} {hit:>4}/{len(stories):<3} {feeds!s:>6} {','.join(map(str, robots)) or '-':>13} "
              f"{dups:>12} {len(started):>7} {max(gaps, default=0):>10.0f} {caught:>16}")
    print(f"stories stored: {covered}/{total} = {100 * covered / max(1, total):.1f} %; "
          f"scheduled every {interval:g} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--seconds", type=float, default=240)
    parser.add_argument("--interval", type=float, default=60)
    parser.add_argument("--slow", type=float, default=35)
    args = parser.parse_args()

    name = f"newsingest_bench_world_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = psycopg.conninfo.make_conninfo(args.dsn, dbname=name)
    home = Path(tempfile.mkdtemp(prefix="newsingest-world-"))
    world = World.start(url, home / "data")
    daemon = None
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            migrate(conn)
        world.data_dir.mkdir()
        world.sites["sections"].slow[SLOW_PATH] = args.slow
        sources = world.sources_toml(interval=args.interval)
        world.config = home / "newsingest.toml"
        world.config.write_text(f'[service]\ndata_dir = "{world.data_dir}"\n\n[crawl]\nallow_private_hosts = true\n\n'
                                f"[load]\ninterval = \"10s\"\n\n{sources}")
        env = {**os.environ, "DATABASE_URL": url, "NEWSINGEST_DATA_DIR": str(world.data_dir), "NEWSINGEST_CONFIG": ""}
        log = open(home / "daemon.log", "w")
        daemon = subprocess.Popen([sys.executable, "-m", "ingest.cli", "--log-format", "json", "--config",
                                   str(world.config), "run"], stdout=log, stderr=subprocess.STDOUT, env=env)
        corrected: dict[str, tuple[float, str]] = {}
        deadline = time.monotonic() + args.seconds
        with psycopg.connect(url, autocommit=True) as conn:
            while time.monotonic() < deadline and daemon.poll() is None:
                for site_name, index in CORRECT.items():
                    site: WorldSite | None = world.sites.get(site_name)
                    if site is None or site_name in corrected:
                        continue
                    if any(finished is not None for _, finished in runs(conn, site_name)):
                        story = site.correct(index)
                        corrected[site_name] = (time.time(), story.path)
                time.sleep(1)
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(timeout=120)
            report(world, conn, corrected, args.interval)
        print(f"daemon log: {home / 'daemon.log'}")
    finally:
        if daemon is not None and daemon.poll() is None:
            daemon.kill()
        world.stop()
        with psycopg.connect(args.dsn, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
