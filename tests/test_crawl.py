"""End to end: `newsingest crawl` against the local fixture news site into a real PostgreSQL.

Each discovery style finds every article and no index page; every article is loaded once, with the
right title, authors and date, and a body free of the site's chrome.
"""

from datetime import datetime

import pytest
from conftest import write_config
from newssite import CHROME_STRINGS


def source_block(name: str, **keys) -> str:
    lines = ['[[sources]]', f'name = "{name}"']
    for key, value in keys.items():
        if isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, list):
            lines.append(f"{key} = [" + ", ".join(f'"{v}"' for v in value) + "]")
        else:
            lines.append(f'{key} = "{value}"')
    return "\n".join(lines) + "\n"


def crawl(run_cli, tmp_path, data_dir, name: str, **keys):
    config = write_config(tmp_path / "newsingest.toml", data_dir, source_block(name, **keys))
    result = run_cli("--config", str(config), "crawl", name)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def loaded_urls(db) -> set[str]:
    return {url for (url,) in db.execute("SELECT canonical_url FROM articles")}


def article_urls(site) -> set[str]:
    return {site.url(a.path) for a in site.articles}


@pytest.mark.parametrize("feed", ["/feeds/rss.xml", "/feeds/atom.xml", "/feeds/feed.json"])
def test_feed_source_finds_every_article_and_no_index_page(feed, news_site, db, run_cli, tmp_path, data_dir):
    crawl(run_cli, tmp_path, data_dir, "feed", feeds=[news_site.url(feed)])
    assert loaded_urls(db) == article_urls(news_site)


def test_sitemap_index_with_gzipped_news_sitemap_finds_every_article(news_site, db, run_cli, tmp_path, data_dir):
    crawl(run_cli, tmp_path, data_dir, "maps", sitemaps=[news_site.url("/sitemap_index.xml")])
    assert loaded_urls(db) == article_urls(news_site)


def test_sitemap_announced_in_robots_txt_is_used(news_site, db, run_cli, tmp_path, data_dir):
    crawl(run_cli, tmp_path, data_dir, "robots", start_urls=[news_site.url("/")], follow_links=False)
    assert loaded_urls(db) == article_urls(news_site)


def test_link_following_reaches_every_article_through_sections_and_pagination(
    news_site, db, run_cli, tmp_path, data_dir
):
    crawl(run_cli, tmp_path, data_dir, "links", start_urls=[news_site.url("/")],
          deny=["sitemap", "feeds"])
    assert loaded_urls(db) == article_urls(news_site)
    requested = {r.path for r in news_site.requests}
    assert any("page=2" in path for path in requested)


def test_robots_disallowed_path_is_never_requested(news_site, db, run_cli, tmp_path, data_dir):
    crawl(run_cli, tmp_path, data_dir, "links", start_urls=[news_site.url("/")])
    assert not [r.path for r in news_site.requests if r.path.startswith("/private/")]


def test_articles_have_title_authors_date_and_a_clean_body(news_site, db, run_cli, tmp_path, data_dir):
    crawl(run_cli, tmp_path, data_dir, "feed", feeds=[news_site.url("/feeds/rss.xml")])
    rows = {
        url: (title, authors, published_at, text)
        for url, title, authors, published_at, text in db.execute(
            "SELECT canonical_url, title, authors, published_at, text FROM articles"
        )
    }
    for fixture in news_site.articles:
        title, authors, published_at, text = rows[news_site.url(fixture.path)]
        assert title == fixture.title
        assert authors == list(fixture.authors)
        assert published_at == fixture.published_at
        assert text == fixture.text
        leaked = [chrome for chrome in CHROME_STRINGS if chrome in text]
        assert not leaked, (fixture.path, leaked)


def test_crawling_twice_adds_nothing(news_site, db, run_cli, tmp_path, data_dir):
    crawl(run_cli, tmp_path, data_dir, "feed", feeds=[news_site.url("/feeds/rss.xml")])
    first = db.execute("SELECT id, content_hash, first_seen_at FROM articles ORDER BY id").fetchall()
    result = crawl(run_cli, tmp_path, data_dir, "feed", feeds=[news_site.url("/feeds/rss.xml")])
    assert db.execute("SELECT id, content_hash, first_seen_at FROM articles ORDER BY id").fetchall() == first
    assert "new 0," in result.stdout


def test_tracking_parameter_url_does_not_add_a_second_row(news_site, db, run_cli, tmp_path, data_dir):
    fixture = news_site.articles[0]
    plain = news_site.url(fixture.path)
    tracked = plain + "?utm_source=newsletter&utm_medium=email&fbclid=abc123"
    for url in (plain, tracked):
        result = run_cli("crawl", "--allow-private-hosts", "--url", url)
        assert result.returncode == 0, result.stderr[-3000:]
    assert db.execute("SELECT canonical_url FROM articles").fetchall() == [(plain,)]


def test_crawl_prints_a_summary(news_site, db, run_cli, tmp_path, data_dir):
    result = crawl(run_cli, tmp_path, data_dir, "feed", feeds=[news_site.url("/feeds/atom.xml")])
    n = len(news_site.articles)
    assert f"articles found {n}" in result.stdout
    assert f"new {n}," in result.stdout


def test_crawl_records_the_run(news_site, db, run_cli, tmp_path, data_dir):
    crawl(run_cli, tmp_path, data_dir, "feed", feeds=[news_site.url("/feeds/rss.xml")])
    source, status, articles, finished = db.execute(
        "SELECT source, status, articles_found, finished_at FROM crawl_runs"
    ).fetchone()
    assert (source, status, articles) == ("feed", "finished", len(news_site.articles))
    assert isinstance(finished, datetime)


def test_crawl_without_database_keeps_records_for_a_later_load(news_site, db, run_cli, tmp_path, data_dir):
    config = write_config(tmp_path / "newsingest.toml", data_dir,
                          source_block("feed", feeds=[news_site.url("/feeds/rss.xml")]))
    down = {"DATABASE_URL": "postgresql://newsingest:secret@127.0.0.1:1/none"}
    result = run_cli("--config", str(config), "crawl", "feed", env=down)
    assert result.returncode == 3
    assert "run `newsingest load`" in result.stderr
    assert "secret" not in result.stderr + result.stdout
    assert run_cli("--config", str(config), "load").returncode == 0
    assert loaded_urls(db) == article_urls(news_site)


def test_each_run_records_what_it_brought_new_and_as_duplicates(news_site, db, run_cli, tmp_path, data_dir):
    # Not incremental, so the second crawl fetches every article again and finds each one a duplicate.
    config = write_config(tmp_path / "newsingest.toml", data_dir,
                          source_block("feed", feeds=[news_site.url("/feeds/rss.xml")]), incremental="false")
    for _ in range(2):
        assert run_cli("--config", str(config), "crawl", "feed").returncode == 0
    runs = db.execute("SELECT articles_new, duplicates FROM crawl_runs ORDER BY started_at").fetchall()
    n = len(news_site.articles)
    assert runs == [(n, 0), (0, n)]


def test_crawl_fingerprints_each_article_for_the_loader(news_site, run_cli, tmp_path, data_dir):
    from crawler.spool import SpoolPaths, read_segment
    from ingest import dedup

    config = write_config(tmp_path / "newsingest.toml", data_dir,
                          source_block("feed", feeds=[news_site.url("/feeds/rss.xml")]))
    assert run_cli("--config", str(config), "crawl", "feed", "--no-load").returncode == 0
    articles = [a for s in SpoolPaths(data_dir / "spool").ready_segments() for a in read_segment(s)]
    assert len(articles) == len(news_site.articles)
    for article in articles:
        assert article.content_hash == dedup.content_hash(article.text)
        assert article.simhash == dedup.simhash(article.text) is not None


def test_source_drop_text_override_reaches_the_extraction_workers(news_site, db, run_cli, tmp_path, data_dir):
    fixture = news_site.articles[0]
    phrase = fixture.paragraphs[1][:40]
    crawl(run_cli, tmp_path, data_dir, "feed", feeds=[news_site.url("/feeds/rss.xml")], drop_text=[phrase])
    url = news_site.url(fixture.path)
    text = db.execute("SELECT text FROM articles WHERE canonical_url = %s", (url,)).fetchone()[0]
    assert phrase not in text
    assert text == "\n\n".join(p for p in fixture.paragraphs if phrase not in p)
