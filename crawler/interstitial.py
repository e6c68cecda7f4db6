"""Recognise pages that stand in front of the article: consent walls, bot challenges (captcha),
paywall stubs and JavaScript-only shells; and error pages served with status 200 (soft 404: a title or
headline that is an error phrase and nothing more, or a noindex page whose headline says the page is gone).
Generic rules, no per-site lists.

Pure: reads a parsel Selector of the fetched page and returns a reason (a stat name) or None.
A page is only called a stand-in when it also carries little readable text, so an article with a
cookie banner or a "subscribe" box around its full body stays an article.
"""

from __future__ import annotations

import json
import re

from parsel import Selector

STAND_IN_REASONS = frozenset({"bot_challenge", "consent_wall", "paywall", "js_shell", "error_page", "soft_404"})
# Readable text (paragraphs, headings, list items outside scripts) below which a marked page is a stand-in.
THIN_TEXT_CHARS = 700

_CHALLENGE = re.compile(
    r"cf-chl|challenge-platform|cf_chl_opt|g-recaptcha|h-captcha|hcaptcha\.com|recaptcha/api|"
    r"px-captcha|captcha-delivery|datadome|turnstile|"
    r"just a moment\.\.\.|checking your browser|verify you are (a )?human|are you a robot|attention required",
    re.IGNORECASE,
)
_CONSENT = re.compile(
    r"before you continue|consent\.(google|yahoo)|cmp-?(container|wall)|consent[-_ ]?wall|"
    r"we value your privacy|accept (all )?cookies to (continue|read|view)|"
    r"(agree|consent) (to|and) continue|privacy choices|your privacy settings",
    re.IGNORECASE,
)
_PAYWALL = re.compile(
    r"paywall|subscribe to (continue|read)|subscribers? only|to continue reading|"
    r"already a subscriber|this (article|content) is (for|available to) (paid )?subscribers|"
    r"premium[-_ ]content|metered[-_ ]?content",
    re.IGNORECASE,
)
_JS_SHELL = re.compile(
    r"enable javascript|javascript (is )?(required|disabled)|you need to enable javascript|"
    r"requires javascript|turn on javascript",
    re.IGNORECASE,
)
# "Page not found" and kin in common languages; words that also fit a news headline ("not found" alone,
# "error") are only taken with "page", a status code or the like.
_ERROR_PHRASES = (
    r"(page|file|article|content|seite|datei|artikel) (was )?not found|404 not found|"
    r"(error|fehler|erreur|errore|error) ?(404|410|500)|^\W*(404|410)\W*$|^\W*(404|410)\s*[:!–—-]|"
    r"seite (wurde )?nicht gefunden|seite existiert nicht|"
    r"p[aá]gina no (encontrada|existe)|page (introuvable|non trouv[ée]e)|pagina non trovata|"
    r"pagina niet gevonden|siden (blev ikke fundet|finnes ikke|ble ikke funnet)|sidan (hittades inte|finns inte)|"
    r"strona nie (została znaleziona|istnieje)|str[aá]nka nenalezena|sayfa bulunamad[ıi]|"
    r"(お探しの|指定された)?ページ(が|は)見つかりません(でした)?|"
    r"(요청하신 )?페이지를 찾을 수 없습니다|页面不存在|找不到页面|"
    r"internal server error|service unavailable"
)
_ERROR_TITLE = re.compile(_ERROR_PHRASES, re.IGNORECASE)
# What an error title may say besides the error phrase: "Oops! Error 404 - Page not found." A headline that
# merely contains a phrase ("Passport service unavailable for hours", "Error 404: the missing millions")
# says more than this and is news about an error, not one.
_ERROR_TITLE_FILLER = re.compile(
    r"\b(oops|whoops|sorry|hoppla|ups|entschuldigung|d[ée]sol[ée]|lo sentimos|spiacenti|the|this|diese|die|"
    r"error|fehler|erreur|errore|http|status|code|404|410|500)\b|抱歉|申し訳ありません",
    re.IGNORECASE,
)
# How a title joins headline and site name ("Page not found | The Times", "Site – 404 – Seite nicht gefunden").
_TITLE_SEPARATOR = re.compile(r"\s(?:[|–—\-·•»/]|::)\s")
# What the headline of a noindex error template says.
_GONE_TEXT = re.compile(
    _ERROR_PHRASES + r"|(page|article|content) you (are|were) looking for|"
    r"(page|article|content) (does not|doesn't|no longer) exists?|(is )?no longer available|"
    r"could not be found|cannot be found|(wurde|konnte) nicht gefunden|nicht mehr verf[üu]gbar|"
    r"ya no est[aá] disponible|n'existe (pas|plus)|non [èe] pi[uù] disponibile|non esiste",
    re.IGNORECASE,
)
_NOINDEX_XPATH = (
    "//meta[translate(@name, 'ROBTS', 'robts')='robots'][contains(translate(@content, 'NOIDEX', 'noidex'), 'noindex')]"
)
# Error pages say little; an article body this long is not one, whatever its title.
ERROR_PAGE_MAX_CHARS = 1500

_APP_ROOT_XPATH = (
    "//body//*[@id='root' or @id='app' or @id='__next' or @id='__nuxt' or @id='___gatsby']"
    "[not(normalize-space(string(.)))]"
)


_READABLE = ("p", "h1", "h2", "h3", "li", "blockquote")
_UNREADABLE = frozenset({"script", "style", "noscript"})


def readable_text_chars(selector: Selector, enough: int | None = None) -> int:
    """Characters of text in the body's paragraphs, headings, list items and quotes, outside scripts;
    counting may stop once `enough` is reached (an ordinary article gets there within a few paragraphs).

    Walks the lxml tree itself: through parsel, every text node became a Selector of its own (each
    registered by Scrapy's trackref), a third of the crawl process's time on a fast site."""
    total = 0
    for body in selector.root.iter("body"):
        for element in body.iter(*_READABLE):
            ancestors = {a.tag for a in element.iterancestors()}
            # Text inside a nested readable element is counted once, with its outermost one.
            if ancestors & _UNREADABLE or ancestors.intersection(_READABLE):
                continue
            total += _text_chars(element)
            if enough is not None and total >= enough:
                return total
    return total


def _text_chars(element) -> int:
    chars = len((element.text or "").strip())
    for child in element:
        if isinstance(child.tag, str) and child.tag not in _UNREADABLE:
            chars += _text_chars(child)
        chars += len((child.tail or "").strip())
    return chars


def _paywalled_json_ld(selector: Selector) -> bool:
    for raw in selector.xpath("//script[@type='application/ld+json']/text()").getall():
        if '"isAccessibleForFree"' not in raw and "isaccessibleforfree" not in raw.lower():
            continue
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        for node in data if isinstance(data, list) else [data]:
            if isinstance(node, dict) and str(node.get("isAccessibleForFree", "true")).lower() in ("false", "0"):
                return True
    return False


def stand_in_reason(selector: Selector, status: int = 200) -> str | None:
    """'bot_challenge', 'consent_wall', 'paywall', 'js_shell', or None for an ordinary page."""
    thin = readable_text_chars(selector, enough=THIN_TEXT_CHARS) < THIN_TEXT_CHARS
    if not thin:
        return None
    html = selector.get() or ""
    title = " ".join(selector.xpath("//title//text()").getall())
    visible = " ".join(
        t.strip() for t in selector.xpath("//body//text()[not(ancestor::script or ancestor::style)]").getall()
    )
    if _CHALLENGE.search(title) or _CHALLENGE.search(html) and (status in (403, 429, 503) or len(visible) < 400):
        return "bot_challenge"
    if _CONSENT.search(title) or _CONSENT.search(visible):
        return "consent_wall"
    if _paywalled_json_ld(selector) or _PAYWALL.search(html):
        return "paywall"
    noscript = " ".join(selector.xpath("//noscript//text()").getall())
    scripts = len(selector.xpath("//script"))
    if _JS_SHELL.search(noscript) or (scripts and selector.xpath(_APP_ROOT_XPATH) and len(visible) < 200):
        return "js_shell"
    return None


def is_error_page(selector: Selector, text: str) -> bool:
    """An error page served as a page (soft 404): its title or headline is an error phrase and nothing
    else ("Page not found", "404 - Seite nicht gefunden"), or, on a noindex page, its headline says the
    page is gone; and its extracted body is short."""
    if len(text) >= ERROR_PAGE_MAX_CHARS:
        return False
    title = " ".join(" ".join(selector.xpath("//title//text()").getall()).split())
    headline = " ".join(" ".join(selector.xpath("(//h1)[1]//text()").getall()).split())
    if _is_error_title(headline):
        return True
    # A title part that is a piece of the headline ("Error 404 – the missing millions | News") is the
    # headline's, judged whole above.
    pieces = _TITLE_SEPARATOR.split(headline)
    headline_parts = {piece.casefold() for piece in pieces} if len(pieces) > 1 else set()
    if any(_is_error_title(part) for part in _TITLE_SEPARATOR.split(title) if part.casefold() not in headline_parts):
        return True
    return bool(selector.xpath(_NOINDEX_XPATH)) and bool(_GONE_TEXT.search(headline or text[:300]))


def _is_error_title(part: str) -> bool:
    """`part` is an error phrase with at most a status code, an interjection and punctuation around it."""
    if not _ERROR_TITLE.search(part):
        return False
    rest = _ERROR_TITLE_FILLER.sub(" ", _ERROR_TITLE.sub(" ", part))
    return not re.search(r"\w", rest)
