"""Body text: what `extract_html` keeps of a page and what it leaves out, on small invented pages."""

from __future__ import annotations

import json

import pytest

from crawler.boilerplate import is_boilerplate
from crawler.extract import extract_html

URL = "https://www.lakeside-courier.example/2024/05/02/council-approves-new-bridge/"
TITLE = "Council approves the new bridge over the Elm river"
SENTENCES = [
    "The town council voted on Tuesday evening to build a new footbridge across the Elm river near the old mill.",
    "Construction is expected to start next spring and should take about eighteen months, the planning office said.",
    "Residents had asked for a safer crossing since the old wooden bridge was closed after the floods two years ago.",
    "The project will cost around four million euros, most of it paid for by a regional infrastructure fund.",
    "Opponents argued that the money would be better spent on repairing roads in the outlying villages instead.",
    "The mayor said the bridge would also connect the new school with the housing estate on the northern bank.",
]


def page(body: str, head: str = "", title: str = TITLE) -> str:
    return (
        f"<html><head><title>{title}</title>{head}</head><body>"
        f"<header><nav><a href='/'>Home</a> <a href='/news'>News</a></nav></header>"
        f"<main><h1>{title}</h1>{body}</main><footer><p>Lakeside Courier</p></footer></body></html>"
    )


def paragraphs(sentences: list[str]) -> str:
    return "".join(f"<p>{s}</p>" for s in sentences)


def test_body_split_into_same_class_containers_is_read_whole():
    # Ad slots between the parts of the body: every part is article text, not only the first.
    body = (
        f"<div class='article-body'>{paragraphs(SENTENCES[:3])}</div>"
        "<div class='ad-slot'><span>Advertisement</span></div>"
        f"<div class='article-body'>{paragraphs(SENTENCES[3:])}</div>"
    )
    text = extract_html(page(f"<article>{body}</article>"), URL).text
    assert text.split("\n\n") == SENTENCES


def test_social_posts_the_article_quotes_keep_their_text_as_quotes():
    tweet = ("<blockquote class='twitter-tweet'><p lang='en'>The bridge vote passed {0}, work starts in spring "
             "<a href='https://t.co/x'>pic.twitter.com/bridge{0}</a></p>&mdash; Elm Watch (@elmwatch) "
             "<a href='https://twitter.invalid/elmwatch/status/1'>May 2, 2024</a></blockquote>")
    body = paragraphs(SENTENCES[:3]) + tweet.format("one") + tweet.format("two") + paragraphs(SENTENCES[3:])
    text = extract_html(page(f"<article>{body}</article>"), URL).text
    lines = text.split("\n\n")
    assert "The bridge vote passed one, work starts in spring pic.twitter.com/bridgeone" in lines
    assert "The bridge vote passed two, work starts in spring pic.twitter.com/bridgetwo" in lines
    assert "— Elm Watch (@elmwatch) May 2, 2024" in lines
    assert lines[0] == SENTENCES[0] and lines[-1] == SENTENCES[-1]


def test_furniture_of_embedded_posts_is_dropped_and_their_caption_kept():
    instagram = ("<blockquote class='instagram-media'><div><a href='https://instagram.invalid/p/1'>View this post "
                 "on Instagram</a></div><p><a href='https://instagram.invalid/p/1'>A post shared by Elm Watch "
                 "(@elmwatch)</a></p></blockquote>")
    tiktok = ("<blockquote class='tiktok-embed'><section><a href='https://tiktok.invalid/@elmwatch'>@elmwatch</a> "
              "Crossing the old mill bridge one last time before it closes for good "
              "<a href='https://tiktok.invalid/music/1'>♬ original sound - elmwatch</a></section></blockquote>")
    body = paragraphs(SENTENCES[:3]) + instagram + tiktok + paragraphs(SENTENCES[3:])
    text = extract_html(page(f"<article>{body}</article>"), URL).text
    assert "Crossing the old mill bridge one last time before it closes for good" in text
    assert "View this post" not in text and "A post shared by" not in text and "♬" not in text
    assert all(s in text for s in SENTENCES)


def test_column_whose_text_our_rules_lose_is_stored_as_trafilatura_reads_it():
    # The column's body holds a second <h1> (a sub-heading), which the "another story under its own
    # <h1>" rule takes for a second story; without the safety net only the standfirst and the list of
    # other columns were left.
    dek = ("The council wants to replace the last tram lines with electric buses by 2030. That would be a "
           "costly mistake, and the figures the council published last month show why, argues our columnist, "
           "who has ridden the network for thirty years and has written about it since the first extension.")
    others = "".join(f"<li><a href='/opinion/{i}'>Another columnist on another subject, part {i}</a></li>"
                     for i in range(6))
    column = [f"{s} {point}" for point in ("The tram still carries more riders per euro than any bus line.",
                                            "Buses would need twice the drivers the tram needs today.")
              for s in SENTENCES]
    html = (f"<html><head><title>{TITLE}</title><meta property='og:type' content='article'></head><body>"
            f"<div class='top'><header><h1>{TITLE}</h1><p class='dek'>{dek}</p></header>"
            f"<section><p>More from Opinion</p><ul>{others}</ul></section></div>"
            f"<div class='column-body'>{paragraphs(column[:6])}<h1>What the numbers say</h1>"
            f"{paragraphs(column[6:])}</div></body></html>")
    article = extract_html(html, URL)
    assert all(c in article.text for c in column)
    assert article.field_sources["text"] == "trafilatura_fallback"


def test_short_article_is_not_replaced_by_a_longer_other_story_from_the_scripts():
    # Hydration data also carries the next story; being longer does not make it this page's article.
    short = SENTENCES[:2]
    other = paragraphs([f"The zoo welcomed two lions from a park abroad, keepers said on day {i}." for i in range(12)])
    scripts = f"<script>window.__STATE__ = {json.dumps({'next': {'html': other}})};</script>"
    text = extract_html(page(f"<article>{paragraphs(short)}</article>{scripts}"), URL).text
    assert text.split("\n\n") == short


def test_list_of_short_link_items_is_dropped():
    related = "<ul>" + "".join(
        f"<li><a href='/news/{i}'>{t}</a></li>"
        for i, t in enumerate(["Mayor opens new library", "Road closures this weekend", "Elm river flood alert"])
    ) + "</ul>"
    text = extract_html(page(f"<article>{paragraphs(SENTENCES)}{related}</article>"), URL).text
    assert "library" not in text and "Road closures" not in text
    assert text.split("\n\n") == SENTENCES


def test_list_of_short_plain_items_inside_the_article_is_kept():
    # A deal or product article lists specifications between its paragraphs: article text, not links.
    specs = ["Span: 48 metres", "Width: 4 metres", "Material: weathering steel", "Lighting: solar lamps"]
    body = paragraphs(SENTENCES[:3]) + "<ul>" + "".join(f"<li>{s}</li>" for s in specs) + "</ul>"
    text = extract_html(page(f"<article>{body}{paragraphs(SENTENCES[3:])}</article>"), URL).text
    assert text.split("\n\n") == SENTENCES[:3] + [f"- {s}" for s in specs] + SENTENCES[3:]


def test_article_only_in_next_js_flight_data_is_read_from_the_script():
    html_body = paragraphs(SENTENCES)
    # Next.js app router: the article HTML is a JSON string inside a JavaScript string.
    chunk = json.dumps([1, json.dumps({"article": {"contentHtml": html_body}})])
    scripts = f"<script>self.__next_f.push({chunk})</script>"
    text = extract_html(page(f"<div id='root'></div>{scripts}"), URL).text
    assert text.split("\n\n") == SENTENCES


def test_article_only_in_next_data_json_is_read_from_the_script():
    data = json.dumps({"props": {"pageProps": {"story": {"body": paragraphs(SENTENCES)}}}})
    scripts = f"<script id='__NEXT_DATA__' type='application/json'>{data}</script>"
    text = extract_html(page(f"<div id='__next'></div>{scripts}"), URL).text
    assert text.split("\n\n") == SENTENCES


def test_script_data_is_ignored_when_the_page_shows_the_article():
    data = json.dumps({"teaser": paragraphs(["Another story entirely, about a zoo.", "The zoo got two new lions."])})
    scripts = f"<script type='application/json'>{data}</script>"
    text = extract_html(page(f"<article>{paragraphs(SENTENCES)}</article>{scripts}"), URL).text
    assert "zoo" not in text


def test_list_of_full_sentences_is_kept():
    points = "<ul>" + "".join(f"<li>{s}</li>" for s in SENTENCES[3:]) + "</ul>"
    text = extract_html(page(f"<article>{paragraphs(SENTENCES[:3])}{points}</article>"), URL).text
    assert all(s in text for s in SENTENCES)


def test_short_dialogue_paragraphs_starting_with_a_dash_are_kept():
    # Some languages write dialogue as "- ..." paragraphs, which look like list items in plain text.
    dialogue = ["- Vi bygger den nye broen, sa ordføreren.", "- Endelig, svarte naboen."]
    body = paragraphs(SENTENCES[:3]) + paragraphs(dialogue) + paragraphs(SENTENCES[3:])
    text = extract_html(page(f"<article>{body}</article>"), URL).text
    assert all(d in text for d in dialogue)


def test_headline_in_its_social_wording_is_not_body_text():
    social = "Elm river bridge: council says yes after two years of debate"
    head = f"<meta property='og:title' content='{social}'>"
    body = f"<article><h2>{social}</h2>{paragraphs(SENTENCES)}</article>"
    text = extract_html(page(body, head=head), URL).text
    assert text.split("\n\n") == SENTENCES


@pytest.mark.parametrize(
    "line",
    [
        "Les også: Ordføreren åpner nytt bibliotek",
        "Czytaj więcej",
        "MORE : Council approves road repairs",
        "READ NEXT: Weather service warns of storms",
        "Фото: Иван Петров, Коммерсантъ",
        "Join our commenting forum",
        "Please read our Comment Policy before commenting.",
        "Fehler gefunden? Jetzt melden.",
        "Wie hat Ihnen dieser Artikel gefallen?",
        "Log in or create an account to continue",
        "Il vous reste 57% de cet article à lire. La suite est réservée aux abonnés.",
        "Subscribe Now!",
        "この記事は会員限定です。",
    ],
)
def test_reader_prompts_and_see_also_lines_are_boilerplate(line):
    assert is_boilerplate(line)


@pytest.mark.parametrize(
    "line",
    [
        "More than 200 residents came to the meeting on Tuesday.",
        "Readers who commented on the plan were mostly in favour of the bridge.",
    ],
)
def test_article_sentences_that_start_like_prompts_are_kept(line):
    assert not is_boilerplate(line)
