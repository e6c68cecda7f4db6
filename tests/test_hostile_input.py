"""Hostile input never crashes newsingest: whatever a site serves (HTML, feeds, sitemaps, robots.txt)
and whatever an operator writes in the config file.

Property-based (hypothesis) with bounded examples, so each test runs in a few seconds:
- extraction returns an Extraction (reason "unparseable" at worst) for malformed markup, any text,
  bytes in wrong, missing or mixed charsets, empty, huge and deeply nested documents;
- feed, sitemap and robots.txt parsers return a result or None for any bytes, and never expand
  XML entities (billion laughs) or read external ones (XXE);
- a record with NUL, lone surrogates or SQL in any text field is stored or set aside, and never
  stops the other records of its batch from loading;
- every config key given a value of the wrong type gets a ConfigError naming file, source and key.
"""

from __future__ import annotations

import gzip
import json
import math
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import write_config
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from newssite import NewsSite, build_articles
from scrapy.http import HtmlResponse
from test_cli import _article_html

from crawler.discovery import Feed, ParsedSitemap, parse_feed, parse_sitemap, robots_sitemaps, sitemap_body
from crawler.extract import Extraction, extract_html, extract_page
from crawler.records import Article, Page
from crawler.spool import SpoolPaths, read_segment
from ingest import defaults
from ingest.config import ConfigError, load_config, parse_config

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
REASONS = {None, "index_page", "too_short", "no_text", "unparseable", "url_pattern"}
URL = "https://news.example/2026/03/02/story/"


def page(html: str) -> Page:
    return Page(url=URL, source="site", html=html, status=200, fetched_at=datetime.now(UTC))


def assert_extraction_is_clean(html: str) -> None:
    result = extract_page(page(html))
    assert isinstance(result, Extraction) and result.reason in REASONS
    assert (result.article is None) == (result.reason is not None)
    assert isinstance(extract_html(html, URL), Article)


# ------------------------------------------------------------------------------------ HTML

TAGS = ["html", "head", "body", "title", "meta", "article", "div", "p", "h1", "span", "script", "style",
        "table", "td", "li", "a", "br", "!--", "![CDATA[", "?xml", "!DOCTYPE html", "svg", "math", "template"]
ATTRS = ['', ' class="x"', ' property="og:type" content="article"', ' charset="utf-16"', ' href="javascript:1"',
         ' type="application/ld+json"', ' content="\x00"', " unclosed='", ' a=b=c']
JSONLD = ['{"@type": "NewsArticle", "headline": ', '{"@graph": [', '[[[[', '{"datePublished": "2026-13-45T99:99"}',
          '{"author": {"name": {"name": null}}}', '"\\ud800"', 'null', '{"@type": ["Article", 5]}']

fragment = st.one_of(
    st.builds(lambda t, a: f"<{t}{a}>", st.sampled_from(TAGS), st.sampled_from(ATTRS)),
    st.builds(lambda t: f"</{t}>", st.sampled_from(TAGS)),
    st.sampled_from(JSONLD),
    st.sampled_from(["&amp;", "&#0;", "&#xD800;", "&#1114112;", "&nbsp", "&bogus;", "<", ">", "]]>", "\r", "\x0c"]),
    st.text(max_size=80),
    st.just("<p>" + "A sentence of ordinary article prose that goes on for a while. " * 8 + "</p>"),
)


@FAST
@given(st.lists(fragment, max_size=60).map("".join))
def test_malformed_markup_never_crashes_extraction(html):
    assert_extraction_is_clean(html)


@FAST
@given(st.text(max_size=2000))
def test_any_text_never_crashes_extraction(html):
    assert_extraction_is_clean(html)


CHARSETS = ["utf-8", "utf-16", "utf-16-le", "utf-32", "latin-1", "cp1252", "shift_jis", "koi8-r", "gb18030",
            "iso-2022-jp", "x-unknown-charset", "", "utf-7"]


@FAST
@given(
    body=st.one_of(st.binary(max_size=2000), st.lists(fragment, max_size=30).map("".join).map(str.encode)),
    mixed=st.lists(st.tuples(st.text(max_size=60), st.sampled_from(CHARSETS[:-4])), max_size=4),
    header=st.sampled_from(CHARSETS),
    meta=st.sampled_from(CHARSETS),
)
def test_bytes_in_wrong_missing_or_mixed_charsets_decode_and_never_crash(body, mixed, header, meta):
    # Decoded as the spider does (Scrapy's response.text), then extracted.
    for text, charset in mixed:
        body += text.encode(charset, "replace")
    body = f'<meta charset="{meta}">'.encode() + body if meta else body
    content_type = f"text/html; charset={header}" if header else "text/html"
    response = HtmlResponse(URL, body=body, headers={"Content-Type": content_type})
    assert_extraction_is_clean(response.text)


@pytest.mark.parametrize("html", ["", " ", "\x00", "\ufeff", "<html></html>", "<!---->", "<p>"])
def test_empty_documents_are_not_articles(html):
    assert extract_page(page(html)).reason in {"unparseable", "no_text"}


@pytest.mark.parametrize("depth", [300, 10_000, 100_000])
def test_deeply_nested_elements_never_crash_extraction(depth):
    closed = "<div>" * depth + "<p>" + "Deep prose. " * 60 + "</p>" + "</div>" * depth
    assert_extraction_is_clean(closed)
    assert_extraction_is_clean("<b><i>" * depth)  # never closed


def test_huge_document_is_extracted_in_bounded_time():
    html = "<html><body><article>" + "<p>One more paragraph of ordinary article prose, long enough.</p>" * 15_000
    started = time.monotonic()
    assert_extraction_is_clean(html + "</article></body></html>")  # about 1 MB
    assert time.monotonic() - started < 30


# ------------------------------------------------------------------------- feeds, sitemaps, robots

FEED_PARTS = ['<?xml version="1.0" encoding="utf-8"?>', '<?xml version="1.0" encoding="bogus"?>', "<rss>", "</rss>",
              '<rss version="2.0"><channel>', "<item>", "</item>", "<link>", "</link>", "<guid isPermaLink='false'>",
              '<feed xmlns="http://www.w3.org/2005/Atom">', "<entry>", '<link rel="alternate" href="', '"/>',
              "</entry>", "<rdf:RDF>", '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">', "<url>",
              "<loc>", "</loc>", "<lastmod>", "2026-02-30T25:00:00Z", "</lastmod>", "</url>", "<sitemapindex>",
              "https://news.example/a/", "/relative/", "javascript:alert(1)", "&amp;", "&undefined;", "<![CDATA[",
              '{"version": "https://jsonfeed.org/version/1.1", "items": [', '{"url": ', '"https://x.example/"}',
              "\ufeff", "\x00", "\n"]

xmlish = st.lists(st.one_of(st.sampled_from(FEED_PARTS), st.text(max_size=30)), max_size=40).map(
    lambda parts: "".join(parts).encode("utf-8", "surrogatepass"))
documents = st.one_of(st.binary(max_size=3000), xmlish, xmlish.map(lambda b: gzip.compress(b, mtime=0)))


@FAST
@given(documents)
def test_any_bytes_give_a_feed_or_none(body):
    result = parse_feed(body, "https://news.example/feed.xml", max_size=1_000_000)
    assert result is None or isinstance(result, Feed)
    if result is not None:
        assert all(link.startswith(("http://", "https://")) for link in result.links)


@FAST
@given(documents)
def test_any_bytes_give_a_sitemap_or_none(body):
    unpacked = sitemap_body(body, max_size=1_000_000)
    result = None if unpacked is None else parse_sitemap(unpacked, "https://news.example/sitemap.xml")
    assert result is None or isinstance(result, ParsedSitemap)


@FAST
@given(st.lists(st.one_of(st.sampled_from(["Sitemap: ", "sitemap:", "User-agent: *", "Disallow: /", "\n", "\r\n",
                                           "https://news.example/s.xml", "/rel.xml", "\x00", "\ufeff", "#"]),
                          st.text(max_size=40)), max_size=40).map("".join),
       st.sampled_from(["utf-8", "latin-1", "utf-16"]))
def test_any_robots_txt_gives_http_sitemap_urls(text, encoding):
    urls = robots_sitemaps(text.encode(encoding, "replace"), "https://news.example/robots.txt")
    assert all(url.startswith(("http://", "https://")) for url in urls)


# Ten levels of ten: a parser that expands these needs gigabytes (billion laughs); xxe reads a file.
_ENTITIES = "".join(
    f'<!ENTITY lol{n} "{("&lol" + str(n - 1) + ";") * 10}">' for n in range(1, 10)
)
HOSTILE_DTD = (
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY lol0 "lollollollollollollollollollol">' + _ENTITIES
    + '<!ENTITY xxe SYSTEM "file:///etc/passwd"><!ENTITY net SYSTEM "http://127.0.0.1:9/dtd">]>'
)
HOSTILE = {
    "rss": '<rss version="2.0"><channel><item><link>https://news.example/&lol9;</link></item>'
           '<item><link>https://news.example/&xxe;&net;</link></item></channel></rss>',
    "atom": '<feed xmlns="http://www.w3.org/2005/Atom"><entry><link href="https://news.example/&lol9;"/></entry>'
            '<entry><link href="https://news.example/&xxe;"/></entry></feed>',
    "sitemap": '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://news.example/&lol9;'
               '</loc></url><url><loc>https://news.example/&xxe;&net;</loc></url></urlset>',
}

_PARSE_HOSTILE = """
import sys, time
from crawler.discovery import parse_feed, parse_sitemap
kind, body = sys.argv[1], sys.argv[2].encode()
started = time.monotonic()
result = parse_sitemap(body, "https://news.example/") if kind == "sitemap" else parse_feed(body, "https://news.example/")
links = [] if result is None else list(result.locs if kind == "sitemap" else result.links)
peak_kib = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(repr(links)); print(time.monotonic() - started); print(peak_kib)
"""


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_xml_entities_are_neither_expanded_nor_read_from_files_or_network(kind):
    # In a fresh process, so its peak resident memory is the parse's alone (plus imports). VmHWM, not
    # ru_maxrss: Linux carries ru_maxrss over from the forking parent, here the whole test session.
    out = subprocess.run([sys.executable, "-c", _PARSE_HOSTILE, kind, HOSTILE_DTD + HOSTILE[kind]],
                         capture_output=True, text=True, timeout=60, cwd=Path(__file__).parent.parent)
    assert out.returncode == 0, out.stderr
    links, seconds, max_rss_kib = out.stdout.splitlines()
    assert "lollol" not in links and "root:" not in links
    assert float(seconds) < 1.0
    assert int(max_rss_kib) < 200 * 1024  # imports take about 60 MB; an expansion would take gigabytes


# ------------------------------------------------------------------- NUL, surrogates, SQL: loading

nasty_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["\x00", "\ud800", "\udfff", "a\x00b\ud800c", "'); DROP TABLE articles;--", "\\", "\\.", "\t\n\r",
                     "\\N", "\ufffe", "\U0010ffff", "%s", "$1", "E'\\x00'"]),
)


# URLs without lone surrogates: those are the known bug below.
url_text = nasty_text.filter(lambda s: not any("\ud800" <= c <= "\udfff" for c in s))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=nasty_text, text=nasty_text, author=nasty_text, tag=nasty_text, url_tail=url_text,
       canonical=st.one_of(st.none(), url_text))
def test_nul_surrogates_and_sql_in_any_field_never_break_a_batch(db, tmp_path_factory, title, text, author, tag,
                                                               url_tail, canonical):
    load_hostile_batch(db, tmp_path_factory.mktemp("spool"), title, text, author, tag, url_tail, canonical)


@pytest.mark.parametrize("url_tail, canonical", [("\ud800", None), ("", "https://news.example/\udfff/")])
def test_lone_surrogate_in_a_url_never_breaks_a_batch(db, tmp_path, url_tail, canonical):
    load_hostile_batch(db, tmp_path, "title", "text", "author", "tag", url_tail, canonical)


def load_hostile_batch(db, root, title, text, author, tag, url_tail, canonical) -> None:
    from crawler.spool import SpoolWriter
    from ingest.load import load_spool

    db.execute("TRUNCATE articles, loaded_segments RESTART IDENTITY CASCADE")
    fetched = datetime(2026, 11, 20, tzinfo=UTC)
    writer = SpoolWriter(root, "site", "run-hostile")
    hostile = Article(url="https://news.example/x/" + url_tail, source="site", text=text, title=title,
                      authors=[author], tags=[tag], canonical_url=canonical, description=text, site_name=title,
                      fetched_at=fetched, http_status=200, extractor_version="test",
                      field_sources={title: text})
    good = Article(url="https://news.example/good/", source="site", text="An ordinary story.", fetched_at=fetched,
                   http_status=200, extractor_version="test")
    writer.append(hostile)
    writer.append(good)
    writer.close()
    result = load_spool(db, root)
    stored = [u for (u,) in db.execute("SELECT canonical_url FROM articles")]
    if result.bad_segments:  # rejected cleanly: the whole segment kept for inspection
        assert stored == []
    else:
        assert "https://news.example/good/" in stored and len(stored) in (1, 2)


# ----------------------------------------------------------------------------------- config

BASE_SOURCE = {"name": "wire", "feeds": ["https://wire.example/rss"]}


def wrong_type(default: object) -> object:
    """A value of the wrong type for a key with this default: text where a boolean or a number is
    expected, a number where text or a list is, and a table where the default is unset (None)."""
    if isinstance(default, bool | int | float):
        return "yes" if isinstance(default, bool) else "many"
    if isinstance(default, str | list):
        return 42
    return {"x": 1}


SECTIONS = {"database": defaults.DATABASE, "service": defaults.SERVICE, "crawl": defaults.CRAWL,
            "load": defaults.LOAD, "daemon": defaults.DAEMON, "sources": defaults.SOURCE}
EVERY_KEY = [(section, key) for section, keys in SECTIONS.items() for key in keys]


def toml_value(value: object) -> str:
    # JSON's strings, numbers and lists of strings are TOML too; booleans and tables differ.
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    return str(value).lower() if isinstance(value, bool) else json.dumps(value)


@pytest.mark.parametrize("section, key", EVERY_KEY, ids=[f"{s}.{k}" for s, k in EVERY_KEY])
def test_wrong_type_for_any_key_is_a_config_error_naming_file_source_and_key(tmp_path, section, key):
    value = wrong_type(SECTIONS[section][key])
    if section == "sources":
        fields = {**BASE_SOURCE, key: value}
        text = "[[sources]]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in fields.items())
    else:
        text = f"[{section}]\n{key} = {toml_value(value)}\n"
    path = tmp_path / "newsingest.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_config(path, env={})
    message = str(error.value)
    assert str(path) in message
    if section == "sources":
        assert ("source 'wire'" if key != "name" else "sources[0]") in message
        assert f"key '{key}'" in message
    else:
        assert f"key '{section}.{key}'" in message or f"key '{key}'" in message


toml_values = st.one_of(
    st.booleans(), st.integers(), st.floats(), st.text(max_size=20),
    st.lists(st.one_of(st.integers(), st.text(max_size=10)), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


@FAST
@given(st.sampled_from(EVERY_KEY), toml_values)
@example(("load", "interval"), float("inf"))
@example(("daemon", "grace_period"), float("nan"))
@example(("crawl", "download_delay"), float("nan"))
@example(("sources", "interval"), 1e300)
def test_any_value_for_any_key_is_accepted_or_a_config_error(section_key, value):
    section, key = section_key
    raw = {"sources": [{**BASE_SOURCE, key: value}]} if section == "sources" else {section: {key: value}}
    try:
        config = parse_config(raw, Path("newsingest.toml"), env={})
    except ConfigError as exc:
        assert key in str(exc)
        return
    # Accepted numbers must be usable: finite (TOML has inf and nan), and durations the scheduler can add to a date.
    numbers = [config.load_interval, *(getattr(config.daemon, f) for f in config.daemon.__slots__),
               *(getattr(config.crawl, f) for f in config.crawl.__slots__), *(s.interval for s in config.sources)]
    for number in numbers:
        if isinstance(number, float):
            assert math.isfinite(number)
    for source in config.sources:
        datetime.now(UTC) + timedelta(seconds=source.interval)
    datetime.now(UTC) + timedelta(seconds=config.load_interval)


def test_elements_past_max_page_elements_are_not_read():
    html = "<html><body><article>" + "".join(
        f"<p>Paragraph number {n} of a page far longer than any article, in plain words.</p>" for n in range(3000)
    ) + "</article></body></html>"
    text = extract_html(html, URL, max_elements=1000).text
    assert "Paragraph number 10 " in text and "Paragraph number 2999 " not in text


def test_page_declaring_utf16_over_utf8_bytes_is_crawled_as_utf8(run_cli, tmp_path, data_dir):
    with NewsSite(articles=build_articles(1)) as site:
        path = "/2026/03/01/declared-utf-16/"
        site.custom[path] = (200, _article_html(site).replace('<meta charset="UTF-8">', '<meta charset="utf-16">'))
        site.custom_content_type[path] = "text/html"  # no charset: the <meta> is the only declaration
        config = write_config(tmp_path / "newsingest.toml", data_dir)
        result = run_cli("--config", str(config), "crawl", "--allow-private-hosts", "--no-load",
                         "--url", site.url(path))
        expected = site.articles[0]
    assert result.returncode == 0, result.stderr[-3000:]
    articles = [a for segment in SpoolPaths(data_dir / "spool").ready_segments() for a in read_segment(segment)]
    assert [(a.title, a.text) for a in articles] == [(expected.title, expected.text)]
