"""Pages of a regional news site whose templates call every page og:type=website ("The Valley Courier").

Article pages carry the full theme: a header with 40+ navigation links, a related-stories list, a
footer with dozens of links, and only a page-level type (og:type=website, or JSON-LD WebPage/WebSite
with no article type, or nothing at all). Index pages (homepage, section fronts, a tag page) list
teasers, each a headline and a one- or two-sentence blurb, in the same chrome. Used by the article
detection tests, both as strings (extract_page) and served by a `NewsSite` (`serve`).

Stdlib only; offsite links point at the reserved `.invalid` TLD.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass

SITE_NAME = "The Valley Courier"
SECTIONS = ("local", "politics", "business", "science", "culture", "sport", "weather", "opinion")
TOPICS = ("transport", "housing", "schools", "health", "environment", "elections", "budget", "crime", "courts",
          "farming", "tourism", "jobs", "energy", "history", "festivals", "football", "handball", "cycling",
          "hiking", "restaurants", "obituaries", "letters", "puzzles", "traffic", "events", "photos", "video",
          "podcasts", "newsletters", "archive")
FOOTER_PAGES = ("about-us", "contact", "advertise", "careers", "privacy", "cookies", "terms", "imprint",
                "accessibility", "corrections", "editorial-guidelines", "rss", "newsletter", "apps", "archive",
                "e-paper", "shop", "events", "classifieds", "jobs-board", "obituaries", "help", "subscribe",
                "login", "search")


@dataclass(frozen=True)
class Story:
    section: str
    slug: str
    headline: str
    paragraphs: tuple[str, ...]
    declares: str = "og_website"  # "og_website", "jsonld_webpage" or "nothing"

    @property
    def path(self) -> str:
        # No date in the path: a dated slug is already an article by URL; these sites give none.
        return f"/{self.section}/{self.slug}"

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)

    @property
    def blurb(self) -> str:
        return self.paragraphs[0].split(". ")[0].rstrip(".") + "."


STORIES: tuple[Story, ...] = (
    Story("local", "tram-line-extension-approved", "Council approves tram extension to the northern estates", (
        "The city council voted on Thursday evening to extend the tram line from the central station to the"
        " northern housing estates, ending a debate that has divided the valley for almost a decade.",
        "The extension will add four kilometres of track and six new stops, including one at the district"
        " hospital and one beside the secondary school on Miller Road. Construction is due to begin next spring"
        " and the first trams are expected to run on the new section in the autumn of the following year.",
        "Supporters of the plan say the northern estates have been cut off from the rest of the city for too"
        " long. Residents there currently rely on a bus service that takes up to forty minutes to reach the"
        " centre at peak times, and many households do not own a car.",
        "Opponents on the council argued that the tram extension is too expensive and that the money would be"
        " better spent on more frequent buses. The project is estimated to cost 86 million euros, of which the"
        " regional government has promised to pay a little more than half.",
        "The deputy mayor responsible for transport said the council had studied every alternative before"
        " deciding. A faster bus route would have needed dedicated lanes through streets that are too narrow,"
        " she said, while the tram can use the old railway embankment that runs along the river.",
        "Shopkeepers on Miller Road welcomed the decision but asked the council to keep the street open to"
        " deliveries while the track is laid. The council said work on the road would be done in short sections"
        " so that no shop is cut off for more than three weeks.",
        "A public meeting about the construction schedule will be held at the northern community centre next"
        " month, where residents can see the final design of the stops and ask the engineers about noise.",
    )),
    Story("science", "river-otters-return", "Otters are back in the upper valley after forty years", (
        "Otters have returned to the upper reaches of the valley river for the first time in four decades,"
        " according to a survey published on Monday by the regional wildlife trust.",
        "Volunteers found otter droppings and footprints at eleven of the twenty sites they checked along the"
        " river last winter, and a camera trap near the old mill filmed a female with two cubs in February.",
        "The animals disappeared from the area in the nineteen-eighties, when the river was polluted by"
        " run-off from farms and by waste water from the paper factory that has since closed. Fish stocks"
        " collapsed, and the otters that depended on them moved away or died.",
        "The trust says the return of the otters shows how much the water quality has improved since new"
        " treatment works were built and farmers were paid to plant strips of grass and trees along the banks."
        " Trout and crayfish have come back too, giving the otters enough to eat.",
        "Scientists at the valley university will now fit some of the animals with small tracking collars to"
        " learn how far they travel along the river and whether they are moving into the side streams.",
        "The wildlife trust asked walkers to keep dogs on a lead near the river banks during the spring, when"
        " the cubs are young, and to report any otter they see through the survey's website.",
    ), declares="jsonld_webpage"),
    Story("business", "bakery-chain-new-owners", "Family bakery chain sold to its own employees", (
        "The owners of Hartmann's, the bakery chain with thirty-two shops across the valley, have sold the"
        " business to its employees, the company announced on Wednesday.",
        "The founder's grandson, who has run the chain for twenty years, said he had no children who wanted to"
        " take over and did not want to sell to a large competitor that might close the smaller shops. The"
        " employees will own the bakery through a trust, which will hold all of the shares.",
        "The four hundred staff will not have to pay for their shares. Instead, the trust borrowed the purchase"
        " price from two regional banks and will repay the loans out of the bakery's profits over the next"
        " twelve years. Part of each year's profit will also be paid to the staff as a bonus.",
        "Employee ownership trusts have become more common in recent years as owners of family firms retire."
        " Supporters say the model keeps companies independent and rooted in their towns, while critics warn"
        " that the debt taken on to buy the shares can leave a business with little room for investment.",
        "The bakery's managing director, who will stay in her post, said the chain would keep all of its shops"
        " open and would continue to buy its flour from the mill in the upper valley. The bakery's staff council"
        " said its members had voted unanimously in favour of the plan.",
    ), declares="nothing"),
    Story("culture", "museum-reopens-after-restoration", "Town museum reopens after three years of restoration", (
        "The valley museum reopened its doors on Saturday after three years of restoration work that saved the"
        " nineteenth-century building from collapse and doubled the space for its collections.",
        "Engineers discovered in the spring of the first year that the wooden beams holding up the roof had"
        " been eaten away by beetles and damp. The roof was taken down piece by piece, the beams were replaced"
        " with oak from the valley's own forests, and the original slates were put back.",
        "The restoration also turned the former coach house behind the museum into a gallery for temporary"
        " exhibitions. The first one tells the story of the textile mills that once employed half of the"
        " valley's workers, with looms, photographs and letters lent by the families of former mill workers.",
        "The museum's director said the project had cost more than planned because of the state of the roof,"
        " but that the town council and a national heritage fund had covered the difference. Entry to the"
        " permanent collection will remain free for residents of the valley.",
        "More than two thousand visitors came on the opening weekend, many of them children who took part in"
        " workshops on weaving and dyeing. The museum will be open every day except Monday, and in the summer"
        " it will stay open until eight on Thursday evenings.",
        "The director said the next project would be to put the museum's collection of old maps online, so that"
        " families researching their history can see where their ancestors lived and worked.",
    )),
    Story("sport", "stadium-financing-plan", "Football club unveils plan to pay for its new stadium", (
        "Valley United presented a plan on Tuesday to pay for a new stadium without money from the town,"
        " after the council refused last year to guarantee a loan for the project.",
        "The club wants to build a stadium for twelve thousand spectators on the site of the old freight yard,"
        " next to the railway station. The present ground, which the club has used since it was founded, holds"
        " only five thousand people and no longer meets the league's safety rules.",
        "Under the new plan the club will sell part of the freight yard site to a housing association, which will"
        " build three hundred flats there. Supporters will also be able to buy shares in a new stadium company,"
        " and a regional energy firm will pay to have its name on the ground for fifteen years.",
        "The club's chairman said the plan would cover the full cost of the stadium, estimated at forty-five"
        " million euros, and leave the club free of debt. He said the club had learned from other clubs that"
        " borrowed heavily to build grounds and then struggled to pay back the money when they were relegated.",
        "Residents of the streets around the freight yard have raised concerns about traffic and noise on match"
        " days. The club said it would pay for a new footbridge over the railway so that fans arriving by train"
        " would not have to walk through the housing estate, and that no concerts would be held at the stadium.",
        "The council's planning committee is expected to consider the application in the autumn. If it is"
        " approved, the club hopes to play its first match in the new stadium within three years.",
    )),
)

# Teasers for the index pages: the stories above and others the pages only list.
OTHER_TEASERS: tuple[tuple[str, str, str], ...] = (
    ("local", "Night buses to run every half hour at weekends", "The transport authority will add night buses on"
     " Friday and Saturday nights from next month."),
    ("local", "Library extends opening hours during exam season", "Students can use the reading room until"
     " midnight from May until the end of June."),
    ("politics", "Regional budget passes after late-night session", "The assembly approved the spending plan by"
     " two votes. Opposition members walked out before the final count."),
    ("politics", "Mayor rules out running for a third term", "She told supporters she would leave office when her"
     " term ends next year."),
    ("business", "Paper mill site bought by logistics firm", "The company plans a warehouse that could bring two"
     " hundred jobs to the lower valley."),
    ("business", "Valley farmers form cooperative to sell milk", "Thirty dairy farms will share a processing plant"
     " and sell under one brand."),
    ("science", "University wins grant for flood forecasting", "Researchers will use river sensors to warn towns"
     " earlier about rising water."),
    ("science", "Rare orchid found on limestone meadow", "Botanists recorded the plant in the valley for the first"
     " time since the war."),
    ("culture", "Jazz festival announces opening act", "A quartet from the capital will play the first night on"
     " the market square."),
    ("culture", "Theatre company cancels winter tour", "Rising costs made the tour impossible, the director said."
     " Local performances will go ahead."),
    ("sport", "Cycling race to finish on the castle hill", "This year's stage will end with a steep climb through"
     " the old town."),
    ("sport", "Swimming pool closes for repairs", "The indoor pool will be shut for six weeks while the heating"
     " system is replaced."),
    ("weather", "Storm warning for the upper valley", "Gusts of up to ninety kilometres an hour are expected on"
     " Sunday afternoon."),
    ("weather", "Driest spring since records began", "Rainfall was less than half the average. Farmers fear for"
     " the harvest."),
    ("opinion", "Why the valley needs more affordable homes", "Young families are leaving because rents have"
     " doubled in ten years."),
    ("opinion", "Our schools deserve better buildings", "Too many pupils learn in classrooms that are cold in"
     " winter and hot in summer."),
    ("local", "Market square to become car-free on Sundays", "Traders and cafés welcomed the trial, which starts"
     " in June."),
    ("politics", "New police station planned for the east side", "The interior ministry confirmed funding for"
     " the building."),
    ("business", "Brewery celebrates two hundred years", "The family-owned brewery will open its cellars to"
     " visitors for the anniversary."),
    ("science", "School pupils build weather station", "Their measurements will be shared with the national"
     " weather service."),
    ("culture", "Choir wins national competition", "The valley choir beat forty others with a programme of"
     " folk songs."),
    ("sport", "Handball team signs Danish goalkeeper", "The club hopes the signing will help it avoid relegation"
     " this season."),
    ("local", "Bridge repairs to close river road for a week", "Drivers are advised to use the bypass while the"
     " railings are replaced."),
    ("weather", "First frost expected this weekend", "Gardeners should cover tender plants on Friday night."),
    ("opinion", "The tram decision was the right one", "After ten years of debate, the council finally listened to"
     " the northern estates."),
)


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _head(title: str, url: str, declares: str, description: str) -> str:
    meta = [f'<meta property="og:site_name" content="{_e(SITE_NAME)}">',
            f'<meta property="og:title" content="{_e(title)}">',
            f'<meta property="og:url" content="{_e(url)}">',
            f'<meta property="og:description" content="{_e(description)}">',
            f'<link rel="canonical" href="{_e(url)}">']
    if declares == "og_website":
        meta.append('<meta property="og:type" content="website">')
    elif declares == "jsonld_webpage":
        graph = {"@context": "https://schema.org", "@graph": [
            {"@type": "WebSite", "name": SITE_NAME, "url": url.split("/", 3)[0] + "//" + url.split("/")[2] + "/"},
            {"@type": "WebPage", "name": title, "url": url, "description": description},
            {"@type": "BreadcrumbList", "itemListElement": []},
        ]}
        meta.append(f'<script type="application/ld+json">{json.dumps(graph)}</script>')
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{_e(title)} | {SITE_NAME}</title>'
            + "".join(meta) + "</head>")


def _header() -> str:
    sections = "".join(f'<li><a href="/{s}">{s.title()}</a></li>' for s in SECTIONS)
    topics = "".join(f'<li><a href="/topic/{t}">{t.replace("-", " ").title()}</a></li>' for t in TOPICS)
    return (f'<body><a href="#main">Skip to content</a><header><a href="/">{SITE_NAME}</a>'
            f'<nav class="main-nav"><ul>{sections}</ul></nav><nav class="topics"><ul>{topics}</ul></nav>'
            '<a href="/subscribe">Subscribe</a><a href="/login">Log in</a><a href="/search">Search</a></header>')


def _footer() -> str:
    links = "".join(f'<li><a href="/{p}">{p.replace("-", " ").title()}</a></li>' for p in FOOTER_PAGES)
    social = "".join(f'<a href="https://{n}.invalid/valleycourier">{n.title()}</a>'
                     for n in ("facebook", "instagram", "youtube", "mastodon"))
    return (f'<footer><ul>{links}</ul><div class="social">{social}</div>'
            f'<p>© 2026 {SITE_NAME}. All rights reserved.</p></footer></body></html>')


def _teaser_list(teasers: list[tuple[str, str, str]]) -> str:
    return "".join(f'<div class="teaser"><h3><a href="{path}">{_e(headline)}</a></h3><p>{_e(blurb)}</p></div>'
                   for path, headline, blurb in teasers)


def all_teasers() -> list[tuple[str, str, str]]:
    """(path, headline, blurb) of every story the site lists, its own articles first."""
    teasers = [(s.path, s.headline, s.blurb) for s in STORIES]
    teasers += [(f"/{section}/{headline.lower().replace(' ', '-')}", headline, blurb)
                for section, headline, blurb in OTHER_TEASERS]
    return teasers


def article_page(story: Story, base_url: str) -> str:
    url = base_url + story.path
    related = [t for t in all_teasers() if t[0] != story.path][:8]
    related_list = "".join(f'<li><a href="{p}">{_e(h)}</a></li>' for p, h, _ in related)
    body = "".join(f"<p>{_e(p)}</p>" for p in story.paragraphs)
    return (_head(story.headline, url, story.declares, story.blurb) + _header()
            + f'<main id="main"><div class="breadcrumbs"><a href="/">Home</a> › <a href="/{story.section}">'
            f'{story.section.title()}</a></div><h1>{_e(story.headline)}</h1>'
            f'<div class="byline">By Anna Keller · 12 March 2026</div>'
            f'<div class="story-body">{body}</div>'
            f'<div class="share"><a href="https://share.invalid/?u={_e(url)}">Share</a></div>'
            f'<aside class="related"><h2>More from the valley</h2><ul>{related_list}</ul></aside></main>'
            + _footer())


def index_page(title: str, teasers: list[tuple[str, str, str]], base_url: str, path: str) -> str:
    return (_head(title, base_url + path, "og_website", f"News from the valley: {title}") + _header()
            + f'<main id="main"><h1>{_e(title)}</h1>{_teaser_list(teasers)}'
            + '<a href="?page=2">Next page</a></main>' + _footer())


def homepage(base_url: str) -> str:
    return index_page(f"{SITE_NAME}: news from the valley", all_teasers(), base_url, "/")


def section_page(section: str, base_url: str) -> str:
    teasers = [t for t in all_teasers() if t[0].startswith(f"/{section}/")]
    return index_page(section.title(), teasers, base_url, f"/{section}")


def tag_page(base_url: str, topic: str = "transport") -> str:
    words = {"transport": ("tram", "bus", "bridge", "road", "car")}.get(topic, (topic[:5],))
    teasers = [t for t in all_teasers() if any(w in (t[1] + t[2]).lower() for w in words)]
    return index_page(topic.replace("-", " ").title(), teasers, base_url, f"/topic/{topic}")


def service_page(path: str, base_url: str) -> str:
    """The footer's pages (about us, contact ...): a line of text each."""
    title = path.strip("/").replace("-", " ").title()
    return (_head(title, base_url + path, "og_website", title) + _header()
            + f'<main id="main"><h1>{_e(title)}</h1><p>{SITE_NAME} has served the valley since 1921.</p></main>'
            + _footer())


def brief_page(path: str, headline: str, blurb: str, base_url: str) -> str:
    """A story the site lists but has only a line on yet (a brief): not an article by its length."""
    return (_head(headline, base_url + path, "og_website", blurb) + _header()
            + f'<main id="main"><h1>{_e(headline)}</h1><p>{_e(blurb)}</p></main>' + _footer())


def serve(site) -> None:
    """Put the pages on a running `NewsSite` (its own generated pages stay behind them)."""
    base = site.base_url
    for path, headline, blurb in all_teasers()[len(STORIES):]:
        site.custom[path] = (200, brief_page(path, headline, blurb, base))
    site.custom["/"] = (200, homepage(base))
    for section in SECTIONS:
        site.custom[f"/{section}"] = (200, section_page(section, base))
    for topic in TOPICS:
        site.custom[f"/topic/{topic}"] = (200, tag_page(base, topic))
    for path in FOOTER_PAGES:
        site.custom[f"/{path}"] = (200, service_page(f"/{path}", base))
    for story in STORIES:
        site.custom[story.path] = (200, article_page(story, base))
