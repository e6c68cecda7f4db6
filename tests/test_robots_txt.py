"""robots.txt is fetched once per host and crawl: the robots middleware's fetch (which obeys it and applies its
Crawl-delay) also gives discovery the sitemaps it announces."""

from __future__ import annotations

from test_crawl import crawl


def test_a_crawl_from_a_homepage_requests_robots_txt_once_and_reads_its_sitemaps(
    news_site, db, run_cli, tmp_path, data_dir
):
    crawl(run_cli, tmp_path, data_dir, "robots", start_urls=[news_site.url("/")],
          feeds=[news_site.url("/feeds/rss.xml")], follow_links=False)
    assert len(news_site.requests_to("/robots.txt")) == 1
    assert news_site.requests_to("/sitemap_index.xml")  # announced in robots.txt only
