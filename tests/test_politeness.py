"""Politeness and limits, end to end against the fixture site on 127.0.0.1 (it logs every request):
robots.txt for every request, Crawl-delay, Retry-After, exponential backoff and pausing a failing host,
the response size limit while downloading, no download of bodies we never parse, and pages standing in
front of the article (consent walls, bot challenges ...) counted apart, never stored.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from conftest import write_config
from newssite import HUGE_PATH, PDF_PATH, PRIVATE_PATH, NewsSite, build_articles
from parsel import Selector
from test_crawl import source_block
from test_daemon import wait_until

from crawler.extract import extract_page
from crawler.interstitial import stand_in_reason
from crawler.records import Page


@pytest.fixture
def small_site():
    site = NewsSite(articles=build_articles(3)).start()
    yield site
    site.stop()


def run(run_cli, tmp_path, data_dir, source: str = "", args: tuple[str, ...] = (), **crawl: str):
    config = write_config(tmp_path / "newsingest.toml", data_dir, source, **crawl)
    return run_cli("--config", str(config), "crawl", *args)


def events(result, name: str) -> list[dict]:
    found = []
    for line in result.stderr.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("event") == name:
            found.append(record)
    return found


def test_crawl_delay_from_robots_txt_spaces_every_request_to_the_host(small_site, db, run_cli, tmp_path, data_dir):
    small_site.crawl_delay = 0.6
    result = run(run_cli, tmp_path, data_dir, source_block("feed", feeds=[small_site.url("/feeds/rss.xml")]), ("feed",))
    assert result.returncode == 0, result.stderr[-3000:]
    times = [r.time for r in small_site.requests]
    assert len(times) >= 5  # robots.txt, the feed, three articles
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) >= 0.55, gaps
    assert events(result, "crawl_delay")


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured(status, small_site, db, run_cli, tmp_path, data_dir):
    article = small_site.articles[0]
    small_site.busy[article.path] = [(status, "1")]
    result = run(run_cli, tmp_path, data_dir, source_block("feed", feeds=[small_site.url("/feeds/rss.xml")]), ("feed",))
    assert result.returncode == 0, result.stderr[-3000:]
    tries = small_site.requests_to(article.path)
    assert len(tries) == 2
    assert tries[1].time - tries[0].time >= 0.95
    assert small_site.statuses(article.path) == [status, 200]
    assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == len(small_site.articles)


def test_failures_back_off_exponentially(small_site, db, run_cli, tmp_path, data_dir):
    article = small_site.articles[0]
    small_site.busy[article.path] = [(500, ""), (502, "")]
    result = run(run_cli, tmp_path, data_dir, source_block("feed", feeds=[small_site.url("/feeds/rss.xml")]),
                 ("feed",), max_retries="3", retry_backoff="0.3", host_failure_limit="0")
    assert result.returncode == 0, result.stderr[-3000:]
    tries = small_site.requests_to(article.path)
    assert small_site.statuses(article.path) == [500, 502, 200]
    gaps = [b.time - a.time for a, b in zip(tries, tries[1:], strict=False)]
    assert gaps[0] >= 0.28 and gaps[1] >= 0.58, gaps  # 0.3 s, then doubled
    assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == len(small_site.articles)


def test_a_host_that_keeps_failing_is_paused_and_reported(small_site, db, run_cli, tmp_path, data_dir):
    for article in small_site.articles:
        small_site.busy[article.path] = [(500, "")] * 10
    result = run(run_cli, tmp_path, data_dir, source_block("feed", feeds=[small_site.url("/feeds/rss.xml")]),
                 ("feed",), max_retries="3", retry_backoff="0.2", host_failure_limit="4",
                 concurrent_requests_per_host="1")
    assert events(result, "host_paused")
    errors = db.execute("SELECT errors FROM crawl_runs").fetchone()[0]
    assert errors.get("host_paused") == 1
    # The limit, plus at most the one request (per-host concurrency 1) already on the wire when it was hit;
    # without the pause, 3 articles x 4 tries would be 12.
    article_requests = [r for r in small_site.requests if small_site.article_at(r.path) is not None]
    assert 4 <= len(article_requests) <= 5


def test_robots_txt_is_obeyed_for_requests_waiting_together_for_it(small_site, db, run_cli, tmp_path, data_dir):
    # All of these wait for the host's robots.txt at once: stock Scrapy 2.19 checks only the first
    # (crawler.politeness.RobotsTxt says why).
    urls = [*small_site.article_urls(), small_site.url(PRIVATE_PATH)]
    result = run(run_cli, tmp_path, data_dir, "", ("--allow-private-hosts", "--url", *urls))
    assert not small_site.requests_to(PRIVATE_PATH)
    assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == len(small_site.articles)
    assert small_site.requests_to("/robots.txt")
    assert result.returncode in (0, 1)


def test_a_60_mb_page_is_cut_off_near_the_limit(small_site, db, run_cli, tmp_path, data_dir):
    limit = 1024 * 1024
    result = run(run_cli, tmp_path, data_dir, "", ("--allow-private-hosts", "--url", small_site.url(HUGE_PATH)),
                 max_response_bytes=str(limit))
    assert small_site.bytes_sent[HUGE_PATH] < 60 * 1024 * 1024
    # What was sent beyond the limit sat in loopback socket buffers when the crawler hung up.
    assert small_site.bytes_sent[HUGE_PATH] < limit + 12 * 1024 * 1024, small_site.bytes_sent
    assert [e for e in events(result, "limit_reached") if e.get("limit") == "too_large"]
    assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == 0


def test_a_linked_pdf_is_not_downloaded_beyond_its_headers(small_site, db, run_cli, tmp_path, data_dir):
    small_site.pdf_bytes = 64 * 1024 * 1024
    small_site.extra_links = [PDF_PATH]
    result = run(run_cli, tmp_path, data_dir, source_block("site", start_urls=[small_site.url("/")],
                 deny=["sitemap", "feeds"]), ("site",))
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(small_site.requests_to(PDF_PATH)) == 1
    assert small_site.bytes_sent[PDF_PATH] < 16 * 1024 * 1024, small_site.bytes_sent
    assert [e for e in events(result, "download_stopped") if e.get("content_type") == "application/pdf"]
    assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == len(small_site.articles)


CONSENT = """<!DOCTYPE html><html><head><title>Before you continue</title></head><body>
<div class="cmp-container"><h1>We value your privacy</h1><p>We and our partners store and access information
on your device. Accept all cookies to continue.</p><button>Accept all</button><button>Reject all</button></div>
</body></html>"""
CHALLENGE = """<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>
<div id="challenge-running">Checking your browser before accessing the site.</div>
<script src="/cdn-cgi/challenge-platform/h/b/orchestrate/jsch/v1"></script></body></html>"""
PAYWALL = """<!DOCTYPE html><html><head><title>Council budget: what it means</title>
<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Council budget",
 "isAccessibleForFree": false}</script>
</head><body><article><h1>Council budget: what it means</h1><p>The council approved its budget on Monday.</p>
<div class="paywall"><p>Subscribe to continue reading.</p></div></article></body></html>"""
JS_SHELL = """<!DOCTYPE html><html><head><title>News</title><script src="/static/app.js"></script></head>
<body><div id="root"></div><noscript>You need to enable JavaScript to run this app.</noscript></body></html>"""


@pytest.mark.parametrize("html, reason", [(CONSENT, "consent_wall"), (CHALLENGE, "bot_challenge"),
                                          (PAYWALL, "paywall"), (JS_SHELL, "js_shell")])
def test_stand_in_pages_are_recognised(html, reason):
    assert stand_in_reason(Selector(text=html)) == reason


def test_fixture_pages_are_not_stand_ins(small_site):
    import urllib.request

    for url in [*small_site.article_urls(), small_site.url("/"), *small_site.section_urls]:
        with urllib.request.urlopen(url) as response:
            assert stand_in_reason(Selector(text=response.read().decode())) is None, url


def test_stand_in_pages_are_counted_and_not_stored(small_site, db, run_cli, tmp_path, data_dir):
    small_site.custom["/2026/03/05/consent/"] = (200, CONSENT)
    small_site.custom["/2026/03/05/challenge/"] = (403, CHALLENGE)
    urls = [small_site.url("/2026/03/05/consent/"), small_site.url("/2026/03/05/challenge/"),
            small_site.article_urls()[0]]
    result = run(run_cli, tmp_path, data_dir, "", ("--allow-private-hosts", "--url", *urls))
    assert result.returncode == 0, result.stderr[-3000:]
    reasons = {e["reason"] for e in events(result, "page_not_article")}
    assert {"consent_wall", "bot_challenge"} <= reasons
    finished = events(result, "crawl_finished")[0]
    assert finished["not_articles"] == 2
    assert finished["not_article_reasons"] == {"consent_wall": 1, "bot_challenge": 1}
    assert finished["errors"] == {}
    assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == 1


def test_stand_in_behind_an_article_url_from_a_feed_is_counted_and_not_stored(small_site, db, run_cli, tmp_path,
                                                                             data_dir):
    # An article URL from a feed with no links to follow goes to extraction unparsed by the spider:
    # the extraction worker must recognise the stand-in.
    walled = small_site.articles[0]
    small_site.custom[walled.path] = (200, CONSENT)
    source = source_block("feed", feeds=[small_site.url("/feeds/rss.xml")], follow_links=False,
                          article_pattern=r"/20[0-9][0-9]/[0-9][0-9]/")
    result = run(run_cli, tmp_path, data_dir, source, ("feed",))
    assert result.returncode == 0, result.stderr[-3000:]
    walled_urls = [e["url"] for e in events(result, "page_not_article") if e["reason"] == "consent_wall"]
    assert [u.split("?")[0] for u in walled_urls] == [small_site.url(walled.path)]
    assert events(result, "crawl_finished")[0]["not_article_reasons"] == {"consent_wall": 1}
    stored = {u for (u,) in db.execute("SELECT canonical_url FROM articles")}
    assert stored == {small_site.url(a.path) for a in small_site.articles[1:]}


SUGGESTIONS = "".join(
    f"<p>Our {section} desk publishes new reporting every day: explore the latest stories, the most read pieces"
    f" of the week and the long reads our {section} editors picked for you.</p>"
    for section in ("world", "business", "science", "culture", "sport")
)
ERROR_TITLED = f"""<!DOCTYPE html><html lang="en"><head><title>Page not found | The Fixture Times</title>
<meta property="og:type" content="article"></head><body><main><h1>Looking for something?</h1>
{SUGGESTIONS}</main></body></html>"""
NOINDEX_GONE = f"""<!DOCTYPE html><html lang="en"><head><title>The Fixture Times</title>
<meta name="robots" content="noindex, follow"><meta property="og:type" content="article"></head><body><main>
<h1>Sorry, this article is no longer available</h1>{SUGGESTIONS}</main></body></html>"""
ERROR_HEADLINED = f"""<!DOCTYPE html><html lang="de"><head><title>The Fixture Times</title></head><body><main>
<h1>Fehler 404 – Seite nicht gefunden</h1>{SUGGESTIONS}</main></body></html>"""
# Nothing in it says "error": only its repetition at every unknown URL gives it away.
SOFT_404 = f"""<!DOCTYPE html><html lang="en"><head><title>The Fixture Times</title></head><body><main>
<h1>Looking for something?</h1>{SUGGESTIONS}</main></body></html>"""


@pytest.mark.parametrize("html", [ERROR_TITLED, ERROR_HEADLINED, NOINDEX_GONE],
                         ids=["error_title", "error_headline", "noindex_gone_headline"])
def test_error_page_served_with_200_is_not_an_article(html):
    page = Page(url="https://news.example/2026/03/05/gone/", source="site", html=html, status=200,
                fetched_at=datetime.now(UTC))
    assert extract_page(page).reason == "error_page"


OUTAGE_REPORT = "".join(f"<p>{sentence}</p>" for sentence in (
    "The online service was down for most of Tuesday after a failure at the data centre that hosts it, the"
    " ministry said.",
    "Applicants trying to log in saw an error message, and appointments booked for the afternoon were moved to"
    " next week.",
    "A spokesperson said engineers had restored the service by the evening and that no personal data had been"
    " affected.",
    "Opposition politicians called for a review of the system's resilience, the third outage this year.",
))


@pytest.mark.parametrize("headline", [
    "Passport service unavailable for hours after IT failure",
    "Internal server error: how one typo took down the tax portal",
    "Error 404: the missing millions in the council budget",
    "Error 404 – the missing millions in the council budget",
    "Seite nicht gefunden? Wie Behörden ihre Websites vernachlässigen",
])
def test_short_article_whose_headline_mentions_an_error_is_an_article(headline):
    html = f"""<!DOCTYPE html><html lang="en"><head><title>{headline} | The Fixture Times</title>
<meta property="og:type" content="article"></head><body><article><h1>{headline}</h1>{OUTAGE_REPORT}</article>
</body></html>"""
    page = Page(url="https://news.example/2026/03/05/outage/", source="site", html=html, status=200,
                fetched_at=datetime.now(UTC))
    extraction = extract_page(page)
    assert extraction.reason is None
    assert "restored the service" in extraction.article.text


def test_one_short_text_at_many_urls_of_a_host_is_a_soft_404_and_none_of_them_is_stored(
        small_site, db, run_cli, tmp_path, data_dir):
    soft = [f"/2026/03/0{n}/missing-story-{n}/" for n in range(1, 7)]
    for path in soft:
        small_site.custom[path] = (200, SOFT_404)
    urls = [*(small_site.url(p) for p in soft), *small_site.article_urls()]
    result = run(run_cli, tmp_path, data_dir, "", ("--allow-private-hosts", "--url", *urls))
    assert result.returncode == 0, result.stderr[-3000:]
    assert events(result, "crawl_finished")[0]["not_article_reasons"] == {"soft_404": len(soft)}
    stored = {u for (u,) in db.execute("SELECT url FROM articles")}
    assert stored == set(small_site.article_urls())


def test_one_short_article_at_three_urls_with_one_slug_is_stored_once(small_site, db, run_cli, tmp_path, data_dir):
    # No canonical link: section paths are how the same brief is reached.
    brief = f"""<!DOCTYPE html><html lang="en"><head><title>Tax portal back online | The Fixture Times</title>
<meta property="og:type" content="article"></head><body><article><h1>Tax portal back online</h1>{OUTAGE_REPORT}
</article></body></html>"""
    paths = ["/2026/03/05/brief-123/", "/politics/2026/03/05/brief-123/", "/latest/2026/03/05/brief-123/"]
    for path in paths:
        small_site.custom[path] = (200, brief)
    result = run(run_cli, tmp_path, data_dir, "", ("--allow-private-hosts", "--url", *map(small_site.url, paths)))
    assert result.returncode == 0, result.stderr[-3000:]
    assert events(result, "crawl_finished")[0]["not_article_reasons"] == {}
    assert db.execute("SELECT count(*) FROM articles WHERE duplicate_of IS NULL").fetchone()[0] == 1


def test_repeated_short_text_is_judged_by_the_slugs_it_is_served_under():
    from crawler.records import Article
    from crawler.soft404 import RepeatedShortText

    def article(url: str) -> Article:
        return Article(url=url, source="site", text="A short text. " * 40, fetched_at=datetime.now(UTC),
                       http_status=200, extractor_version="test")

    one_slug = RepeatedShortText()
    for url in ("https://news.example/2026/03/05/brief-123", "https://news.example/politics/2026/03/05/brief-123",
                "https://news.example/amp/2026/03/05/brief-123"):
        assert one_slug.offer(article(url)) == ([], [])
    assert len(one_slug.drain()) == 3

    three_slugs = RepeatedShortText()
    assert three_slugs.offer(article("https://news.example/2026/03/05/story-1"))[1] == []
    assert three_slugs.offer(article("https://news.example/2026/03/05/story-2"))[1] == []
    assert len(three_slugs.offer(article("https://news.example/2026/03/05/story-3"))[1]) == 3
    assert three_slugs.drain() == []


def test_one_short_text_at_two_urls_of_a_host_is_still_stored(small_site, db, run_cli, tmp_path, data_dir):
    soft = ["/2026/03/01/brief/", "/2026/03/02/brief-again/"]
    for path in soft:
        small_site.custom[path] = (200, SOFT_404)
    result = run(run_cli, tmp_path, data_dir, "", ("--allow-private-hosts", "--url", *map(small_site.url, soft)))
    assert result.returncode == 0, result.stderr[-3000:]
    assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == 2


def test_content_types_we_parse():
    from crawler.politeness import is_parsed_content_type

    for parsed in ("text/html; charset=utf-8", "application/xhtml+xml", "application/rss+xml", "application/atom+xml",
                   "text/xml", "application/feed+json", "application/gzip", "application/x-gzip",
                   "application/octet-stream", "text/plain", ""):
        assert is_parsed_content_type(parsed), parsed
    for skipped in ("application/pdf", "image/jpeg", "image/svg+xml", "video/mp4", "audio/mpeg", "application/zip",
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document"):
        assert not is_parsed_content_type(skipped), skipped


# ------------------------------------------------------------------ delays with a ceiling, time budget, stop


def crawl_process(config, data_dir, database_url, source: str) -> subprocess.Popen:
    """`newsingest crawl SOURCE --no-load` as a background process whose log (stderr) is kept."""
    env = {**os.environ, "DATABASE_URL": database_url, "NEWSINGEST_DATA_DIR": str(data_dir), "NEWSINGEST_CONFIG": ""}
    return subprocess.Popen(
        [sys.executable, "-m", "ingest.cli", "--config", str(config), "--log-format", "json",
         "crawl", source, "--no-load"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
    )


def test_crawl_delay_beyond_the_ceiling_pauses_the_host_for_the_run(small_site, db, run_cli, tmp_path, data_dir):
    small_site.crawl_delay = 86400
    config = write_config(tmp_path / "newsingest.toml", data_dir,
                          source_block("feed", feeds=[small_site.url("/feeds/rss.xml")]))
    result = run_cli("--config", str(config), "crawl", "feed", timeout=30)  # hang guard
    paused = events(result, "host_paused")
    assert [e["reason"] for e in paused] == ["crawl_delay_86400s"], result.stderr[-3000:]
    assert small_site.requested_paths() == ["/robots.txt"]  # nothing after it: the host asked for a day's wait
    # Nothing could be crawled within the ceiling: a failed run, so that `status` says so until the operator
    # raises max_crawl_delay or the site lowers its delay.
    errors, finish_reason, status = db.execute("SELECT errors, finish_reason, status FROM crawl_runs").fetchone()
    assert errors == {"host_paused": 1} and finish_reason == "finished"
    assert status == "failed" and result.returncode == 1


def test_sigterm_stops_a_crawl_waiting_on_a_crawl_delay_within_seconds(small_site, database_url, tmp_path, data_dir):
    small_site.crawl_delay = 29  # below the default ceiling: requests wait 29 s each
    config = write_config(tmp_path / "newsingest.toml", data_dir,
                          source_block("feed", feeds=[small_site.url("/feeds/rss.xml")]))
    process = crawl_process(config, data_dir, database_url, "feed")
    try:
        wait_until(lambda: small_site.requests_to("/robots.txt"), timeout=30)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=15)  # hang guard: the feed alone waits 29 s for its turn
    finally:
        process.kill()
    finished = [json.loads(line) for line in stderr.splitlines() if '"crawl_finished"' in line]
    assert finished and finished[0]["status"] == "interrupted" and finished[0]["finish_reason"] == "shutdown"
    assert not small_site.requests_to("/feeds/rss.xml")


def test_time_budget_stops_the_crawl_and_keeps_what_it_fetched(db, run_cli, tmp_path, data_dir):
    with NewsSite() as site:
        site.article_delay = 1.0  # 12 articles one at a time: 12 s, three times the budget
        source = source_block("feed", feeds=[site.url("/feeds/rss.xml")], max_crawl_seconds="4s")
        # A download delay, however small, is what makes Scrapy 2.19 keep to one request at a time per host.
        config = write_config(tmp_path / "newsingest.toml", data_dir, source, concurrent_requests_per_host="1",
                              download_delay="0.05")
        result = run_cli("--config", str(config), "crawl", "feed", timeout=60)
        assert result.returncode == 0, result.stderr[-3000:]
        fetched = {r.bare_path for r in site.requests if site.article_at(r.path)}
    status, finish_reason, pages = db.execute("SELECT status, finish_reason, pages_fetched FROM crawl_runs").fetchone()
    assert (status, finish_reason) == ("finished", "time_budget")
    stored = {urlsplit(u).path for (u,) in db.execute("SELECT canonical_url FROM articles")}
    assert 0 < len(stored) < len(site.articles)
    assert stored <= fetched and pages == len(fetched)
    assert events(result, "time_budget_reached")


# ------------------------------------------------------------------------------------- robots.txt size


def test_robots_txt_rules_beyond_the_first_500_kib_are_ignored(small_site, db, run_cli, tmp_path, data_dir):
    # 40,000 harmless rules (about 900 KiB), then one that would forbid the whole site.
    filler = "".join(f"Disallow: /archive/{i:06d}/\n" for i in range(40000))
    small_site.custom["/robots.txt"] = (200, "User-agent: *\n" + filler + "Disallow: /\n")
    result = run(run_cli, tmp_path, data_dir, source_block("feed", feeds=[small_site.url("/feeds/rss.xml")]), ("feed",))
    assert result.returncode == 0, result.stderr[-3000:]
    assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == len(small_site.articles)
    assert events(result, "robots_txt_truncated")


def test_robots_txt_cut_at_500_kib_keeps_its_first_rules_whatever_its_line_ends(small_site, db, run_cli, tmp_path,
                                                                               data_dir):
    filler = "".join(f"Disallow: /archive/{i:06d}/\r" for i in range(40000))
    small_site.custom["/robots.txt"] = (200, "User-agent: *\rDisallow: /\r" + filler)
    result = run(run_cli, tmp_path, data_dir, source_block("feed", feeds=[small_site.url("/feeds/rss.xml")]), ("feed",))
    assert events(result, "robots_txt_truncated"), result.stderr[-3000:]
    assert not [path for path in small_site.requested_paths() if small_site.article_at(path)]


# ------------------------------------------------------------------------------------- private hosts


def test_a_source_allowing_one_private_host_is_refused_a_redirect_to_another(db, run_cli, tmp_path, data_dir):
    with NewsSite(host="127.0.0.2") as allowed, NewsSite(host="127.0.0.3") as other:
        article = allowed.articles[0]
        allowed.redirects[article.path] = other.url(article.path)
        source = source_block("intranet", start_urls=[allowed.url(article.path)], follow_links=False,
                              allowed_domains=["127.0.0.2", "127.0.0.3"], allow_private_hosts=["127.0.0.2"])
        result = run(run_cli, tmp_path, data_dir, source, ("intranet",))
        assert allowed.requests_to(article.path), result.stderr[-3000:]
        assert not other.requests
    refused = events(result, "refused_private_host")
    assert [e["host"] for e in refused] == ["127.0.0.3"]
    assert db.execute("SELECT errors FROM crawl_runs").fetchone()[0] == {"refused_private_host": 1}


@pytest.mark.parametrize("allowed, host, address, verdict", [
    (False, "127.0.0.1", "127.0.0.1", False),
    (True, "127.0.0.3", "127.0.0.3", True),
    (True, "intranet.example", "10.1.2.3", True),
    # Cloud metadata services answer on link-local addresses: `true` does not open them.
    (True, "169.254.169.254", "169.254.169.254", False),
    (True, "metadata.internal", "169.254.169.254", False),
    (True, "::ffff:169.254.169.254", "::ffff:169.254.169.254", False),
    (True, "fe80::1", "fe80::1", False),
    (True, "fd00:ec2::254", "fd00:ec2::254", False),
    (("169.254.169.254",), "169.254.169.254", "169.254.169.254", True),
    (("169.254.0.0/16",), "169.254.169.254", "169.254.169.254", True),
    (("127.0.0.2",), "127.0.0.2", "127.0.0.2", True),
    (("127.0.0.2",), "127.0.0.3", "127.0.0.3", False),
    (("192.168.0.0/24",), "192.168.0.77", "192.168.0.77", True),
    (("192.168.0.0/24",), "192.168.1.1", "192.168.1.1", False),
    (("intranet.example",), "intranet.example", "10.1.2.3", True),
    (("intranet.example",), "INTRANET.example", "10.1.2.3", True),
    (("intranet.example",), "other.example", "10.1.2.3", False),
    (("intranet.example",), "intranet.example", "169.254.169.254", False),
])
def test_which_non_public_addresses_a_source_allows(allowed, host, address, verdict):
    from crawler.middlewares import PrivateHostPolicy

    assert PrivateHostPolicy(allowed).allows(host, address) is verdict
