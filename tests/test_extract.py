"""Extraction of article fields and article/index classification, on small invented pages in
tests/fixtures/extract/ (nothing here reads the shared corpus)."""

from __future__ import annotations

import pickle
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from crawler.extract import EXTRACTOR_VERSION, Extraction, extract_html, extract_page, warm_up
from crawler.records import Article, Page

FIXTURES = Path(__file__).parent / "fixtures" / "extract"
WP_URL = "https://www.fjordside-gazette.example/2024/03/14/harbour-ferry-returns-to-service/"
CET = timezone(timedelta(hours=1))
WP_BODY = "\n\n".join(
    [
        "The Kestrel, the small harbour ferry that links the old town of Ostvik with the island of Lundholm, "
        "returned to service on Thursday morning after three months in dry dock.",
        "Engineers replaced both propeller shafts and rebuilt the passenger cabin, which had been damaged by a "
        "storm surge in November. The repairs cost the municipal transport company about 1.2 million crowns.",
        "Commuters who had relied on a replacement bus service for the winter welcomed the return. The detour "
        "around the bay had added up to forty minutes to each journey, according to the company.",
        "The ferry will run every twenty minutes on weekdays and every half hour at weekends, with an extra late "
        "crossing on Fridays until the end of the summer season.",
        "The company said a second vessel is due to be ordered next year so that the route is no longer left "
        "without a boat when the Kestrel needs maintenance.",
    ]
)


def html(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def page(name: str, url: str, fetched_at: datetime = datetime(2025, 7, 1, tzinfo=UTC)) -> Page:
    return Page(url=url, source="test", html=html(name), status=200, fetched_at=fetched_at)


@pytest.fixture(scope="module")
def wp() -> Article:
    return extract_html(html("wp_article.html"), WP_URL)


# ----------------------------------------------------------------------------- WordPress-style page


def test_wp_body_is_exactly_the_article_paragraphs(wp):
    assert wp.text == WP_BODY


@pytest.mark.parametrize(
    "chrome",
    [
        "The Kestrel leaving the dry dock at Ostvik",  # featured image caption
        "5120",  # article id badge
        "Breaking News",
        "- Advertisement -",
        "Advertisement",
        "TAGS",
        "RELATED ARTICLES",
        "Storm damages harbour ferry",
        "LEAVE A REPLY",
        "Please enter your comment!",
        "Please enter your name here",
        "You have entered an incorrect email address!",
        "Save my name, email, and website",
        "Sign up for our newsletter",
        "We use cookies",
        "All rights reserved",
        "Reporting by the Gazette news desk",  # author box
        "Staff and wire services",  # byline
        "March 14, 2024",
        "Facebook",
    ],
)
def test_wp_body_leaves_out_page_chrome(wp, chrome):
    assert chrome not in wp.text


def test_wp_title_is_headline_without_site_suffix(wp):
    assert wp.title == "Harbour ferry returns to service after winter repairs"
    assert wp.field_sources["title"] == "json-ld"


def test_wp_collective_byline_stays_one_author(wp):
    assert wp.authors == ["Staff and wire services"]


def test_wp_published_keeps_time_and_offset_not_the_later_modified_date(wp):
    assert wp.published_at == datetime(2024, 3, 14, 7, 5, tzinfo=CET)
    assert wp.published_at.isoformat() == "2024-03-14T07:05:00+01:00"
    assert wp.field_sources["published_at"] == "json-ld"


def test_wp_modified_date_is_kept_separately(wp):
    assert wp.modified_at == datetime(2024, 3, 15, 10, 20, tzinfo=CET)


def test_wp_relative_canonical_is_made_absolute(wp):
    assert wp.canonical_url == WP_URL


def test_wp_page_metadata(wp):
    assert (wp.language, wp.site_name) == ("en", "The Fjordside Gazette")
    assert wp.description == "The Kestrel harbour ferry is back on its route after a three-month overhaul."
    assert wp.image_url == "https://www.fjordside-gazette.example/wp-content/uploads/2024/03/kestrel-ferry.jpg"
    assert wp.tags == ["Ferries", "Transport"]


def test_extract_html_marks_file_source(wp):
    assert (wp.source, wp.http_status, wp.url) == ("file", 0, WP_URL)
    assert wp.extractor_version == EXTRACTOR_VERSION
    assert wp.fetched_at.tzinfo is not None


def test_wp_page_is_classified_as_article():
    result = extract_page(page("wp_article.html", WP_URL))
    assert result.reason is None
    assert result.article.text == WP_BODY
    assert (result.article.source, result.article.http_status) == ("test", 200)


# ----------------------------------------------------------------------------- other layouts


def test_meta_only_page_splits_by_line_into_two_authors():
    article = extract_html(html("meta_only.html"), "https://talboten.invalid/region/neue-bruecke-aue")
    assert article.authors == ["Mara Lindqvist", "Tobias Renner"]
    assert article.field_sources["authors"] == "meta"


def test_meta_only_page_title_date_and_language_come_from_meta_tags():
    article = extract_html(html("meta_only.html"), "https://talboten.invalid/region/neue-bruecke-aue")
    assert article.title == "Neue Brücke über die Aue soll 2026 fertig sein"
    assert article.published_at.isoformat() == "2025-06-02T18:30:00+02:00"
    assert article.language == "de"
    assert article.site_name == "Talboten Online"
    assert article.tags == ["Verkehr", "Brücke", "Aue"]


def test_meta_only_page_drops_read_also_and_photo_credit_lines():
    article = extract_html(html("meta_only.html"), "https://talboten.invalid/region/neue-bruecke-aue")
    assert article.text.endswith("Das Land übernimmt nach Angaben der Gemeinde etwa zwei Drittel davon.")
    assert "Lesen Sie auch" not in article.text
    assert "Foto:" not in article.text
    assert "Alle Rechte vorbehalten" not in article.text
    assert article.text.count("\n\n") == 2


def test_page_without_stated_date_gets_day_from_htmldate():
    article = extract_html(html("htmldate_page.html"), "https://riverbend.invalid/news/library-hours")
    assert article.published_at is not None
    assert article.published_at.date().isoformat() == "2023-05-09"
    assert article.published_at.tzinfo is not None
    assert article.field_sources["published_at"] == "htmldate"


def test_page_without_metadata_uses_title_tag():
    article = extract_html(html("htmldate_page.html"), "https://riverbend.invalid/news/library-hours")
    assert article.title == "Library extends opening hours for exam season"


def test_date_later_than_fetch_time_is_rejected():
    fetched = datetime(2024, 3, 14, 5, 0, tzinfo=UTC)  # before the stated 07:05+01:00 publication
    result = extract_page(page("wp_article.html", WP_URL, fetched_at=fetched))
    # The stated time is refused; only the day htmldate finds on the page (not after the fetch) is left.
    assert result.article.published_at == datetime(2024, 3, 14, tzinfo=UTC)
    assert result.article.field_sources["published_at"] == "htmldate"
    assert result.article.modified_at is None


# ----------------------------------------------------------------------------- classification


def test_section_front_is_an_index_page():
    result = extract_page(page("index_page.html", "https://herald.example/local/"))
    assert result == Extraction(None, "index_page")


def test_short_article_is_too_short():
    result = extract_page(page("tiny_page.html", "https://herald.example/2024/08/01/road-closed"))
    assert result == Extraction(None, "too_short")


def test_min_article_chars_is_configurable():
    result = extract_page(page("tiny_page.html", "https://herald.example/2024/08/01/road-closed"),
                          min_article_chars=50)
    assert result.reason is None
    assert result.article.title == "Road closed"


def test_article_pattern_rejects_undeclared_page_outside_pattern():
    result = extract_page(page("htmldate_page.html", "https://riverbend.invalid/about"),
                          article_pattern=r"/news/")
    assert result == Extraction(None, "url_pattern")


def test_article_pattern_accepts_matching_undeclared_page():
    result = extract_page(page("htmldate_page.html", "https://riverbend.invalid/news/library-hours"),
                          min_article_chars=200, article_pattern=r"/news/")
    assert result.reason is None


# ----------------------------------------------------------------------------- robustness


@pytest.mark.parametrize(
    "garbage", ["", "   ", "\x00\x01\x02", "<<<>>>", "<html><body></body></html>", "%PDF-1.4 \xff"]
)
def test_extract_html_never_raises_on_garbage(garbage):
    article = extract_html(garbage, "https://x.invalid/")
    assert article.text == ""
    assert article.source == "file"


@pytest.mark.parametrize("garbage", ["", "\x00\x01", "<html><body></body></html>"])
def test_extract_page_reports_garbage_instead_of_raising(garbage):
    result = extract_page(Page(url="https://x.invalid/", source="t", html=garbage, status=200,
                               fetched_at=datetime(2025, 1, 1, tzinfo=UTC)))
    assert result.article is None
    assert result.reason in {"unparseable", "no_text"}


def test_extraction_result_survives_pickling_for_worker_processes():
    result = extract_page(page("wp_article.html", WP_URL))
    assert pickle.loads(pickle.dumps(result)) == result


def test_article_round_trips_through_json(wp):
    assert Article.from_json(wp.to_json()) == wp


def test_warm_up_runs():
    warm_up()


def test_warm_up_loads_the_language_model_so_a_workers_first_page_does_not_pay_for_it():
    # A fresh interpreter: this one may have loaded the model already.
    probe = ("import py3langid.langid as langid\n"
             "from crawler.extract import warm_up\n"
             "warm_up()\n"
             "print(langid.IDENTIFIER is not None)\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                            cwd=Path(__file__).parent.parent)
    assert result.stdout.strip() == "True", result.stderr[-2000:]


# ----------------------------------------------------------------------------- organisation byline, other stories


def test_person_byline_on_page_replaces_organisation_author():
    article = extract_html(html("org_byline.html"), "https://coastline-courier.example/2025/02/10/night-trains")
    # JSON-LD names only the publisher; the visible byline names the reporter. A teaser's author in
    # the aside is not taken.
    assert article.authors == ["Ingrid Halvorsen"]
    assert article.field_sources["authors"] == "byline"
    assert article.title == "Night trains return to the coast line"


def test_site_name_in_author_meta_next_to_a_person_is_not_an_author():
    page = ("<html><head><meta property='og:site_name' content='Coastline Courier'>"
            "<meta name='author' content='Coastline Courier'><meta name='author' content='Ingrid Halvorsen'>"
            "<title>Night trains return</title></head><body><article><h1>Night trains return</h1>"
            + "<p>The night train runs along the coast again from May.</p>" * 10 + "</article></body></html>")
    article = extract_html(page, "https://coastline-courier.example/2025/02/10/night-trains")
    assert article.authors == ["Ingrid Halvorsen"]
    assert article.field_sources["authors"] == "meta"


def test_appended_second_story_is_not_body_and_the_quoted_post_is():
    article = extract_html(html("two_stories.html"), "https://harbour-post.example/2025/03/04/crane")
    assert article.text.startswith("A container crane at the northern harbour collapsed")
    assert article.text.endswith("according to the port company.")
    assert "library" not in article.text  # the next story, under its own <h1>
    assert "Unbelievable scenes at the harbour tonight, the big crane is down" in article.text.split("\n\n")
    assert article.authors == ["Mikkel Sand"]


def test_language_is_detected_when_the_page_declares_none():
    paragraphs = [
        "Der Stadtrat von Eichenfeld hat am Dienstag beschlossen, die alte Markthalle am Mühlenplatz zu "
        "sanieren und im kommenden Frühjahr wieder für Händler aus der Region zu öffnen.",
        "Nach Angaben der Verwaltung sollen die Arbeiten rund achtzehn Monate dauern. Die Kosten werden "
        "auf etwa vier Millionen Euro geschätzt, ein Teil davon kommt aus einem Förderprogramm des Landes.",
        "Die Händlerinnen und Händler begrüßten die Entscheidung, forderten aber eine Übergangslösung für "
        "die Zeit der Bauarbeiten, damit die Kundschaft nicht in die Einkaufszentren am Stadtrand abwandert.",
    ]
    html = ("<html><head><title>Markthalle wird saniert</title></head><body><article><h1>Markthalle wird saniert"
            "</h1>" + "".join(f"<p>{p}</p>" for p in paragraphs) + "</article></body></html>")
    article = extract_html(html, "https://eichenfeld-bote.invalid/2026/11/markthalle/")
    assert article.language == "de"
    assert article.field_sources["language"] == "detected"


def test_declared_language_wins_over_detection():
    html = ("<html lang='fr'><head><title>T</title></head><body><article><h1>T</h1>"
            + "<p>This English paragraph is long enough for a detector to be confident about it.</p>" * 5
            + "</article></body></html>")
    article = extract_html(html, "https://example.invalid/story/")
    assert article.language == "fr"
    assert article.field_sources["language"] == "html"


# ---- per-source overrides -------------------------------------------------------------------------------

from crawler.extract import Overrides  # noqa: E402

STORY = [
    "The harbour authority in Calloway Bay voted on Thursday to extend the northern breakwater by two hundred "
    "metres, a project that fishermen have requested for more than a decade after repeated winter storm damage.",
    "Work is expected to begin in the spring and last about eighteen months, the authority said, with the cost "
    "shared between the regional council and a national fund for coastal protection projects.",
    "Skippers welcomed the decision but asked that the existing slipway stay open during construction so that "
    "smaller boats can still land their catch on the days when the weather allows them to go out.",
]
PROMO = [
    "Our readers' travel club is offering a twelve-night cruise along the northern fjords with guided walks, "
    "a lecture programme, and all meals included for members who book before the end of the month.",
    "Members also receive a discount on the autumn city breaks programme, which this year visits four capitals "
    "with a local guide, a private museum tour and a farewell dinner in each of them.",
]


def _override_page() -> str:
    story = "".join(f"<p>{p}</p>" for p in STORY)
    promo = "".join(f"<p>{p}</p>" for p in PROMO)
    return (
        "<html lang='en'><head><title>Coast | Calloway Courier</title></head><body>"
        "<h1 class='section'>Coast</h1><h2 class='headline'>Breakwater extension approved</h2>"
        f"<div class='story-body'>{story}</div><div class='club-offer'>{promo}</div></body></html>"
    )


def test_body_selector_override_takes_only_the_selected_text():
    article = extract_html(_override_page(), "https://courier.invalid/coast/breakwater/",
                           Overrides(body="div.story-body"))
    assert article.text == "\n\n".join(STORY)
    assert article.field_sources["text"] == "override"


def test_title_selector_override_picks_the_headline():
    article = extract_html(_override_page(), "https://courier.invalid/coast/breakwater/",
                           Overrides(title="//h2[@class='headline']"))
    assert article.title == "Breakwater extension approved"
    assert article.field_sources["title"] == "override"


def test_drop_text_override_removes_paragraphs_containing_it():
    article = extract_html(_override_page(), "https://courier.invalid/coast/breakwater/",
                           Overrides(body="div.story-body", drop=("slipway",)))
    assert article.text == "\n\n".join(STORY[:2])


def test_body_selector_matching_nothing_falls_back_and_says_so():
    article = extract_html(_override_page(), "https://courier.invalid/coast/breakwater/",
                           Overrides(body="div.no-such-thing"))
    assert STORY[0] in article.text
    assert article.field_sources["text_override"] == "no_match"
