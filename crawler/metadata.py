"""Article metadata from what a page states about itself: JSON-LD, <meta> tags and the on-page headline.

Used by crawler/extract.py. Pure functions over an already parsed lxml tree: no I/O, no network,
no trafilatura (extract.py owns the trafilatura fallbacks).
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

from lxml import etree

# JSON-LD types that declare "this page is one article".
ARTICLE_TYPES = frozenset(
    {
        "article",
        "newsarticle",
        "reportagenewsarticle",
        "analysisnewsarticle",
        "opinionnewsarticle",
        "backgroundnewsarticle",
        "reviewnewsarticle",
        "askpublicnewsarticle",
        "satiricalarticle",
        "blogposting",
        "liveblogposting",
        "socialmediaposting",
        "scholarlyarticle",
        "techarticle",
        "report",
    }
)
# JSON-LD types that declare a listing / front page.
INDEX_TYPES = frozenset({"collectionpage", "website", "itemlist", "searchresultspage", "profilepage"})

_WS = re.compile(r"\s+")


def clean_ws(value: object) -> str:
    if value is None:
        return ""
    text = str(value)
    if "&" in text:  # JSON-LD and meta values are sometimes HTML-escaped twice by CMS templates
        text = html.unescape(text)
    text = unicodedata.normalize("NFC", text).replace("\u00ad", "").replace("\u200b", "")
    return _WS.sub(" ", text).strip()


@dataclass(slots=True)
class PageMeta:
    """Everything the page states about itself, before any choice between sources."""

    jsonld_article: dict | None = None  # the JSON-LD node of article type, if any
    jsonld_types: set[str] = field(default_factory=set)  # lowercased @type values seen
    jsonld_nodes: dict[str, dict] = field(default_factory=dict)  # @id -> node, to resolve references
    meta: dict[str, list[str]] = field(default_factory=dict)  # lowercased name/property -> contents
    canonical: str | None = None
    html_lang: str | None = None
    title_tag: str | None = None
    h1: list[str] = field(default_factory=list)

    def first(self, *keys: str) -> str | None:
        for key in keys:
            for value in self.meta.get(key, ()):
                value = clean_ws(value)
                if value:
                    return value
        return None

    def all(self, key: str) -> list[str]:
        return [clean_ws(v) for v in self.meta.get(key, ()) if clean_ws(v)]


# ----------------------------------------------------------------------------- reading the page


def _iter_jsonld(data):
    """Yield every dict node of a JSON-LD document (lists, @graph and nested values)."""
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(reversed(node))
        elif isinstance(node, dict):
            yield node
            graph = node.get("@graph")
            if graph is not None:
                stack.append(graph)
            main = node.get("mainEntity")
            if isinstance(main, (dict, list)):
                stack.append(main)


def _types(node: dict) -> set[str]:
    value = node.get("@type")
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return set()
    return {str(v).rsplit("/", 1)[-1].lower() for v in value}


def _load_json(text: str):
    text = text.strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        pass
    # Common breakage in the wild: raw newlines/tabs inside strings, trailing commas, HTML comments.
    repaired = re.sub(r"^\s*<!--|-->\s*$", "", text)
    repaired = re.sub(r"[\r\n\t]+", " ", repaired)
    repaired = re.sub(r",\s*([\]}])", r"\1", repaired)
    try:
        return json.loads(repaired)
    except ValueError:
        return None


def read_page(tree: etree._Element) -> PageMeta:
    pm = PageMeta()
    candidates: list[dict] = []
    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        data = _load_json(script.text or "")
        for node in _iter_jsonld(data):
            types = _types(node)
            pm.jsonld_types |= types
            if isinstance(node.get("@id"), str):
                pm.jsonld_nodes.setdefault(node["@id"], node)
            if types & ARTICLE_TYPES:
                candidates.append(node)
    if candidates:
        # Prefer the node that carries the most article fields (a page may list teaser articles too).
        def richness(n: dict) -> int:
            return sum(1 for k in ("headline", "datePublished", "author", "articleBody", "dateModified") if n.get(k))

        pm.jsonld_article = max(candidates, key=richness)

    for el in tree.iter("meta"):
        key = el.get("property") or el.get("name") or el.get("itemprop")
        content = el.get("content")
        if key and content is not None:
            pm.meta.setdefault(key.strip().lower(), []).append(content)
    for el in tree.iter("link"):
        rel = (el.get("rel") or "").lower().split()
        if "canonical" in rel and el.get("href") and pm.canonical is None:
            pm.canonical = el.get("href").strip()

    html = tree if tree.tag == "html" else tree.getroottree().getroot()
    pm.html_lang = clean_ws(html.get("lang") or html.get("xml:lang")) or None
    title_el = tree.find(".//title")
    if title_el is not None:
        pm.title_tag = clean_ws(title_el.text_content() if hasattr(title_el, "text_content") else title_el.text)
    for h1 in tree.iter("h1"):
        text = clean_ws(h1.text_content())
        if text:
            pm.h1.append(text)
    return pm


# ----------------------------------------------------------------------------- dates

_NUMERIC_DATE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}")


def parse_date(value: object) -> tuple[datetime, bool] | None:
    """Parse a stated date. Returns (aware datetime, has_time) or None.

    A value without an offset is taken as UTC: the page did not say, and UTC is at worst a few hours off
    while keeping the calendar day most pages mean.
    """
    text = clean_ws(value)
    if not text:
        return None
    has_time = True
    parsed = None
    iso = text.replace(" ", "T", 1) if _NUMERIC_DATE.match(text) else text
    iso = re.sub(r"(\.\d{6})\d+", r"\1", iso)  # fromisoformat takes at most microseconds
    try:
        parsed = datetime.fromisoformat(iso)
        has_time = len(iso) > 10
    except ValueError:
        m = _NUMERIC_DATE.match(text)
        if m:
            try:
                parsed = datetime.fromisoformat("-".join(f"{int(p):02d}" for p in m.group(0).split("-")))
                has_time = False
            except ValueError:
                parsed = None
        if parsed is None:
            try:
                parsed = parsedate_to_datetime(text)  # RFC 2822, e.g. "Tue, 23 Apr 2024 10:00:00 +0200"
            except (TypeError, ValueError, IndexError):
                return None
    if parsed.year < 1990:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed, has_time


# ----------------------------------------------------------------------------- authors

_BY_PREFIX = re.compile(
    r"^(?:by|von|from|por|par|av|di|door|de|af|z|od|от|автор|written by|text|texte?|fotos?|photos?|"
    r"autor(?:in|en|innen)?|authors?|auteurs?|autore|autori)\s*[:\-]?\s+",
    re.IGNORECASE,
)
_SPLIT_HARD = re.compile(r"\s*[;|/·•]\s*|\s*\n\s*")
_SPLIT_SOFT = re.compile(r"\s*,\s*|\s+(?:and|und|&|y|et|og|och|en|e|i|und|ve|и)\s+", re.IGNORECASE)
_ROLE_WORDS = re.compile(
    r"\b(?:correspondent|editor|reporter|redakteur(?:in)?|korrespondent(?:in)?|autor(?:in)?|author|"
    r"photographer|fotograf(?:in)?|contributor|columnist|writer|staff writer|senior|chief|"
    r"redaktion(?:sleiter(?:in)?)?|updated|aktualisiert|published|veröffentlicht)\b",
    re.IGNORECASE,
)


def _looks_like_name_part(part: str) -> bool:
    """A part of a split byline that can stand alone as a name: starts with a capital letter or is a
    short agency code ("dpa"). "agencies" in "Staff and agencies" is neither, so that byline stays whole."""
    first = part[:1]
    if not first:
        return False
    return first.isupper() or not first.isalpha() or (len(part) <= 4 and " " not in part)


_TRAILING_ROLE = re.compile(r"\s*(?:기자|記者|特派員|編集委員)$")
_TRAILING_PAREN = re.compile(r"\s*\([^()]{1,12}\)\s*$")  # "Jane Doe (jd)": a desk abbreviation


def split_authors(value: str) -> list[str]:
    text = clean_ws(value)
    if not text or _looks_like_url(text):
        return []
    out: list[str] = []
    for chunk in _SPLIT_HARD.split(text):
        chunk = _BY_PREFIX.sub("", chunk.strip(" ,.-–—:")).strip(" ,.-–—:")
        if not chunk:
            continue
        parts = [_TRAILING_PAREN.sub("", p).strip(" ,.-–—:") for p in _SPLIT_SOFT.split(chunk)]
        parts = [p for p in parts if p]
        if len(parts) > 1 and all(_looks_like_name_part(p) for p in parts):
            out.extend(_BY_PREFIX.sub("", p) for p in parts)
        else:
            out.append(_TRAILING_PAREN.sub("", chunk))
    return out


def _looks_like_url(text: str) -> bool:
    return text.startswith(("http://", "https://", "/", "www.")) or bool(re.search(r"\.\w{2,4}/", text))


def clean_authors(names: list[str], site_names: set[str]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for name in names:
        name = clean_ws(name)
        name = _TRAILING_ROLE.sub("", name)
        if not name or "http" in name.lower() or "@" in name or "www." in name.lower() or name[0] in "([":
            continue
        if name.count("(") != name.count(")"):
            continue  # a fragment of a split photo credit, "(Image: Getty Images"
        if " " not in name and "-" in name and name == name.lower():
            continue  # a URL slug ("jane-doe") from an author-page link
        if len(name) > 60 or not any(ch.isalpha() for ch in name):
            continue
        if _ROLE_WORDS.search(name) and len(name.split()) > 1:
            # "Jane Doe, Washington correspondent" was split already; what remains with a role word
            # is a role, not a name, unless it is a single token.
            continue
        key = name.casefold()
        if key in seen or key in site_names:
            continue
        seen.add(key)
        out.append(name)
    if len(out) > 1:
        # "Jane Doe, example.com": the domain is the publisher, not a second author.
        people = [n for n in out if not re.search(r"\w\.[a-z]{2,}$", n, re.IGNORECASE)]
        out = people or out
    return out


def jsonld_author_names(node: dict, nodes: dict[str, dict]) -> tuple[list[str], bool]:
    """Author names stated in JSON-LD, and whether they are all organisations."""
    value = node.get("author") or node.get("creator")
    if value is None:
        return [], False
    if not isinstance(value, list):
        value = [value]
    names: list[str] = []
    all_orgs = True
    for item in value:
        if isinstance(item, str):
            names.extend(split_authors(item))
            all_orgs = False
        elif isinstance(item, dict):
            if not (_types(item) & {"organization", "newsmediaorganization", "corporation"}):
                all_orgs = False
            if "name" not in item and isinstance(item.get("@id"), str):
                item = nodes.get(item["@id"], item)
            name = item.get("name")
            if isinstance(name, list):
                name = " ".join(str(n) for n in name)
            if name is None and (item.get("givenName") or item.get("familyName")):
                name = f"{item.get('givenName', '')} {item.get('familyName', '')}"
            if name:
                names.extend(split_authors(str(name)))
    return names, all_orgs and bool(names)


# Elements that carry a visible byline, by the markup conventions themes use for it (microformats,
# schema.org microdata, rel=author, class names). Class matching is by substring so "article__author"
# and "penci-byline" count.
_BYLINE_XPATH = etree.XPath(
    "//*[contains(concat(' ', normalize-space(@rel), ' '), ' author ') or @itemprop='author'"
    " or contains(translate(@class, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), 'author')"
    " or contains(translate(@class, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), 'byline')]"
)
# Class words of things near an author name that are not the article's byline: comment and quote
# authors, author-box biographies, avatars, social links, teaser cards of other articles.
_NOT_BYLINE_CLASS = re.compile(
    r"comment|quote|avatar|image|img|photo|bio|description|social|follow|teaser|card|related|"
    r"recommend|widget|sidebar|footer",
    re.IGNORECASE,
)
_NOT_BYLINE_TAGS = frozenset({"script", "style", "meta", "link", "input", "img", "textarea", "noscript"})
_NOT_BYLINE_CONTAINERS = frozenset({"aside", "footer", "nav", "form"})


def byline_texts(tree: etree._Element, limit: int = 12) -> list[str]:
    """Texts of elements marked up as a byline, in document order: short, date-free, outside comment
    sections, asides and teasers. For pages whose metadata names only the publishing organisation."""
    out: list[str] = []
    for el in _BYLINE_XPATH(tree):
        if not isinstance(el.tag, str) or el.tag in _NOT_BYLINE_TAGS:
            continue
        if any(
            a.tag in _NOT_BYLINE_CONTAINERS or _NOT_BYLINE_CLASS.search(a.get("class") or "")
            for a in el.iterancestors()
        ) or _NOT_BYLINE_CLASS.search(el.get("class") or ""):
            continue
        name = el.find(".//*[@itemprop='name']") if el.get("itemprop") == "author" else None
        text = clean_ws((name if name is not None else el).text_content())
        # A date, a reading time or a count means this is a meta line, not just names.
        if not text or len(text) > 80 or any(ch.isdigit() for ch in text):
            continue
        if text not in out:
            out.append(text)
            if len(out) >= limit:
                break
    return out


def looks_like_person_names(names: list[str]) -> bool:
    """Names as a byline writes them: a few words each, starting with a capital (or in a script without
    case), not a lone lowercase word such as a brand tag or a section name."""
    for name in names:
        words = name.split()
        first = next((ch for ch in name if ch.isalpha()), "")
        if not first or len(words) > 5 or (first.lower() != first.upper() and not first.isupper()):
            return False
    return bool(names)


# ----------------------------------------------------------------------------- titles

# Full-width "｜", "：" and the Hangul "ㅣ" used as a bar separate a CJK site name without spaces.
_TITLE_SEPARATORS = re.compile(r"\s+[|–—\-:·•»]\s+|\s+::\s+|\s*[｜：ㅣ]\s*")
TITLE_SEPARATOR = re.compile(r"\s+[|–—\-:·•»/]\s+|\s*\|\s*|\s*--\s*|\s*ㅣ")


def norm_key(text: str | None) -> str:
    return clean_ws(unicodedata.normalize("NFKC", text or "")).casefold()


def strip_site_suffix(title: str, site_names: set[str]) -> str:
    """Drop a " | Site name" style suffix or prefix from a <title>/og:title."""
    parts = _TITLE_SEPARATORS.split(title)
    if len(parts) < 2:
        return title
    seps = _TITLE_SEPARATORS.findall(title)
    # Known site name at either end: drop it.
    if norm_key(parts[-1]) in site_names or any(s and s in norm_key(parts[-1]) for s in site_names):
        return clean_ws("".join(p + s for p, s in zip(parts[:-2], seps[:-1], strict=False)) + parts[-2])
    if norm_key(parts[0]) in site_names:
        return clean_ws(title[len(parts[0]) + len(seps[0]) :])
    return title


# ----------------------------------------------------------------------------- misc


def absolute(url: str | None, base: str | None) -> str | None:
    url = clean_ws(url)
    if not url:
        return None
    if base:
        try:
            url = urljoin(base, url)
        except ValueError:
            return None
    return url if url.startswith(("http://", "https://")) else None


def jsonld_text(node: dict | None, key: str) -> str | None:
    if not node:
        return None
    value = node.get(key)
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("name") or value.get("url") or value.get("@value")
    text = clean_ws(value) if value is not None else ""
    return text or None


def jsonld_list(node: dict | None, key: str) -> list[str]:
    if not node:
        return []
    value = node.get(key)
    if isinstance(value, str):
        return [clean_ws(v) for v in value.split(",") if clean_ws(v)]
    if isinstance(value, list):
        return [clean_ws(v) for v in value if isinstance(v, str) and clean_ws(v)]
    return []


def jsonld_image(node: dict | None, nodes: dict[str, dict]) -> str | None:
    if not node:
        return None
    value = node.get("image") or node.get("thumbnailUrl")
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        if "url" not in value and isinstance(value.get("@id"), str):
            value = nodes.get(value["@id"], value)
        value = value.get("url") or value.get("contentUrl")
    return clean_ws(value) or None if isinstance(value, str) else None
