"""Issue 15's test world: five local sites, each showing its stories in one discovery style only, crawled as
a user would set them up (nothing but each homepage), once per source, then again after corrections.

One crawl per source is shared by the tests of this module (module fixture `first_crawl`); each test checks
one thing a user would notice about it. The sites are tests/world.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
import pytest
from conftest import write_config
from world import PORT_80_NOTE, World, WorldSite

SLOW_PATH = "/about-us/"
SLOW_SECONDS = 4.0  # answered after the crawl's 1.5 s download timeout, twice


@pytest.fixture(scope="module")
def world(database_url, tmp_path_factory):
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("TRUNCATE articles, article_versions, crawl_runs, loaded_segments, load_runs, crawl_requests,"
                     " source_schedule, fetch_state RESTART IDENTITY CASCADE")
    home = tmp_path_factory.mktemp("world")
    world = World.start(database_url, home / "data")
    world.data_dir.mkdir()
    world.sites["sections"].slow[SLOW_PATH] = SLOW_SECONDS
    world.config = write_config(home / "newsingest.toml", world.data_dir, world.sources_toml(),
                                download_timeout="1.5")
    yield world
    world.stop()


def crawl(world: World, name: str) -> None:
    result = world.crawl(name)
    assert result.returncode == 0, result.stderr[-3000:]


@dataclass
class FirstCrawl:
    world: World
    requests: dict[str, list]  # site name -> the requests of its first crawl


@pytest.fixture(scope="module")
def first_crawl(world):
    for name in world.sites:
        crawl(world, name)
    return FirstCrawl(world, {name: list(site.requests) for name, site in world.sites.items()})


def _site(world: World, style: str) -> WorldSite:
    site = world.sites.get(style)
    if site is None:
        pytest.skip(PORT_80_NOTE)
    return site


def test_one_crawl_of_each_homepage_covers_every_discovery_style(first_crawl):
    world = first_crawl.world
    missing = {name: sorted(set(site.story_urls()) - set(world.stored(site))) for name, site in world.sites.items()}
    assert {name: urls for name, urls in missing.items() if urls} == {}


def test_feeds_named_only_in_link_rel_alternate_are_read_once(first_crawl):
    rss = [r for r in first_crawl.requests["rss_link"] if r.bare_path == "/feed/"]
    atom = [r for r in first_crawl.requests["atom_section"] if r.bare_path == "/news/feed.atom"]
    assert (len(rss), len(atom)) == (1, 1)


def test_robots_txt_is_requested_once_per_host_and_crawl(first_crawl):
    counts = {name: sum(r.bare_path == "/robots.txt" for r in requests)
              for name, requests in first_crawl.requests.items()}
    assert counts == {name: 1 for name in first_crawl.requests}


def test_no_page_is_fetched_twice_because_of_how_its_url_is_spelled(first_crawl):
    _site(first_crawl.world, "default_port")
    twice = {}
    for name, requests in first_crawl.requests.items():
        paths = [r.bare_path for r in requests if r.bare_path not in (SLOW_PATH, "/robots.txt")]
        twice[name] = sorted({p for p in paths if paths.count(p) > 1})
    assert {name: paths for name, paths in twice.items() if paths} == {}


def test_a_story_linked_only_by_its_amp_url_is_stored_under_its_canonical_url(first_crawl):
    world = first_crawl.world
    with psycopg.connect(world.database_url) as conn:
        rows = conn.execute("SELECT canonical_url, url FROM articles WHERE source = 'amp'").fetchall()
    assert sorted(rows) == sorted((url, url) for url in world.sites["amp"].story_urls())


def test_a_page_slower_than_the_timeout_is_tried_at_most_twice_and_last(first_crawl):
    requests = first_crawl.requests["sections"]
    slow = [i for i, r in enumerate(requests) if r.bare_path == SLOW_PATH]
    assert 1 <= len(slow) <= 2
    if len(slow) == 2:
        between = [r.bare_path for r in requests[slow[0] + 1:slow[1]]]
        assert between, "the retry came straight after the timeout"


def test_corrections_are_stored_within_two_crawls_of_the_change(first_crawl):
    world = first_crawl.world
    corrected = {}
    for style, index in (("rss_link", 3), ("atom_section", 5), ("default_port", 7), ("sections", 2)):
        site = world.sites.get(style)
        if site is not None:
            corrected[style] = site.correct(index)
    stale: dict[str, str] = {}
    for _ in range(2):
        stale = {}
        for style, story in corrected.items():
            crawl(world, style)
            site = world.sites[style]
            if "An earlier version of this story" not in world.stored(site).get(site.url(story.path), ""):
                stale[style] = story.path
        corrected = {style: story for style, story in corrected.items() if style in stale}
    assert stale == {}
