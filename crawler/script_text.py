"""Find article HTML that a page carries only inside its scripts: the hydration data of script-rendered
pages (Next.js `self.__next_f` chunks and `__NEXT_DATA__`, `window.__STATE__ = {...}` assignments), where
the body is an HTML string inside a JSON or JavaScript string, sometimes escaped twice.

Used by crawler/extract.py when the visible page yields too little body text; extract.py turns the
fragment into paragraphs. Pure string work: reads the <script> elements of the tree it is given, never
changes the tree, no I/O.
"""

from __future__ import annotations

import json
import re

# A double-quoted JSON/JavaScript string literal (possessive, so long scripts cannot backtrack).
_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"')
_PARAGRAPH = re.compile(r"<p[\s>]", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_MIN_PARAGRAPHS = 2
_MIN_LITERAL = 200  # shorter strings cannot hold an article
_MAX_DEPTH = 3  # HTML inside a JSON document inside a string inside a script


def article_html(tree) -> str | None:
    """The script string holding the most paragraph text as HTML (at least two <p>), or None."""
    best, best_chars = None, 0
    for script in tree.iter("script"):
        if script.get("src") or "ld+json" in (script.get("type") or ""):
            continue  # JSON-LD is read as metadata, its articleBody separately
        for fragment in _html_strings(script.text or "", 0):
            chars = len(_TAG.sub("", fragment))
            if chars > best_chars:
                best, best_chars = fragment, chars
    return best


def _html_strings(text: str, depth: int):
    # Cheap test first: most scripts hold no markup at all, in any escaping.
    if depth >= _MAX_DEPTH or not ("<p" in text or "u003cp" in text.lower()):
        return
    for match in _STRING.finditer(text):
        literal = match.group(0)
        if len(literal) < _MIN_LITERAL:
            continue
        try:
            value = json.loads(literal)
        except ValueError:
            continue
        if value.lstrip().startswith("<"):  # markup itself, not a JSON or script text holding some
            if len(_PARAGRAPH.findall(value)) >= _MIN_PARAGRAPHS:
                yield value
        else:
            yield from _html_strings(value, depth + 1)
