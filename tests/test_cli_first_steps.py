"""A new user's first steps on the command line: `crawl --url` on an index page, `crawl --site` with no
source configured, `demo --serve`, `db`, and the error outside a config folder."""

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import psycopg
from conftest import write_config

# A small front page that says what it is (og:type=website, a CollectionPage): three teasers whose blurbs are
# full sentences, few links. Extraction alone would keep its text as an article.
FRONT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Front page | The Valley Courier</title>
<meta property="og:type" content="website"><meta property="og:title" content="Front page">
<meta property="og:site_name" content="The Valley Courier">
<script type="application/ld+json">{"@context": "https://schema.org", "@type": "CollectionPage", "name": "Front page"}
</script></head><body>
<header><p><a href="/">The Valley Courier</a></p>
<nav><a href="/town/">Town</a> <a href="/sport/">Sport</a></nav></header>
<main><h1>Front page</h1>
<div class="teaser"><h2><a href="/2026/12/04/bridge-reopens/">Old bridge reopens after two years of repairs</a></h2>
<p>The stone bridge over the Wend carries traffic again from Monday morning. Engineers replaced the worn arches and
strengthened the piers against the winter floods that closed it in the first place. Traders on both banks say the
long detour cost them customers all summer.</p></div>
<div class="teaser"><h2><a href="/2026/12/04/choir-wins/">Courier choir takes the county prize for a third year</a></h2>
<p>Forty singers from the valley travelled to the county hall on Saturday and came home with the trophy once more.
Their conductor said the secret was rehearsing in the cold church hall, which made every other stage feel warm and
welcoming.</p></div>
<div class="teaser"><h2><a href="/2026/12/04/market-hours/">Market stalls will open late on Thursdays</a></h2>
<p>The council agreed to let the covered market trade until nine on the four Thursdays before the holiday.
Stallholders asked for the change after shoppers told them that the early closing time made it hard to visit
after work.</p></div>
</main><footer><p>The Valley Courier, Wendbridge.</p></footer>
</body></html>
"""


def _stored_urls(db) -> set[str]:
    return {url for (url,) in db.execute("SELECT url FROM articles")}


def test_crawl_url_of_a_front_page_stores_nothing_and_says_so(small_site, db, run_cli):
    small_site.custom["/"] = (200, FRONT_PAGE)
    result = run_cli("crawl", "--allow-private-hosts", "--url", small_site.url("/"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "not stored: 1 index page (use --as-article to store it)" in result.stderr
    assert _stored_urls(db) == set()


def test_crawl_url_as_article_stores_a_front_page(small_site, db, run_cli):
    small_site.custom["/"] = (200, FRONT_PAGE)
    result = run_cli("crawl", "--allow-private-hosts", "--as-article", "--url", small_site.url("/"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert _stored_urls(db) == {small_site.url("/")}


def test_crawl_site_stores_the_articles_of_a_site_no_source_describes(small_site, db, run_cli, tmp_path, data_dir):
    # Fast [crawl] settings only (the default politeness delay would make this a 20 s test): no [[sources]].
    config = write_config(tmp_path / "newsingest.toml", data_dir)
    result = run_cli("--config", str(config), "crawl", "--site", small_site.url("/"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith("127.0.0.1: pages fetched")
    assert _stored_urls(db) == {small_site.url(a.path) for a in small_site.articles}


def _serve_demo(data_dir: Path) -> subprocess.Popen:
    env = {**os.environ, "NEWSINGEST_DATA_DIR": str(data_dir), "NEWSINGEST_CONFIG": ""}
    return subprocess.Popen([sys.executable, "-m", "ingest.cli", "--log-format", "json", "demo", "--serve"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)


def test_demo_serve_prints_a_url_serving_the_demo_site_with_its_urls_filled_in(data_dir):
    server = _serve_demo(data_dir)
    try:
        first = server.stdout.readline()  # a bounded read: the process prints at once or exits
        assert first.startswith("demo site: http://127.0.0.1:"), first
        base = first.split()[2].rstrip("/")
        with urllib.request.urlopen(base + "/articles/library-sunday-opening.html", timeout=10) as response:
            page = response.read().decode("utf-8")
        assert "{{BASE_URL}}" not in page
        assert f'<link rel="canonical" href="{base}/articles/library-sunday-opening.html">' in page
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=15) == 0


def test_demo_serve_prints_a_config_that_points_at_the_served_site(data_dir):
    import tomllib

    from ingest.config import parse_config

    server = _serve_demo(data_dir)
    try:
        base = server.stdout.readline().split()[2].rstrip("/")
        lines = []
        while (line := server.stdout.readline()).strip() != 'allow_private_hosts = true':
            assert line, "the config ended early"
            lines.append(line)
        config = parse_config(tomllib.loads("".join(lines[2:]) + line), None, env={})
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=15)
    demo = config.source("demo")
    assert demo.start_urls == (base + "/",) and demo.feeds == (base + "/feed.xml",)
    assert demo.allow_private_hosts is True and config.crawl.download_delay == 0


def test_db_dsn_prints_the_connection_string_with_the_password_masked(run_cli):
    result = run_cli("db", "--dsn", env={"DATABASE_URL": "postgresql://alice:s3cret-pw@db.invalid:5432/news"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "postgresql://alice:***@db.invalid:5432/news"


def test_db_dsn_show_password_prints_the_connection_string_as_is(run_cli):
    result = run_cli("db", "--dsn", "--show-password",
                     env={"DATABASE_URL": "postgresql://alice:s3cret-pw@db.invalid:5432/news"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "postgresql://alice:s3cret-pw@db.invalid:5432/news"


def test_db_runs_psql_on_the_configured_database(run_cli, database_url):
    result = run_cli("db", "--", "-tAc", "select current_database()")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == psycopg.conninfo.conninfo_to_dict(database_url)["dbname"]


def test_db_without_psql_says_to_install_it(run_cli, tmp_path):
    result = run_cli("db", env={"PATH": str(tmp_path)})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("newsingest db: psql is not installed")


def test_unknown_source_without_a_config_file_names_the_places_looked_in(run_cli):
    result = run_cli("crawl", "gazette")
    assert result.returncode == 2
    assert "no source named 'gazette' (configured: none" in result.stderr
    assert "$NEWSINGEST_CONFIG" in result.stderr and str(Path.cwd() / "newsingest.toml") in result.stderr


def test_crawl_refuses_a_source_name_and_a_site_together(run_cli):
    result = run_cli("crawl", "gazette", "--site", "https://news.invalid/")
    assert result.returncode == 2
    assert "give one of: a SOURCE name, --url URL [URL ...], --site URL" in result.stderr
