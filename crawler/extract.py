"""Turn a fetched page into an `Article`: clean body text, headline, authors, dates and page metadata,
and decide whether the page is an article at all.

The only module of the project that imports trafilatura. Runs inside crawl worker processes, so it is
pure computation on the HTML it is given: no I/O, no network, no logging setup, and it never raises on
bad HTML (`extract_page` says "unparseable"; `extract_html` returns an empty article).

Precedence (chosen by measuring on the news-pages dev corpus): what the page states in JSON-LD, then
<meta> tags, then the on-page headline; trafilatura's metadata pass and htmldate only as a fallback
for pages that state too little (it is the slow part, so most pages skip it).
"""

from __future__ import annotations

import re
from collections import Counter
from copy import deepcopy
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import groupby, islice

import trafilatura
from cssselect import GenericTranslator, SelectorError
from lxml import etree
from parsel import Selector
from trafilatura.metadata import extract_metadata
from trafilatura.utils import load_html
from trafilatura.xpaths import BODY_XPATH

from crawler import boilerplate, script_text
from crawler import metadata as md
from crawler.interstitial import is_error_page, stand_in_reason
from crawler.records import Article, Page
from crawler.title import choose_title
from ingest import defaults

EXTRACTOR_VERSION = f"newsingest-extract/5 trafilatura/{trafilatura.__version__}"

# Comments are never article body (trafilatura's default includes them). favor_precision lost
# body F1 on the dev corpus baseline (94.96 vs 95.10) and the generic line filters below remove
# most of what it would, so the balanced mode stays.
_TRAFILATURA_OPTIONS = dict(
    include_comments=False,
    include_tables=True,
    favor_precision=False,
    favor_recall=False,
    with_metadata=False,
)
# Elements of a page read at most ([crawl] max_page_elements); the rest of the page is dropped.
MAX_ELEMENTS = defaults.CRAWL["max_page_elements"]
# Extracted text shorter than this sends the extractor looking for the article in the page's scripts.
_SCRIPT_TEXT_BELOW = 1000
_SHORT_ITEM = 80
_SPACES = re.compile(r"\s+")
# A date stated "in the future" by this much is a template/clock error, not a publication date.
_FUTURE_SLACK = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Extraction:
    article: Article | None  # None when the page is not an article
    reason: str | None  # why not: "index_page", "too_short", "no_text", "unparseable", "url_pattern"


def warm_up() -> None:
    """Pay trafilatura's/dateparser's one-off import and first-parse costs (~1 s) before real work."""
    page = (
        "<html><head><title>Warm up</title></head><body><article><h1>Warm up</h1>"
        "<p class='date'>Published 3 March 2021, 10:15</p>"
        + "<p>This paragraph only exists to warm up the extraction machinery in a worker.</p>" * 5
        + "</article></body></html>"
    )
    extract_html(page, "https://warm-up.invalid/2021/03/03/warm-up")
    # The language model loads at the first detection (~0.7 s), which the page above never reaches: that
    # would come out of the first real page's extract_timeout.
    _detect_language("This sentence only exists to load the language detector in a worker. " * 4, {})
    try:
        import dateparser

        dateparser.parse("3 März 2021 10:15")
    except Exception:  # dateparser is optional for htmldate; warming up must never fail a worker
        pass


# ----------------------------------------------------------------------------- public API


@dataclass(frozen=True, slots=True)
class Overrides:
    """A source's own extraction rules, for the sites a user cares about (config: body_selector,
    title_selector, drop_text). Selectors are CSS, or XPath when they start with "/" or "("."""

    body: str | None = None
    title: str | None = None
    drop: tuple[str, ...] = ()


NO_OVERRIDES = Overrides()


def compile_selector(selector: str) -> etree.XPath:
    """The selector as a compiled XPath; raises ValueError naming what is wrong with it."""
    try:
        if selector.lstrip().startswith(("/", "(")):
            return etree.XPath(selector)
        return etree.XPath(GenericTranslator().css_to_xpath(selector))
    except (etree.XPathError, SelectorError) as exc:
        raise ValueError(f"invalid selector {selector!r}: {exc}") from None


def extract_html(html: str, url: str | None = None, overrides: Overrides = NO_OVERRIDES,
                 max_elements: int = MAX_ELEMENTS) -> Article:
    """Extract without classification (for `newsingest extract FILE`). Never raises on garbage."""
    now = datetime.now(UTC)
    try:
        article, _signals = _extract(html, url, now, overrides, max_elements=max_elements)
    except Exception:  # garbage in: an empty article, the caller decides what to do with it
        article = None
    if article is None:
        article = Article(
            url=url or "", source="file", text="", fetched_at=now, http_status=0,
            extractor_version=EXTRACTOR_VERSION,
        )
    article.source, article.http_status = "file", 0
    return article


def extract_page(page: Page, *, min_article_chars: int = 400, article_pattern: str | None = None,
                 overrides: Overrides = NO_OVERRIDES, max_elements: int = MAX_ELEMENTS) -> Extraction:
    try:
        result = _extract(page.html, page.url, page.fetched_at, overrides, page.status, max_elements,
                          index_hint=page.index_reason is not None)
    except Exception:
        return Extraction(None, "unparseable")
    if result[0] is None:
        return Extraction(None, "unparseable")
    article, signals = result
    article.source, article.http_status = page.source, page.status
    if signals["stand_in"] is not None:
        return Extraction(None, signals["stand_in"])

    url_matches = bool(article_pattern and re.search(article_pattern, page.url))
    declared_article = signals["declared_article"]
    # The page's declared type and its link count are evidence, not a verdict: a page whose text is one
    # long coherent body is an article whatever its og:type says (templates stamp "website" on every page).
    one_body = signals["one_body"]
    if page.as_article:
        pass  # the user's word (`crawl --url --as-article`) beats every index verdict; a short text is still none
    elif page.index_reason is not None and not declared_article and not one_body:
        # Given by --url and marking itself as an index (crawler/discovery.py classify_page): keep what it says.
        return Extraction(None, "index_page")
    elif (signals["declared_index"] and not declared_article and not url_matches and not one_body
            and (signals["many_links"] or not _running_text(article.text))):
        # Declared a listing, and holds one neither as one body nor (on a small page) as running text.
        return Extraction(None, "index_page")
    if article_pattern and not url_matches and not declared_article:
        return Extraction(None, "url_pattern")
    if not article.text:
        return Extraction(None, "no_text")
    if len(article.text) < min_article_chars:
        return Extraction(None, "too_short")
    if not declared_article and not url_matches and signals["link_heavy"] and not one_body and not page.as_article:
        # Undeclared page whose extracted text is small next to its links, and not one body: a section front.
        return Extraction(None, "index_page")
    return Extraction(article, None)


# ----------------------------------------------------------------------------- internals


def _extract(html: str, url: str | None, fetched_at: datetime,
             overrides: Overrides = NO_OVERRIDES, status: int = 200,
             max_elements: int = MAX_ELEMENTS, index_hint: bool = False) -> tuple[Article | None, dict]:
    if not html or not html.strip():
        return None, {}
    tree = load_html(html)
    if tree is None:
        return None, {}
    _cut(tree, max_elements)
    pm = md.read_page(tree)
    node = pm.jsonld_article
    sources: dict[str, str] = {}

    canonical = md.absolute(pm.canonical, url) or md.absolute(pm.first("og:url"), url)
    if canonical:
        sources["canonical_url"] = "link" if pm.canonical else "meta"
    base = url or canonical

    site_name = pm.first("og:site_name", "application-name") or md.jsonld_text(node, "publisher")
    site_keys = {md.norm_key(s) for s in (site_name, md.jsonld_text(node, "publisher")) if s}

    title = _override_title(tree, overrides, sources) or choose_title(pm, node, site_keys, sources)
    stated_body = node.get("articleBody") if node else None
    description = md.jsonld_text(node, "description") or pm.first("og:description", "description",
                                                                   "twitter:description")
    body_tree = _override_body(tree, overrides, sources)
    if body_tree is not None:
        text = _body(body_tree, base, title, None, description, sources, checked=False)
        sources["text"] = "override"
    else:
        text = _body(tree, base, title, stated_body if isinstance(stated_body, str) else None, description, sources)
    if overrides.drop:
        text = "\n\n".join(p for p in text.split("\n\n") if not any(d in p for d in overrides.drop))
    published, modified = _dates(pm, node, fetched_at, sources)
    authors, authors_org_only = _authors(pm, node, site_keys, sources)
    if not authors or authors_org_only:
        # Metadata names nobody, or only the publisher: a person byline shown on the page is better.
        found = _byline_authors(tree, site_keys, authors)
        if found:
            authors, authors_org_only = found, False
            sources["authors"] = "byline"

    fallback = None
    if published is None or not authors or title is None:
        # trafilatura's metadata pass (includes htmldate with its text heuristics) is the slow path:
        # only run it for pages that state too little themselves.
        fallback = extract_metadata(
            tree, url, {"original_date": True, "extensive_search": True,
                        "outputformat": "%Y-%m-%dT%H:%M:%S%z",
                        "max_date": fetched_at.strftime("%Y-%m-%d")}, True,
        )
        if published is None and fallback.date:
            parsed = md.parse_date(fallback.date)
            if parsed and parsed[0] <= fetched_at + _FUTURE_SLACK:
                published = parsed[0]
                sources["published_at"] = "htmldate"
        if not authors and fallback.author:
            found = md.clean_authors(md.split_authors(fallback.author.replace(";", ",")), site_keys)
            if found and not all(_is_site(n, site_keys) for n in found):
                authors = found
                sources["authors"] = "trafilatura"
        if title is None and fallback.title:
            title = md.strip_site_suffix(md.clean_ws(fallback.title), site_keys)
            sources["title"] = "trafilatura"

    language = _language(pm, node, sources) or _detect_language(text, sources)
    image = md.absolute(pm.first("og:image", "twitter:image") or md.jsonld_image(node, pm.jsonld_nodes), base)
    tags = _tags(pm, node)
    if site_name:
        sources["site_name"] = "meta" if pm.first("og:site_name", "application-name") else "json-ld"

    article = Article(
        url=url or canonical or "",
        source="file",
        text=text,
        fetched_at=fetched_at,
        http_status=0,
        extractor_version=EXTRACTOR_VERSION,
        canonical_url=canonical,
        title=title,
        authors=authors,
        published_at=published,
        modified_at=modified,
        language=language,
        description=description,
        site_name=site_name,
        image_url=image,
        tags=tags,
        field_sources=sources,
    )
    signals = _signals(pm, node, tree, text, status, index_hint)
    return article, signals


def _cut(tree, max_elements: int) -> None:
    """Drop every element after the first `max_elements`, in document order. trafilatura's time grows
    faster than the page (a 9.5 MB page of 300,000 short paragraphs took minutes); real article pages
    hold a few thousand elements, and their article comes before what a cut would drop."""
    for element in list(islice(tree.iter(), max_elements, None)):
        parent = element.getparent()
        if parent is not None:
            parent.remove(element)


def _override_title(tree, overrides: Overrides, sources: dict) -> str | None:
    if not overrides.title:
        return None
    for found in compile_selector(overrides.title)(tree):
        text = md.clean_ws(found if isinstance(found, str) else found.text_content())
        if text:
            sources["title"] = "override"
            return text
    return None


def _override_body(tree, overrides: Overrides, sources: dict):
    """A document holding only what the source's body selector matched, or None when it matched nothing
    (then the generic extraction runs, and field_sources shows it)."""
    if not overrides.body:
        return None
    matched = [el for el in compile_selector(overrides.body)(tree) if isinstance(el, etree._Element)]
    if not matched:
        sources["text_override"] = "no_match"
        return None
    doc = load_html("<html><body></body></html>")
    body = doc.find("body")
    for el in matched:
        body.append(deepcopy(el))
    return doc


def _body(tree, url: str | None, title: str | None, stated_body: str | None, description: str | None,
          sources: dict, checked: bool = True) -> str:
    # The page may show its headline in another wording than the chosen title (SEO or social headline).
    shown = [*_SOCIAL_TITLES(tree), *(h1.text_content() for h1 in tree.iter("h1"))]
    headlines = {md.norm_key(h) for h in [title, *shown] if h}
    pruned = _pruned(tree, title)
    paragraphs, own_text = _paragraphs(pruned, url, headlines)
    if sum(map(len, paragraphs)) < _SCRIPT_TEXT_BELOW:
        # Script-rendered pages show little or nothing until their hydration data is rendered.
        fragment = script_text.article_html(tree)
        if fragment:
            found, _ = _paragraphs(load_html(f"<html><body><article>{fragment}</article></body></html>"), url,
                                   headlines)
            if sum(map(len, found)) >= 2 * sum(map(len, paragraphs)) and _about(found, [title, description]):
                paragraphs = found
                sources["text"] = "script"
    stated = md.clean_ws(stated_body) if stated_body else ""
    if paragraphs and len(stated) >= 0.6 * sum(map(len, paragraphs)):
        # The publisher states the full body in JSON-LD: what trafilatura took beyond it (teasers,
        # captions, neighbouring stories) is not article text. Short lines (sub-headlines) stay.
        stated_words = set(_words(stated))
        # The standfirst is usually left out of articleBody but belongs to the article.
        lead_words = set(_words(description or "")) | set(_words(paragraphs[0]))
        kept = [p for p in paragraphs if len(p) < 80 or _share_in(_words(p), stated_words) >= 0.8
                or _share_in(_words(p), lead_words) >= 0.8]
        if sum(map(len, kept)) >= 0.5 * sum(map(len, paragraphs)):
            if len(kept) < len(paragraphs):
                sources["text"] = "trafilatura+json-ld"
            paragraphs = kept
    if not paragraphs and len(stated) >= 200:
        # Script-rendered pages: the JSON-LD body is the only text there is.
        sources["text"] = "json-ld"
        return "\n\n".join(md.clean_ws(p) for p in re.split(r"\n\s*\n|\r?\n", stated_body) if md.clean_ws(p))
    if checked and sources.get("text") not in ("script", "json-ld"):
        # What trafilatura alone makes of the whole page; the same text when nothing was pruned.
        reference = own_text if pruned is tree else _trafilatura_text(tree, url)
        if _lost_the_article(paragraphs, reference):
            paragraphs = _plain_paragraphs(reference, headlines)
            sources["text"] = "trafilatura_fallback"
    if paragraphs:
        sources.setdefault("text", "trafilatura")
    return "\n\n".join(paragraphs)


# A script's article must share this much of the words of the page's headline and description: hydration
# data also carries other stories (teasers, the next article), and a longer text alone proves nothing.
_MIN_ABOUT = 0.4
_MIN_WORD = 4


def _about(paragraphs: list[str], labels: list[str | None]) -> bool:
    """Whether the text is about what the page's headline and description say (True when they say nothing)."""
    label_words = {w for w in _tokens(" ".join(filter(None, labels))) if len(w) >= _MIN_WORD or not w.isascii()}
    if not label_words:
        return True
    text_words = set(_tokens("\n".join(paragraphs)))
    return len(label_words & text_words) >= _MIN_ABOUT * len(label_words)


# The safety net: our post-processing must keep at least this share of the tokens trafilatura alone
# extracts from the page. Below it, our rules picked the wrong block (a related-headlines list instead of
# the column) and trafilatura's own text is stored. Legitimate pruning (a second story appended to the
# page) kept 30 % and more on the dev corpus; more than trafilatura's text (a body split into parts,
# read whole) is never a loss.
_MIN_KEPT = 0.2
# Below this many tokens in trafilatura's text there is nothing to compare with.
_MIN_REFERENCE_TOKENS = 150


def _lost_the_article(paragraphs: list[str], reference: str) -> bool:
    ref = _tokens(reference)
    if len(ref) < _MIN_REFERENCE_TOKENS:
        return False
    ours = _tokens("\n".join(paragraphs))
    shared = sum((Counter(ours) & Counter(ref)).values())
    return shared < _MIN_KEPT * len(ref)


def _trafilatura_text(tree, url: str | None) -> str:
    doc = trafilatura.bare_extraction(tree, url=url, **_TRAFILATURA_OPTIONS)
    return doc.text if doc is not None and doc.text else ""


def _plain_paragraphs(text: str, headlines: set[str]) -> list[str]:
    """trafilatura's lines with only the line-level chrome filters applied."""
    lines = [md.clean_ws(line) for line in text.split("\n")]
    lines = [line for line in lines if line and not boilerplate.is_boilerplate(line)]
    if lines and md.norm_key(lines[0]) in headlines:
        lines = lines[1:]
    return lines


# Scripts written without spaces between words count one token per character, as the corpus scorer does.
_CJK = "\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_TOKEN = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+")


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.casefold())


def _paragraphs(tree, url: str | None, headlines: set[str]) -> tuple[list[str], str]:
    """The body paragraphs trafilatura finds in `tree` after the line filters, and its raw text."""
    doc = trafilatura.bare_extraction(tree, url=url, **_TRAFILATURA_OPTIONS)
    if doc is None or not doc.text:
        return [], ""
    # trafilatura writes list items as "- item", and so do dialogue paragraphs in some languages.
    items = {_SPACES.sub("", "".join(item.itertext())) for item in doc.body.iter("item")}
    lines: list[tuple[str, bool]] = []
    for line in doc.text.split("\n"):
        line = md.clean_ws(line)
        if not line or boilerplate.is_boilerplate(line):
            continue
        if not lines and md.norm_key(line) in headlines:
            continue  # the headline repeated as the first line of the body
        lines.append((line, line.startswith("- ") and _SPACES.sub("", line[2:]) in items))
    paragraphs: list[str] = []
    linked: set[str] | None = None
    runs = [(is_item, [line for line, _ in group]) for is_item, group in groupby(lines, key=lambda line: line[1])]
    for i, (is_item, run) in enumerate(runs):
        if is_item and all(len(line) < _SHORT_ITEM for line in run):
            if linked is None:
                linked = _link_items(tree)
            if _furniture_list(run, linked, at_edge=i == 0 or i == len(runs) - 1):
                continue
        paragraphs.extend(run)
    return paragraphs, doc.text


def _furniture_list(run: list[str], linked: set[str], at_edge: bool) -> bool:
    """Whether a list of short items is page furniture rather than the article's own list."""
    if 2 * sum(_SPACES.sub("", line[2:]) in linked for line in run) > len(run):
        return True  # short links: related stories, sections, tags
    # Short plain items before or after all the text are furniture too (reading time, app promotions);
    # between paragraphs they are the article's own list (specifications, steps, offers).
    return at_edge


def _link_items(tree) -> set[str]:
    """The text (without spaces) of every list item of the page that is mostly link text."""
    found = set()
    for li in tree.iter("li"):
        text = _SPACES.sub("", li.text_content())
        if text and 2 * sum(len(_SPACES.sub("", a.text_content())) for a in li.iter("a")) >= len(text):
            found.add(text)
    return found


def _paragraph_chars(el) -> int:
    return sum(len(p.text_content()) for p in el.iter("p"))


def _highest_ancestor_without(el, shared: set):
    """`el`'s highest ancestor (or `el` itself) that is not in `shared`."""
    block = el
    for parent in el.iterancestors():
        if parent in shared:
            break
        block = parent
    return block


_SOCIAL_TITLES = etree.XPath("//meta[@property='og:title' or @name='twitter:title']/@content")


# Embedded social-media posts (the publishers' embed snippets keep these classes). A post the article
# quotes is part of what it says: its text stays, as a quote; only the embed's own furniture goes.
_SOCIAL_EMBEDS = etree.XPath(
    "//blockquote[contains(@class, 'twitter-tweet') or contains(@class, 'instagram-media')"
    " or contains(@class, 'tiktok-embed') or contains(@class, 'bluesky-embed')"
    " or contains(@class, 'reddit-embed') or contains(@class, 'text-post-media')]"
)
_EMBED_CHROME = re.compile(
    r"^(?:♬|view (?:this|more) (?:post|on) |a post shared by |watch on |see (?:this|more) on |"
    r"view on (?:instagram|threads|tiktok|bluesky|reddit)|open in app)", re.IGNORECASE)


def _embed_chrome(tree) -> list:
    """Links and labels inside embedded social posts that belong to the embed, not to the post."""
    found = []
    for embed in _SOCIAL_EMBEDS(tree):
        for el in embed.iter("a", "div", "span", "p"):
            if _EMBED_CHROME.match(md.clean_ws(el.text_content())) and not any(f in found for f in el.iterancestors()):
                found.append(el)
    return found


def _pruned(tree, title: str | None):
    """The tree without what is on the page but not part of this article (other stories, the furniture
    of embedded social posts), and with a body split into several containers put back together. Returns
    the tree itself when there is nothing to change, else a changed copy (the caller's tree is still read
    for metadata afterwards)."""
    blocks = _other_stories(tree, title) + _embed_chrome(tree)
    chunks = _body_chunks(tree)
    if not blocks and not chunks:
        return tree
    root = tree.getroottree()
    block_paths = [root.getpath(b) for b in blocks]
    chunk_paths = [root.getpath(c) for c in chunks]
    pruned = deepcopy(tree)
    # Resolve every path before changing the copy: a removal renumbers the siblings after it.
    found_blocks = [found[0] for found in map(pruned.xpath, block_paths) if found]
    found_chunks = [found[0] for found in map(pruned.xpath, chunk_paths) if found]
    for block in found_blocks:
        if block.getparent() is not None:
            _drop_keeping_tail(block)
    # A part inside a dropped block (another story) went with it and stays out.
    found_chunks = [c for c in found_chunks if pruned in c.iterancestors()]
    if len(found_chunks) > 1:
        first = found_chunks[0]
        for chunk in found_chunks[1:]:
            chunk.tail = None
            first.append(chunk)
    return pruned


def _drop_keeping_tail(el) -> None:
    """Remove `el` but not the text that follows it inside its parent (lxml keeps that on the element)."""
    parent, tail = el.getparent(), el.tail
    if tail:
        previous = el.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


def _body_chunks(tree) -> list:
    """The containers of an article body that the page splits into several parts with the same class
    (ad slots or paywall markers between the parts), first one first. trafilatura reads only the first
    container it finds, so the other parts are moved into it. Empty when the body is in one piece."""
    first = next((found[0] for expr in BODY_XPATH if (found := expr(tree))), None)
    if first is None or not first.get("class"):
        return []
    lineage = set(first.iterancestors())
    chunks = [el for el in tree.iter(first.tag) if el is not first and el.get("class") == first.get("class")
              and el not in lineage and first not in el.iterancestors() and _paragraph_chars(el) >= 200]
    return [first, *chunks] if chunks else []


def _other_stories(tree, title: str | None) -> list:
    """Blocks that hold another story: pages that append the next article (infinite scroll) or show a
    second full story under its own <h1>. Such a block is the largest ancestor of the other <h1> that
    does not contain the headline's <h1>. Only when the headline's own block has body paragraphs itself,
    so a layout with the headline in a header and the text elsewhere is left alone."""
    h1s = list(tree.iter("h1"))
    if len(h1s) < 2 or not title:
        return []
    key = md.norm_key(title)
    main = next((h for h in h1s if md.norm_key(h.text_content()) == key), None)
    if main is None:
        main = next((h for h in h1s if key and key in md.norm_key(h.text_content())), None)
    if main is None:
        return []
    main_ancestors = set(main.iterancestors())
    blocks = []
    for other in h1s:
        other_ancestors = set(other.iterancestors())
        if other is main or any(b is other or b in other_ancestors for b in blocks):
            continue  # already inside a block that goes
        block = _highest_ancestor_without(other, main_ancestors)
        own = _highest_ancestor_without(main, other_ancestors)
        if _paragraph_chars(own) >= 300 and _paragraph_chars(block) >= 300:
            blocks.append(block)
    return blocks


_WORD = re.compile(r"\w+")


def _words(text: str) -> list[str]:
    return _WORD.findall(md.norm_key(text))


def _share_in(words: list[str], vocabulary: set[str]) -> float:
    return sum(w in vocabulary for w in words) / len(words) if words else 1.0


def _dates(pm: md.PageMeta, node: dict | None, fetched_at: datetime, sources: dict):
    limit = fetched_at + _FUTURE_SLACK

    def pick(options: list[tuple[object, str]], field: str):
        valid = []
        for value, how in options:
            parsed = md.parse_date(value)
            if parsed is not None and parsed[0] <= limit:  # a date after the fetch is a template error
                valid.append((parsed, how))
        if not valid:
            return None
        (first, _), how = valid[0]
        # A bare date stated first, and the same day with a time stated elsewhere: keep the time.
        timed = [(p, h) for p, h in valid if p[1] and p[0].date() == first.date()]
        if not valid[0][0][1] and timed:
            (first, _), how = timed[0]
        sources[field] = how
        return first

    pub_options: list[tuple[object, str]] = []
    mod_options: list[tuple[object, str]] = []
    if node:
        pub_options.append((node.get("datePublished"), "json-ld"))
        pub_options.append((node.get("dateCreated"), "json-ld"))
        mod_options.append((node.get("dateModified"), "json-ld"))
    for key in ("article:published_time", "og:article:published_time", "datepublished", "date",
                "pubdate", "publishdate", "publish-date", "published_time", "dc.date.issued", "dc.date",
                "dcterms.date", "sailthru.date", "parsely-pub-date", "article.published", "og:published_time"):
        for value in pm.meta.get(key, ()):
            pub_options.append((value, "meta"))
    for key in ("article:modified_time", "og:updated_time", "datemodified", "last-modified", "dc.date.modified"):
        for value in pm.meta.get(key, ()):
            mod_options.append((value, "meta"))
    published = pick(pub_options, "published_at")
    modified = pick(mod_options, "modified_at")
    return published, modified


def _authors(pm: md.PageMeta, node: dict | None, site_keys: set[str], sources: dict) -> tuple[list[str], bool]:
    """Authors the page states, and whether they are only the publishing organisation (then a person
    byline found elsewhere is better)."""
    org_only: list[str] = []
    if node:
        names, all_orgs = md.jsonld_author_names(node, pm.jsonld_nodes)
        names = md.clean_authors(names, set())
        if names and not all_orgs and not all(_is_site(n, site_keys) for n in names):
            sources["authors"] = "json-ld"
            return names, False
        if names:
            org_only = names
    names = []
    for key in ("author", "article:author", "dc.creator", "parsely-author", "sailthru.author", "byl"):
        raw = [name for value in pm.all(key) for name in md.split_authors(value)]
        names = md.clean_authors(raw, set())
        if names:
            break  # keys often repeat one byline in different spellings; take the first that has one
    if names and not all(_is_site(n, site_keys) for n in names):
        sources["authors"] = "meta"
        # "Example News, Jane Doe": the publisher listed next to a person is not a second author.
        return [n for n in names if not _is_site(n, site_keys)], False
    if org_only or names:
        sources["authors"] = "json-ld" if org_only else "meta"
        return org_only or names, True
    return [], False


def _byline_authors(tree, site_keys: set[str], org_names: list[str]) -> list[str]:
    orgs = {n.casefold() for n in org_names}
    for text in md.byline_texts(tree):
        names = md.clean_authors(md.split_authors(text), site_keys)
        if orgs & {n.casefold() for n in names}:
            return []  # the page's own byline names the organisation too: later matches are other stories
        # "Jane Doe, Example News": the publisher named next to the person is not a second author.
        people = [n for n in names if not _is_site(n, site_keys)]
        if people and md.looks_like_person_names(people):
            return people
    return []


def _is_site(name: str, site_keys: set[str]) -> bool:
    """The publisher itself: its known name, or a bare domain ("example.com") standing in for one."""
    key = md.norm_key(name)
    if re.fullmatch(r"[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}", key):
        return True
    return any(key and (key in s or s in key) for s in site_keys)


def _language(pm: md.PageMeta, node: dict | None, sources: dict) -> str | None:
    for value, how in ((pm.html_lang, "html"), (md.jsonld_text(node, "inLanguage"), "json-ld"),
                       (pm.first("og:locale", "content-language", "language"), "meta")):
        if value:
            code = re.split(r"[-_]", value.strip().lower(), maxsplit=1)[0]
            if code.isalpha() and 2 <= len(code) <= 3:
                sources["language"] = how
                return code
    return None


# Below this much text a detector's guess is worse than no answer.
_MIN_DETECT_CHARS = 200


def _detect_language(text: str, sources: dict) -> str | None:
    """The body's language when the page declares none (py3langid: 97 languages, one process-wide model)."""
    if len(text) < _MIN_DETECT_CHARS:
        return None
    import py3langid  # its model loads on first use (~0.7 s); warm_up() pays that in workers

    code, _score = py3langid.classify(text[:3000])
    sources["language"] = "detected"
    return code


def _tags(pm: md.PageMeta, node: dict | None) -> list[str]:
    tags = pm.all("article:tag") or md.jsonld_list(node, "keywords")
    if not tags:
        for key in ("news_keywords", "keywords"):
            value = pm.first(key)
            if value:
                tags = [md.clean_ws(t) for t in value.split(",") if md.clean_ws(t)]
                break
    seen: set[str] = set()
    return [t for t in tags if not (t.casefold() in seen or seen.add(t.casefold()))]


def _signals(pm: md.PageMeta, node: dict | None, tree, text: str, status: int, index_hint: bool = False) -> dict:
    og_type = (pm.first("og:type") or "").lower()
    declared_article = node is not None or og_type == "article" or og_type.startswith("article")
    declared_index = og_type == "website" or bool(pm.jsonld_types & md.INDEX_TYPES)
    links = sum(1 for a in tree.iter("a") if a.get("href"))
    # An article page rarely has fewer than ~40 characters of body per link on the page.
    link_heavy = links >= 30 and len(text) < 40 * links
    return {
        "declared_article": declared_article,
        "declared_index": declared_index,
        "many_links": links >= 30,
        "link_heavy": link_heavy,
        # Only asked where it can change the verdict (see extract_page).
        "one_body": not declared_article and (declared_index or link_heavy or index_hint)
        and is_one_body(text, tree),
        # Checked here too, on the tree parsed anyway: a crawl that needs no tree of its own for a page
        # (an article URL from a feed, no links followed) hands it over unchecked.
        "stand_in": stand_in_reason(Selector(root=tree), status) or (
            "error_page" if is_error_page(Selector(root=tree), text) else None),
    }


# ----------------------------------------------------------------------------- article by content

# Han, kana and Hangul: one such character carries about as much as three Latin ones, and a sentence
# ends without a following space ("。").
_CJK_CHAR = re.compile(f"[{_CJK}]")  # one script range list for tokens and character weights
_SENTENCE_END = re.compile(r"[.!?…:;][\"'”’»)\]]*(?=\s|$)|[。！？]")
# A body paragraph: at least this much text (Latin-equivalent characters, see _weight) with a sentence end.
_BODY_PARAGRAPH = 150
# One body: at least this much text in body paragraphs (a short news story is about 1,000 characters)...
_BODY_MIN = 1000
# ...making up at least this share of the text (a section front's extract is mostly headlines and blurbs)...
_BODY_SHARE = 0.6
# ...and not one headline-like line (short, no sentence end) per body paragraph: a subheading every few
# paragraphs is an article; a headline above every paragraph is a list of teasers.
_HEADING = 120
_HEADINGS_PER_PARAGRAPH = 0.8
# ...and most of its paragraphs not teasers: a paragraph whose container holds at least as many links
# (outside paragraphs) as paragraphs is a teaser card's blurb, or one of a list's blurbs under linked
# headlines, which trafilatura often drops from the text.
_TEASER_SHARE = 0.5


def is_one_body(text: str, tree=None) -> bool:
    """Whether extracted text reads as one long body (an article) rather than a sequence of teasers (a
    homepage, a section front or a tag page as trafilatura extracts them): enough text in sentence-like
    paragraphs, most of the text, few headlines between them, and (given the page's tree) most of those
    paragraphs not sitting in teaser cards. So the page's declared type and its link count are weighed
    against what it holds, not taken as a verdict.

    Vocabulary coherence between paragraphs (content words shared with the other paragraphs, or with the
    next one; the reach of the most widespread words) was measured too and left out: on the news-pages
    corpus real articles scored as low as a list of unrelated blurbs.
    """
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    weights = [_weight(line) for line in lines]
    body = [w for line, w in zip(lines, weights, strict=True) if w >= _BODY_PARAGRAPH and _SENTENCE_END.search(line)]
    if sum(body) < _BODY_MIN or sum(body) < _BODY_SHARE * sum(weights):
        return False
    headings = sum(1 for line, w in zip(lines, weights, strict=True) if w < _HEADING and not _ends_sentence(line))
    if headings > _HEADINGS_PER_PARAGRAPH * len(body):
        return False
    return tree is None or _teaser_share(tree, text) < _TEASER_SHARE


def _teaser_share(tree, text: str) -> float:
    """Share of the text's paragraphs and list items (by weight) that the page shows as teasers: in a
    container holding at least as many links (outside paragraphs) as paragraphs (a teaser card, or blurbs
    under linked headlines, which trafilatura often leaves out of the text), or opening with a link (a
    headline and its blurb in one paragraph or list item)."""
    flat = _SPACES.sub(" ", text)
    total = teasers = 0
    containers: dict = {}
    for paragraph in tree.iter("p", "li"):
        shown = _SPACES.sub(" ", paragraph.text_content()).strip()
        weight = _weight(shown)
        if weight < _BODY_PARAGRAPH or shown not in flat:
            continue
        container = paragraph.getparent()
        if container is None:
            continue
        if container not in containers:
            paragraphs = sum(1 for _ in container.iter("p", "li"))
            links = sum(1 for a in container.iter("a") if a.get("href") and not _in_paragraph(a, container))
            containers[container] = links >= paragraphs
        total += weight
        if containers[container] or _opens_with_link(paragraph, shown):
            teasers += weight
    return teasers / total if total else 0.0


def _opens_with_link(paragraph, shown: str) -> bool:
    link = next((a for a in paragraph.iter("a") if a.get("href")), None)
    if link is None:
        return False
    label = _SPACES.sub(" ", link.text_content()).strip()
    return bool(label) and shown.startswith(label)


def _in_paragraph(element, container) -> bool:
    for ancestor in element.iterancestors():
        if ancestor is container:
            return False
        if ancestor.tag in ("p", "li"):
            return True
    return False


def _running_text(text: str) -> bool:
    """Whether the text is mostly lines that end a sentence, not one headline-like line per such line:
    running text, not a small listing (headline, blurb, headline, blurb) in the page's furniture."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    weights = [_weight(line) for line in lines]
    sentences = [w for line, w in zip(lines, weights, strict=True) if _ends_sentence(line)]
    headings = sum(1 for line, w in zip(lines, weights, strict=True) if w < _HEADING and not _ends_sentence(line))
    return 2 * sum(sentences) >= sum(weights) and headings <= _HEADINGS_PER_PARAGRAPH * len(sentences)


def _weight(text: str) -> int:
    return len(text) + 2 * len(_CJK_CHAR.findall(text))


def _ends_sentence(line: str) -> bool:
    return bool(_ENDS_SENTENCE.search(line))


# A line cut off with an ellipsis is a teaser's blurb, not the end of a sentence.
_ENDS_SENTENCE = re.compile(r"(?<![.…])[.!?:;。！？][\"'”’»)\]]*\s*$")
