"""The command line as a user meets it: demo, extract, usage errors."""

import gzip
import json

from newssite import NewsSite


def test_demo_works_from_a_clean_data_directory_on_the_embedded_database(run_cli, data_dir):
    result = run_cli("demo", env={"DATABASE_URL": ""}, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (data_dir / "postgres" / "PG_VERSION").exists()
    summary = result.stdout.splitlines()[0]
    assert "articles found 0" not in summary and "new 0" not in summary
    assert result.stdout.count("\n# ") == 3  # three articles shown


def _article_html(site: NewsSite) -> str:
    import urllib.request

    with urllib.request.urlopen(site.url(site.articles[0].path)) as response:
        return response.read().decode("utf-8")


def _first_article():
    """The fixture site's first article page as served, and what it must extract to."""
    with NewsSite() as site:
        return _article_html(site), site.articles[0]


def test_extract_prints_one_record_per_file_plain_and_gzipped(run_cli, tmp_path):
    html, expected = _first_article()
    plain = tmp_path / "story.html"
    plain.write_text(html, encoding="utf-8")
    zipped = tmp_path / "story-copy.html.gz"
    zipped.write_bytes(gzip.compress(html.encode("utf-8")))
    result = run_cli("extract", str(plain), str(zipped))
    assert result.returncode == 0, result.stderr[-3000:]
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["file"] for r in records] == [str(plain), str(zipped)]
    assert [r["id"] for r in records] == ["story", "story-copy"]
    for record in records:
        assert record["title"] == expected.title
        assert record["text"] == expected.text


def test_extract_reports_an_unreadable_file_and_goes_on(run_cli, tmp_path):
    good = tmp_path / "good.html"
    good.write_text("<html><body><h1>Hi</h1><p>Some words here.</p></body></html>")
    missing = tmp_path / "missing.html"
    result = run_cli("extract", str(missing), str(good))
    assert result.returncode == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert "error" in records[0] and str(missing) in records[0]["error"]
    assert records[1]["file"] == str(good) and "error" not in records[1]


def test_crawl_needs_a_source_or_urls(run_cli):
    result = run_cli("crawl")
    assert result.returncode == 2
    assert "SOURCE" in result.stderr


def test_crawl_of_an_unknown_source_names_the_configured_ones(run_cli, tmp_path, data_dir):
    config = tmp_path / "newsingest.toml"
    config.write_text('[[sources]]\nname = "wire"\nfeeds = ["https://wire.invalid/rss"]\n')
    result = run_cli("--config", str(config), "crawl", "nope")
    assert result.returncode == 2
    assert "no source named 'nope'" in result.stderr and "wire" in result.stderr


def test_extract_refuses_a_gzip_that_inflates_past_max_response_bytes(run_cli, tmp_path):
    config = tmp_path / "newsingest.toml"
    config.write_text("[crawl]\nmax_response_bytes = 1048576\n")
    bomb = tmp_path / "bomb.html.gz"
    bomb.write_bytes(gzip.compress(b"<html><body><p>" + b"spam " * (4 * 1024 * 1024)))  # 20 MiB in 20 KiB
    good = tmp_path / "good.html"
    good.write_text("<html><body><h1>Hi</h1><p>Some words here.</p></body></html>")
    result = run_cli("--config", str(config), "extract", str(bomb), str(good))
    assert result.returncode == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records[0]["error"] == f"cannot read {bomb}: larger than max_response_bytes (1048576 bytes)"
    assert records[1]["file"] == str(good) and "error" not in records[1]
    assert "Traceback" not in result.stderr


def test_extract_reads_a_page_declaring_utf16_over_utf8_bytes_as_utf8(run_cli, tmp_path):
    html, expected = _first_article()
    page = tmp_path / "story.html"
    page.write_text(html.replace('<meta charset="UTF-8">', '<meta charset="utf-16">'), encoding="utf-8")
    result = run_cli("extract", str(page))
    assert result.returncode == 0, result.stderr[-3000:]
    record = json.loads(result.stdout)
    assert record["title"] == expected.title and record["text"] == expected.text
