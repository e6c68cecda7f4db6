"""A labelled set for deduplication, generated from the fixture site's invented stories (tests/newssite.py).

Every record is one page as a crawler would bring it back: the URL it fetched, the canonical URL the page
stated, the extracted text, and the ground truth: `story` (records of one story must end up in one
cluster; different stories must not) and `kind` (which variant of the story it is). The variants are the
ways one story reaches a corpus: exact copies on other sites, tracking-parameter URLs, AMP and print
renderings, copies with site boilerplate added, with a paragraph dropped, with a sentence edited; and, to
catch over-merging, genuinely different articles on the same topic as a fixture story (`SAME_TOPIC`).

Pure data, deterministic, no I/O. Used by tests/test_dedup.py and bench/dedup_quality.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from newssite import FixtureArticle, build_articles

ORIGIN = "https://fixture-times.example"
WIRE_SITES = ("https://wire-one.example", "https://gazette-two.example")
FETCHED = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)

# Kinds that are the same story as their original; `same_topic` records are distinct stories.
URL_KINDS = ("tracking", "amp_path", "amp_query", "amp_page", "print")
COPY_KINDS = ("exact_copy", "boilerplate", "dropped_paragraph", "edited_sentence")

BOILERPLATE_HEAD = "Riverside Gazette | Home | News | Sport | Weather | Advertisement"
BOILERPLATE_TAIL = (
    "Sign up for our free morning newsletter to get the day's top stories in your inbox. "
    "Follow us on social media. © 2026 Riverside Gazette. All rights reserved."
)


@dataclass(frozen=True, slots=True)
class LabelledPage:
    key: str  # unique and readable, e.g. "3:boilerplate"
    story: str  # ground truth: pages with the same story are one cluster
    kind: str  # original | URL_KINDS | COPY_KINDS | same_topic
    url: str  # as fetched
    stated_canonical: str | None  # rel=canonical / og:url as the page states it
    text: str
    title: str
    fetched_at: datetime


def labelled_pages(stories: int = 15) -> list[LabelledPage]:
    """For each of the first `stories` fixture stories: the original and every variant, then the
    same-topic articles. Originals come first, so "first seen" is the original."""
    articles = build_articles(stories)
    pages: list[LabelledPage] = []
    for n, article in enumerate(articles):
        pages.append(_page(n, "original", article, ORIGIN + article.path, ORIGIN + article.path, article.text, 0))
    for n, article in enumerate(articles):
        pages.extend(variants(n, article))
    for n, (story_index, title, paragraphs) in enumerate(SAME_TOPIC):
        if story_index < stories:
            url = f"{ORIGIN}/2026/04/0{n + 1}/{title.lower().replace(' ', '-')}/"
            pages.append(LabelledPage(
                key=f"topic{n}:same_topic", story=f"topic{n}", kind="same_topic", url=url, stated_canonical=url,
                text="\n\n".join(paragraphs), title=title, fetched_at=FETCHED + timedelta(minutes=30 + n),
            ))
    return pages


def variants(n: int, article: FixtureArticle) -> list[LabelledPage]:
    canonical = ORIGIN + article.path
    wire, gazette = (f"{site}/news/{article.slug}/" for site in WIRE_SITES)
    text = article.text
    return [
        _page(n, "tracking", article, f"{canonical}?utm_source=rss&utm_medium=feed&fbclid=abc{n}", None, text, 1),
        # AMP page fetched directly, without a canonical stated: the URL rule alone must map it.
        _page(n, "amp_path", article, f"{canonical}amp/", None, text, 2),
        _page(n, "amp_query", article, f"{canonical}?amp=1", None, text, 3),
        # The page a <link rel=amphtml> points to: its own URL is elsewhere, its rel=canonical names the article.
        _page(n, "amp_page", article, f"https://amp.fixture-times.example/s/{n}.amp.html", canonical, text, 4),
        _page(n, "print", article, f"{canonical}?print=1", None, text, 5),
        _page(n, "exact_copy", article, wire, wire, text, 6),
        _page(n, "boilerplate", article, gazette, gazette, with_boilerplate(article.paragraphs), 7),
        _page(n, "dropped_paragraph", article, f"{WIRE_SITES[0]}/short/{article.slug}/", None,
              "\n\n".join(article.paragraphs[:-1]), 8),
        _page(n, "edited_sentence", article, f"{WIRE_SITES[1]}/edited/{article.slug}/", None,
              edited_sentence(article.paragraphs), 9),
    ]


def with_boilerplate(paragraphs: list[str]) -> str:
    return "\n\n".join([BOILERPLATE_HEAD, *paragraphs, BOILERPLATE_TAIL])


def edited_sentence(paragraphs: list[str]) -> str:
    """A correction: a few words added to the first sentence of the second paragraph."""
    first = paragraphs[1].split(". ")[0]
    edited = paragraphs[1].replace(first, first + ", officials confirmed on Tuesday", 1)
    return "\n\n".join([paragraphs[0], edited, *paragraphs[2:]])


def _page(n: int, kind: str, article: FixtureArticle, url: str, stated: str | None, text: str,
          minutes: int) -> LabelledPage:
    return LabelledPage(key=f"{n}:{kind}", story=str(n), kind=kind, url=url, stated_canonical=stated, text=text,
                        title=article.title, fetched_at=FETCHED + timedelta(minutes=minutes))


# Different articles on the topic of a fixture story (its index in build_articles): same places, people
# and vocabulary, different reporting. Invented, like the stories they follow up.
SAME_TOPIC: tuple[tuple[int, str, tuple[str, ...]], ...] = (
    (0, "Varnholm begins the clean-up as the river falls", (
        "Residents of Varnholm returned to their homes on Thursday as the river Varn fell back below its flood "
        "walls, leaving streets along the old harbour front coated in a thick layer of grey mud and debris.",
        "Volunteers with shovels and wheelbarrows worked alongside council crews to clear Quay Street, where "
        "ground-floor flats had been under more than a metre of water at the height of the flood on Monday.",
        "The regional governor, Aldo Brenner, said an emergency fund of 40 million crowns would pay for temporary "
        "housing and help small businesses replace stock. “Nobody should have to rebuild alone,” he said.",
        "Engineers reopened the main road bridge after finding no damage to its piers, but the railway to the "
        "coast will stay closed for at least a month while the embankment near Ostby is rebuilt.",
        "Insurers estimated the damage at several hundred million crowns and said claims were arriving faster "
        "than after any flood in the region since records began. Many shop owners said they had no cover.",
        "Hydrologists have begun a review of why the flood walls, raised four years ago, were overtopped so "
        "quickly, and whether the forecasts gave residents enough warning to move their families and cars.",
    )),
    (3, "Tarsen president asks the Labour Alliance to try again", (
        "President Elsa Morgenthal on Monday asked the Labour Alliance to make a second attempt at forming a "
        "government in Tarsen, rejecting calls from smaller parties to dissolve parliament straight away.",
        "The president said voters deserved one more effort at compromise before being sent back to the polls. "
        "She gave the alliance three weeks to report back, and urged both blocs to lower their demands on tax.",
        "Labour Alliance negotiator Rui Falcão said his party would now approach the Greens and the farmers’ "
        "party, which together hold eleven seats, instead of returning to talks with the Civic Union.",
        "Civic Union leader Hanne Kessel called the decision a waste of time. Her party had walked out of the "
        "budget negotiations last week and says it will only return if the income tax proposal is dropped.",
        "Mayors across the country repeated warnings that school building projects and road repairs are on "
        "hold while ministries work on monthly allowances, and asked parliament to pass an interim budget.",
    )),
    (2, "Amateur astronomers capture the first colour image of the Mirevale comet", (
        "A group of amateur astronomers has taken the first colour photograph of the comet found at the "
        "Mirevale observatory last month, showing a green glow around its head and a faint, straight tail.",
        "The image was assembled from more than two hundred short exposures taken over three nights from a "
        "hilltop field outside the town, where the sky is darker than at the observatory itself.",
        "Observatory director Dr Katrin Holm said the green colour came from gas released as sunlight warms "
        "the comet’s ice, and that the photographs would help her team measure how fast it is brightening.",
        "Graduate student Ravi Menon, who spotted the comet, said the response from amateurs had been "
        "overwhelming. “We asked for observations and got a flood of them, from four continents,” he said.",
        "The comet is still far too faint to see without a telescope, and astronomers caution that it may "
        "break apart long before its closest approach to the Sun next winter.",
    )),
    (10, "Flour mills blame harvest failures for the price rise", (
        "The country’s largest flour millers said on Wednesday that the steep rise in flour prices was caused "
        "by poor wheat harvests abroad and not by their own margins, after small bakeries accused them of "
        "profiting from the shortage.",
        "The millers’ association said the cost of imported milling wheat had almost doubled in eighteen "
        "months, and that energy bills for its mills had risen by a third over the same period.",
        "Bakers’ groups had asked the competition authority to examine whether millers were passing on higher "
        "costs faster than they rose. The authority said it was gathering information but had not opened a case.",
        "Several supermarket chains have already raised the price of a standard loaf, and economists expect "
        "bread to remain one of the fastest-rising items in the consumer price index until the next harvest.",
        "Farmers’ leaders said domestic growers had seen little benefit, because most of their grain had been "
        "sold under contracts agreed before prices began to climb.",
    )),
    (1, "Calder Freight drivers vote to strike over the job cuts", (
        "Drivers and warehouse staff at Calder Freight have voted to strike for three days next month in "
        "protest at the company’s plan to cut 400 jobs, their union said on Friday.",
        "The union said more than four in five members who took part in the ballot backed the walkout, which "
        "would hit deliveries in the busiest weeks before the spring holidays.",
        "Calder Freight said it regretted the decision and that the cuts were needed because parcel volumes "
        "had fallen for six quarters in a row. It said it would keep talking to the union about redundancy terms.",
        "Retailers that rely on the company warned customers that orders could arrive late, and some said they "
        "were moving part of their deliveries to other carriers for the strike days.",
        "The company’s shares fell slightly after the announcement. Analysts said a short strike would cost it "
        "less than the savings from the job cuts, but could push more customers to rival firms.",
    )),
)
