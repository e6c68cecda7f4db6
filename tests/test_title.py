"""Which of the titles a page states becomes the article's headline (crawler/title.py), on small invented
pages written inline (nothing here reads the shared corpus)."""

from __future__ import annotations

import json

from trafilatura.utils import load_html

from crawler import metadata as md
from crawler.extract import extract_html
from crawler.title import choose_title

SITE = "Harbour Herald"


def page(*, headline=None, og=None, twitter=None, h1=None, title=None) -> str:
    head = []
    if headline is not None:
        ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": headline}
        head.append(f'<script type="application/ld+json">{json.dumps(ld)}</script>')
    if og is not None:
        head.append(f"<meta property='og:title' content='{og}'>")
    if twitter is not None:
        head.append(f"<meta name='twitter:title' content='{twitter}'>")
    if title is not None:
        head.append(f"<title>{title}</title>")
    body = f"<h1>{h1}</h1>" if h1 is not None else ""
    return f"<html><head>{''.join(head)}</head><body><article>{body}<p>Text.</p></article></body></html>"


def choose(html: str) -> tuple[str | None, str | None]:
    pm = md.read_page(load_html(html))
    sources: dict = {}
    title = choose_title(pm, pm.jsonld_article, {md.norm_key(SITE)}, sources)
    return title, sources.get("title")


def test_jsonld_headline_is_taken_when_og_title_says_the_same():
    assert choose(page(headline="Ferry returns", og="Ferry returns", h1="Ferry returns")) == (
        "Ferry returns", "json-ld")


def test_og_title_worded_differently_from_jsonld_headline_is_taken():
    html = page(headline="Ferry service resumes after repairs", og="The Kestrel is back",
                h1="Ferry service resumes after repairs", title=f"Ferry service resumes after repairs | {SITE}")
    assert choose(html) == ("The Kestrel is back", "meta")


def test_og_title_that_only_copies_the_title_tag_does_not_beat_jsonld():
    html = page(headline="Ferry service resumes after repairs", og="The Kestrel is back", title="The Kestrel is back")
    assert choose(html) == ("Ferry service resumes after repairs", "json-ld")


def test_og_title_that_carries_the_site_name_does_not_beat_jsonld():
    html = page(headline="Ferry service resumes after repairs", og=f"The Kestrel is back | {SITE}")
    assert choose(html) == ("Ferry service resumes after repairs", "json-ld")


def test_og_title_differing_only_in_quote_style_keeps_the_jsonld_typography():
    html = page(headline="Mayor calls ferry ‘vital’", og="Mayor calls ferry &quot;vital&quot;")
    assert choose(html) == ("Mayor calls ferry ‘vital’", "json-ld")


def test_og_title_cut_off_at_an_unescaped_quote_is_ignored():
    # content='Ferry named ' is what a template leaves of: Ferry named 'Kestrel' returns
    html = ("<html><head><meta property='og:title' content='Ferry named '>"
            "<title>Ferry named 'Kestrel' returns</title></head>"
            "<body><article><h1>Ferry named 'Kestrel' returns</h1><p>Text.</p></article></body></html>")
    assert choose(html) == ("Ferry named 'Kestrel' returns", "h1")


def test_kicker_is_dropped_when_other_metadata_states_the_bare_headline():
    html = page(headline="Ferry service resumes", og="Harbour | Ferry service resumes", title="Harbour news")
    assert choose(html) == ("Ferry service resumes", "json-ld")


def test_kicker_stays_when_only_the_h1_lacks_it():
    # The h1 often shows the kicker in a separate element; only metadata without it says it is no part.
    html = page(og="Harbour: Ferry service resumes", h1="Ferry service resumes")
    assert choose(html) == ("Harbour: Ferry service resumes", "meta")


def test_section_and_site_suffix_go_when_another_source_states_the_bare_headline():
    html = page(og=f"Ferry service resumes | Local | {SITE}", h1="Ferry service resumes")
    assert choose(html) == ("Ferry service resumes", "h1")


def test_site_name_after_a_full_width_separator_is_stripped():
    assert md.strip_site_suffix(f"フェリー運航再開：{SITE}", {md.norm_key(SITE)}) == "フェリー運航再開"
    assert md.strip_site_suffix(f"Ferry returns ｜ {SITE}", {md.norm_key(SITE)}) == "Ferry returns"


def test_h1_then_title_tag_when_no_metadata_states_a_title():
    assert choose(page(h1="Ferry returns", title=f"Ferry returns (updated) | {SITE}")) == ("Ferry returns", "h1")
    assert choose(page(title=f"Ferry returns | {SITE}")) == ("Ferry returns", "title")
    assert choose(page()) == (None, None)


def test_extraction_records_which_source_gave_the_title():
    html = page(headline="Ferry service resumes after repairs", og="The Kestrel is back",
                h1="Ferry service resumes after repairs")
    article = extract_html(html.replace("<p>Text.</p>", "<p>" + "The ferry runs again. " * 30 + "</p>"),
                           "https://harbour-herald.example/2024/ferry")
    assert article.title == "The Kestrel is back"
    assert article.field_sources["title"] == "meta"


def test_two_different_kickers_on_the_same_headline_are_both_dropped():
    # Each source puts its own topic line before the headline they share.
    html = page(og="Storm season: Ferry service resumes", h1="Harbour works - Ferry service resumes")
    assert choose(html) == ("Ferry service resumes", "meta")


def test_kicker_worded_a_little_differently_is_still_the_same_kicker():
    html = page(og="Storm season: Ferry service resumes", h1="Late storm season - Ferry service resumes")
    assert choose(html) == ("Storm season: Ferry service resumes", "meta")
