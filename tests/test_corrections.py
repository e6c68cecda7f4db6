"""Corrections caught on the next crawl: every change signal a site gives (a feed entry's date, a sitemap's
lastmod, a listing page whose content changed) makes the next crawl refetch a known article, conditionally
where only a listing changed; and the revisit interval adapts per source to how soon its articles change.

End-to-end tests crawl the fixture site (tests/newssite.py) twice with the real CLI and apply the fetch
state as the loader does (test_incremental's helpers); the policy is tested on its own below.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from newssite import NewsSite, build_articles
from plain_pages import article_html, homepage_html, serve, serve_plain_site
from test_crawl import source_block
from test_incremental import article_requests, crawl, stored_text

from crawler.discovery import parse_feed
from crawler.fetch_state import KIND_ARTICLE, FetchState, FetchStateBook, RevisitPolicy


@pytest.fixture
def site():
    site = NewsSite(articles=build_articles(4)).start()
    yield site
    site.stop()


@pytest.fixture
def state_db(db):
    db.execute("TRUNCATE fetch_state")
    return db


def correct(site: NewsSite, index: int, modified_at: datetime | None = None, first_paragraph: bool = False):
    """Publish a correction of the index-th article; with `modified_at`, its feed and sitemap dates move."""
    article = site.articles[index]
    paragraphs = list(article.paragraphs)
    if first_paragraph:  # the teaser on listing pages changes with it
        paragraphs[0] = "Corrected: " + paragraphs[0]
    paragraphs.append("Correction: an earlier version of this story misstated the date of the vote.")
    site.update_article(article.path, paragraphs, modified_at=modified_at)
    site.clear_requests()
    site.responses.clear()
    return article, "\n\n".join(paragraphs)


def a_minute_later(article) -> datetime:
    # Older than our fetch, as a site whose clock runs behind ours (or that dates the edit's start) says.
    return (article.modified_at or article.published_at) + timedelta(minutes=1)


def versions(db, url: str) -> int:
    return db.execute(
        "SELECT count(*) FROM article_versions v JOIN articles a ON a.id = v.article_id WHERE a.canonical_url = %s",
        (url,),
    ).fetchone()[0]


def test_an_article_whose_atom_updated_moved_is_stored_as_a_new_version_on_the_next_crawl(
    site, state_db, run_cli, tmp_path, data_dir
):
    source = source_block("news", feeds=[site.url("/feeds/atom.xml")])
    crawl(run_cli, tmp_path, data_dir, state_db, source)
    article, text = correct(site, 1, modified_at=a_minute_later(site.articles[1]))

    crawl(run_cli, tmp_path, data_dir, state_db, source)
    assert stored_text(state_db, site.url(article.path)) == text
    assert versions(state_db, site.url(article.path)) == 1


def test_only_the_article_whose_feed_date_moved_is_fetched_again(site, state_db, run_cli, tmp_path, data_dir):
    source = source_block("news", feeds=[site.url("/feeds/atom.xml")])
    crawl(run_cli, tmp_path, data_dir, state_db, source)
    article, _ = correct(site, 1, modified_at=a_minute_later(site.articles[1]))

    crawl(run_cli, tmp_path, data_dir, state_db, source)
    assert article_requests(site) == [article.path]


def test_an_article_whose_news_sitemap_lastmod_moved_is_refetched_even_when_the_date_is_older_than_our_copy(
    site, state_db, run_cli, tmp_path, data_dir
):
    source = source_block("news", sitemaps=[site.url("/sitemaps/news.xml.gz")])
    crawl(run_cli, tmp_path, data_dir, state_db, source)
    article, text = correct(site, 3, modified_at=a_minute_later(site.articles[3]))

    crawl(run_cli, tmp_path, data_dir, state_db, source)
    assert article_requests(site) == [article.path]
    assert stored_text(state_db, site.url(article.path)) == text


def test_a_listing_page_that_changed_has_its_known_articles_refetched_conditionally_and_the_correction_stored(
    site, state_db, run_cli, tmp_path, data_dir
):
    # No date moves anywhere: only the homepage's teaser (and so its ETag and body) changes.
    source = source_block("news", start_urls=[site.url("/")])
    crawl(run_cli, tmp_path, data_dir, state_db, source)
    article, text = correct(site, 2, first_paragraph=True)

    crawl(run_cli, tmp_path, data_dir, state_db, source)
    assert stored_text(state_db, site.url(article.path)) == text
    for other in site.articles:
        if other.path != article.path:
            assert site.statuses(other.path) == [304], other.path


def test_an_rss_entry_whose_description_changed_under_an_unmoved_pubdate_has_the_correction_stored(
    site, state_db, run_cli, tmp_path, data_dir
):
    # RSS dates an item by its publication only: the changed feed is the signal, as an undated listing is.
    source = source_block("news", feeds=[site.url("/feeds/rss.xml")])
    crawl(run_cli, tmp_path, data_dir, state_db, source)
    article, text = correct(site, 1, first_paragraph=True)

    crawl(run_cli, tmp_path, data_dir, state_db, source)
    assert stored_text(state_db, site.url(article.path)) == text


def test_a_correction_listed_only_on_an_older_page_of_an_unchanged_section_is_stored(
    state_db, run_cli, tmp_path, data_dir
):
    with NewsSite(articles=build_articles(4)) as site:
        site.custom_etags = True
        urls = site.article_urls()

        def section_pages(teaser: str = "") -> None:
            next_page = '<link rel="next" href="/section/news/page/2/">'
            serve(site, "/section/news/", homepage_html(urls[:2], head=next_page))
            serve(site, "/section/news/page/2/", homepage_html(urls[2:]).replace("</ul>", f"</ul>{teaser}"))

        serve_plain_site(site, homepage_html([site.url("/section/news/")]))
        section_pages()
        source = source_block("news", start_urls=[site.url("/")])
        crawl(run_cli, tmp_path, data_dir, state_db, source)
        _, text = correct(site, 3, first_paragraph=True)
        article = site.articles[3]
        serve(site, article.path, article_html(article, site.url(article.path)))
        section_pages(teaser="<p>Corrected.</p>")
        site.responses.clear()

        crawl(run_cli, tmp_path, data_dir, state_db, source)
        assert site.statuses("/section/news/") == [304]
        assert stored_text(state_db, site.url(article.path)) == text


def test_feeds_say_which_entry_dates_are_change_dates():
    rss = (b'<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>'
           b"<item><link>https://n.example/a</link><pubDate>Fri, 20 Nov 2026 09:00:00 +0000</pubDate></item>"
           b"<item><link>https://n.example/b</link><atom:updated>2026-11-20T10:00:00Z</atom:updated></item>"
           b"</channel></rss>")
    assert parse_feed(rss, "https://n.example/rss").modified == {"https://n.example/b"}
    json_feed = (b'{"version": "https://jsonfeed.org/version/1.1", "items": ['
                 b'{"url": "https://n.example/c", "date_published": "2026-11-20T08:00:00Z"},'
                 b'{"url": "https://n.example/d", "date_modified": "2026-11-20T08:05:00Z"}]}')
    assert parse_feed(json_feed, "https://n.example/feed.json").modified == {"https://n.example/d"}


def test_a_listed_date_in_the_future_refetches_the_article_once_not_on_every_crawl():
    fetched = datetime(2026, 11, 20, 12, tzinfo=UTC)
    future = fetched + timedelta(hours=5)  # a site writing local time as UTC
    first = FetchStateBook("n", {}, RevisitPolicy())
    assert first.should_fetch_article("https://n.example/a", fetched, future)
    first.response("https://n.example/a", "page", 200, {}, None, fetched)
    first.content("https://n.example/a", "h", fetched, kind=KIND_ARTICLE)
    later = fetched + timedelta(minutes=10)
    assert not FetchStateBook("n", first.updates, RevisitPolicy()).should_fetch_article("https://n.example/a", later,
                                                                                          future)


def test_known_articles_of_a_changed_listing_are_rechecked_newest_first_and_only_inside_the_revisit_window():
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    urls = [f"https://n.example/{i}" for i in range(3)]
    states = {url: _article(url, now - timedelta(minutes=i)) for i, url in enumerate(urls)}
    book = FetchStateBook("n", states, RevisitPolicy())
    assert book.recheck_order("https://n.example/0", now) > book.recheck_order("https://n.example/2", now)
    old = _article("https://n.example/old", now - timedelta(days=3))
    book = FetchStateBook("n", {old.url: old}, RevisitPolicy())
    assert book.recheck_order(old.url, now) is None  # outside the revisit window: dates only


def test_a_source_whose_articles_are_corrected_within_minutes_starts_new_articles_at_a_short_interval():
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    policy = RevisitPolicy(min_interval=3600, floor=300)
    quick = [_article(f"https://n.example/{i}", now - timedelta(hours=1), change_seconds=s,
                      last_changed_at=now - timedelta(minutes=30)) for i, s in enumerate((420.0, 600.0, 540.0))]
    assert policy.for_source(quick, now).next_interval(None, changed=False) == 540.0
    assert policy.for_source([], now).next_interval(None, changed=False) == 3600.0


def test_one_quick_correction_does_not_shorten_the_source_interval():
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    one = _article("https://n.example/a", now - timedelta(hours=1), change_seconds=60.0, last_changed_at=now)
    assert RevisitPolicy(min_interval=3600).for_source([one], now).next_interval(None, changed=False) == 3600.0


def test_the_adapted_source_interval_never_goes_below_the_floor():
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    fast = [_article(f"https://n.example/{i}", now, change_seconds=5.0, last_changed_at=now) for i in range(3)]
    assert RevisitPolicy(min_interval=3600, floor=300).for_source(fast, now).start == 300.0


def test_a_changed_article_interval_halves_below_the_minimum_down_to_the_floor():
    policy = RevisitPolicy(min_interval=3600, floor=600)
    assert policy.next_interval(3600, changed=True) == 1800
    assert policy.next_interval(1000, changed=True) == 600


def test_a_change_is_dated_by_the_article_modified_date_when_it_falls_between_our_fetches():
    first = datetime(2026, 11, 20, 12, tzinfo=UTC)
    earlier = _article("https://n.example/a", first, content_hash="old", last_changed_at=first)
    book = FetchStateBook("n", {earlier.url: earlier}, RevisitPolicy())
    later = first + timedelta(hours=1)
    book.content(earlier.url, "new", later, kind=KIND_ARTICLE, modified_at=first + timedelta(minutes=4))
    assert book.updates[earlier.url].change_seconds == 240.0


def test_feeds_give_each_entry_its_change_date():
    atom = (b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><link href="https://n.example/a"/>'
            b"<published>2026-11-20T10:00:00Z</published><updated>2026-11-20T11:30:00+01:00</updated></entry>"
            b'<entry><link href="https://n.example/b"/></entry></feed>')
    feed = parse_feed(atom, "https://n.example/atom.xml")
    assert feed.dates == {"https://n.example/a": datetime(2026, 11, 20, 10, 30, tzinfo=UTC)}
    rss = (b'<rss version="2.0"><channel><item><link>https://n.example/c</link>'
           b"<pubDate>Fri, 20 Nov 2026 09:00:00 +0000</pubDate></item></channel></rss>")
    dates = parse_feed(rss, "https://n.example/rss").dates
    assert dates == {"https://n.example/c": datetime(2026, 11, 20, 9, tzinfo=UTC)}
    json_feed = (b'{"version": "https://jsonfeed.org/version/1.1", "items": [{"url": "https://n.example/d",'
                 b' "date_published": "2026-11-20T08:00:00Z", "date_modified": "2026-11-20T08:05:00Z"}]}')
    dates = parse_feed(json_feed, "https://n.example/feed.json").dates
    assert dates == {"https://n.example/d": datetime(2026, 11, 20, 8, 5, tzinfo=UTC)}


def _article(url: str, first: datetime, **kw) -> FetchState:
    base = {"url": url, "source": "n", "kind": KIND_ARTICLE, "first_fetched_at": first, "last_fetched_at": first,
            "next_due_at": first + timedelta(hours=1), "revisit_seconds": 3600.0, "content_hash": "h"}
    return FetchState(**{**base, **kw})
