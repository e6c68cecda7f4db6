"""Generic rules for page chrome that survives main-text extraction (comment-form prompts, ad labels,
"Read more" lines, share/newsletter prompts, photo credits, copyright lines).

Used by crawler/extract.py on extracted paragraphs. Pure string functions: no I/O. Rules are about how
chrome is phrased in general, never about one publisher or one page.
"""

from __future__ import annotations

import re

# A whole paragraph that is only one of these (ignoring punctuation/bullets around it) is chrome.
_LINE_ONLY = [
    r"advertisement", r"advertising", r"sponsored(?: content)?", r"anzeige", r"werbung", r"publicidad",
    r"publicité", r"pubblicità", r"reklame", r"annons", r"annonse", r"reklama", r"ad",
    r"read more", r"read also", r"also read", r"more", r"continue reading", r"weiterlesen", r"mehr",
    r"mehr zum thema", r"lesen sie auch", r"lesen sie mehr", r"auch interessant", r"das könnte sie auch interessieren",
    r"lire aussi", r"lire la suite", r"à lire aussi", r"leer más", r"lee también", r"leggi anche", r"les også",
    r"läs också", r"læs også", r"czytaj (?:więcej|też|także)", r"related", r"related articles?", r"related posts?",
    r"related stories",
    r"related content", r"more stories", r"more from .{1,40}", r"recommended", r"most popular", r"trending",
    r"share", r"share this(?: article| story| post)?", r"teilen", r"artikel teilen", r"tags?", r"schlagwörter",
    r"comments?", r"\d+ comments?", r"kommentare?", r"leave a (?:comment|reply)", r"subscribe", r"abonnieren",
    r"cookies?", r"newsletter", r"follow us", r"print", r"drucken", r"e-?mail", r"facebook", r"twitter",
    r"whatsapp", r"linkedin", r"pinterest", r"x", r"copy link", r"link kopieren", r"previous article",
    r"next article", r"back to top", r"nach oben", r"zur startseite", r"home", r"loading\.*", r"close",
    r"schließen", r"video", r"audio", r"listen", r"anhören", r"artikel anhören", r"listen to this article",
    r"breaking news", r"eilmeldung", r"skip to (?:main )?content", r"zum inhalt springen", r"werbung",
    r"subscribe now", r"suscr[ií]bete", r"kommentar abgeben",
]
_LINE_ONLY_RE = re.compile(r"^(?:" + "|".join(_LINE_ONLY) + r")$", re.IGNORECASE)
_EDGE_PUNCT = re.compile(r"^[\s\W_]+|[\s\W_]+$", re.UNICODE)

# Phrases that mark a paragraph as chrome wherever they occur in a short paragraph.
_PHRASES = re.compile(
    r"please enter your (?:comment|name|email)|you have entered an incorrect email|"
    r"save my name,? email|leave a (?:reply|comment)|log ?in to (?:comment|leave a comment)|"
    r"sign up (?:for|to) (?:our|the) .{0,30}newsletter|subscribe to (?:our|the) .{0,30}newsletter|"
    r"newsletter abonnieren|zum newsletter anmelden|melden sie sich .{0,40}newsletter|"
    r"all rights reserved|alle rechte vorbehalten|todos los derechos reservados|tous droits réservés|"
    r"tutti i diritti riservati|alle rettigheder forbeholdes|alle rettigheter reservert|"
    r"we use cookies|this (?:site|website) uses cookies|cookie (?:policy|settings|einstellungen)|"
    r"accept all cookies|alle cookies akzeptieren|share this (?:article|story|post)|"
    r"share on (?:facebook|twitter|whatsapp|linkedin|x)\b|follow us on|folgen sie uns|"
    r"click here to (?:subscribe|sign up|read)|"
    # consent placeholders left where an embed (video, tweet, chart) was blocked
    r"externer inhalt|externe inhalte|privatsphäre-einstellungen|ein klick für den datenschutz|"
    r"enable javascript|javascript (?:is )?(?:disabled|required)|your browser does not support|"
    r"um (?:diesen|den) inhalt (?:zu sehen|anzuzeigen)|to view this content|content is not available|"
    # prompts to comment, rate, report an error or log in, and paywall notices
    r"join (?:our|the) (?:commenting forum|conversation|discussion)|before commenting|comment policy|"
    r"(?:would you|do you want to|want to) comment|einloggen,? um (?:einen )?kommentar|fehler gefunden\?|"
    r"(?:hat|wie hat) ihnen (?:dieser|der) artikel gefallen|did you (?:like|enjoy) this article|"
    r"log in or create an? (?:free )?account|réservée? aux abonnés|(?:sólo|solo) para suscriptores|会員限定|"
    r"^(?:read more|read also|also read|read next|more|lesen sie (?:auch|mehr)|mehr zum thema|lire aussi|"
    r"à lire aussi|leer más|lee también|leggi anche|les også|läs också|læs også|czytaj (?:więcej|też|także)|"
    r"related(?: articles?| stories)?|see also|siehe auch|auch interessant)\s*[:»>\-–—|]",
    re.IGNORECASE,
)
# Photo/image credit lines: "Photo: Jane Doe/Agency", "Foto: dpa", "(Image credit: ...)", "© Reuters".
_CREDIT = re.compile(
    r"^[\(\[]?\s*(?:photo|foto|фото|image|picture|bild|credit|crédit|quelle|source|fuente|kuva|zdjęcie)"
    r"(?:\s*(?:credit|by|s))?\s*[:©]|^©|^\(?copyright\b|^[\(\[]?(?:photo|foto|bild|image)\s*[\)\]]?$",
    re.IGNORECASE,
)
# A caption ends with its credit: "Fans at the stadium. Photo: Jane Doe/Agency".
_CAPTION_CREDIT = re.compile(
    r"(?:photo|foto|bild|image|picture|kuva|zdjęcie|credit)s?\s*:\s*[^.!?]{1,60}$", re.IGNORECASE
)
# A bare credit line: "Jane Doe/AFP via Getty Images", "STR/Getty images", "Foto: dpa".
_PHOTO_AGENCY = re.compile(
    r"(?:getty ?images|afp|reuters|\bdpa\b|imago|picture[ -]alliance|shutterstock|istock(?:photo)?|"
    r"\bap photo|\bepa\b|keystone|\bntb\b|alamy|ddp|anadolu|sipa|xinhua|\bpa wire\b|pa images)",
    re.IGNORECASE,
)
# A line that is only a byline ("Von Jane Doe") or a date stamp ("Stand: 22.04.2024, 06:00 Uhr").
_BYLINE = re.compile(r"^(?:by|von|por|par|av|di|door|af)\s+\S+(?:\s+\S+){0,4}$", re.IGNORECASE)
_DATE_STAMP = re.compile(
    r"\b\d{1,2}\.\s?\d{1,2}\.\s?\d{2,4}\b|\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}:\d{2}\b"
)
_PHRASE_MAX_CHARS = 300  # a long paragraph mentioning "cookies" is probably article text
_CREDIT_MAX_CHARS = 160


def is_boilerplate(paragraph: str) -> bool:
    text = paragraph.strip()
    if not text:
        return True
    bare = _EDGE_PUNCT.sub("", text)
    if not bare:
        return True  # only punctuation/bullets, e.g. "- -" left from an ad slot
    if _LINE_ONLY_RE.match(bare):
        return True
    if len(text) <= _PHRASE_MAX_CHARS and _PHRASES.search(text):
        return True
    if len(text) <= _CREDIT_MAX_CHARS and _CREDIT.search(text):
        return True
    if len(text) <= 250 and _CAPTION_CREDIT.search(text):
        return True
    if len(text) <= 80 and "/" in text and _PHOTO_AGENCY.search(text) and not text.endswith((".", "!", "?", '"')):
        return True
    if len(text) <= 60 and (_BYLINE.match(text) and not text.endswith((".", "!", "?"))):
        return True
    if len(text) <= 40 and _DATE_STAMP.search(text) and len(re.findall(r"[^\W\d_]{3,}", text)) <= 3:
        return True
    return False
