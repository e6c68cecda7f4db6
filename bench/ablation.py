"""Benchmark: does each body rule of crawler/extract.py earn its place on both publisher halves?

    python bench/ablation.py [CORPUS_DIR] [--scorer PATH] [--rules all|NAME,...] [--second-opinion]

Scores `extract_html` over the corpus once as it is and once per rule with that rule switched off (the
rule's function replaced for the run; the extractor's code is not changed), and prints body F1, precision
and recall (macro, corpus scorer) on each publisher half (bench/extraction.py `publisher_half`) and on the
whole corpus. A rule whose removal raises the F1 of one half and lowers the other's is fitted to one half.

`--second-opinion` also measures other extractors as a second opinion on the pages where trafilatura is
unsure (our text under 1,500 characters, over 30 % list items, or token F1 under 0.8 against the page's
JSON-LD `articleBody`): trafilatura with `favor_recall`, with `favor_precision`, readability-lxml when it
is importable, and a pick among all candidates by agreement (with `articleBody` when the page states one,
else with the other candidates). Token F1 here uses the scorer's tokens.

Reads the corpus; writes nothing.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import trafilatura  # noqa: E402
from extraction import load_pages, load_scorer, publisher_half  # noqa: E402
from trafilatura.utils import load_html  # noqa: E402

from crawler import boilerplate, extract  # noqa: E402
from crawler import metadata as md  # noqa: E402

# Each rule, and what replaces it to switch it off.
RULES = {
    "line_filters": (boilerplate, "is_boilerplate", lambda line: not line.strip()),
    "short_lists": (extract, "_furniture_list", lambda run, linked, at_edge: False),
    "plain_lists_kept": (extract, "_furniture_list", lambda run, linked, at_edge: True),  # every short list goes
    "other_stories": (extract, "_other_stories", lambda tree, title: []),
    "embed_furniture": (extract, "_embed_chrome", lambda tree: []),
    "split_body": (extract, "_body_chunks", lambda tree: []),
    "safety_net": (extract, "_lost_the_article", lambda paragraphs, reference: False),
    "script_about": (extract, "_about", lambda paragraphs, labels: True),
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", nargs="?", type=Path, default=ROOT.parent / "shared" / "corpus" / "news-pages")
    ap.add_argument("--scorer", type=Path, default=ROOT.parent / "shared" / "tools" / "score_extraction.py")
    ap.add_argument("--rules", default="all", help="comma-separated rule names, or all: " + ", ".join(RULES))
    ap.add_argument("--second-opinion", action="store_true")
    args = ap.parse_args(argv)
    names = list(RULES) if args.rules == "all" else args.rules.split(",")
    unknown = [n for n in names if n not in RULES]
    if unknown:
        print(f"unknown rule(s): {', '.join(unknown)}", file=sys.stderr)
        return 2

    scorer = load_scorer(args.scorer)
    pages = load_pages(args.corpus, None)
    expected = scorer.read_jsonl(str(args.corpus / "expected.jsonl"))
    extract.warm_up()
    print(f"corpus: {args.corpus} ({len(pages)} pages), extractor {extract.EXTRACTOR_VERSION}")
    print(f"{'variant':<26}" + "".join(f"{h:>26}" for h in ("half A", "half B", "all")))

    def report(label: str, rows: list[dict]) -> None:
        cells = []
        for half in ("A", "B", None):
            part = [e for e in expected if half is None or publisher_half(e["id"]) == half]
            ids = {e["id"] for e in part}
            m = scorer.score(part, [r for r in rows if r["id"] in ids])["body"]["macro"]
            cells.append(f"F1 {m['f1'] * 100:6.2f} P {m['precision'] * 100:5.1f} R {m['recall'] * 100:5.1f}")
        print(f"{label:<26}" + "".join(f"{c:>26}" for c in cells), flush=True)

    def run() -> list[dict]:
        return [{"id": pid, "text": extract.extract_html(html, url).text} for pid, url, html in pages]

    report("as is", run())
    for name in names:
        module, attr, replacement = RULES[name]
        original = getattr(module, attr)
        setattr(module, attr, replacement)
        try:
            report(f"without {name}", run())
        finally:
            setattr(module, attr, original)

    if args.second_opinion:
        second_opinion(pages, expected)
    return 0


def _tokens(text: str | None) -> list[str]:
    return extract._tokens(text or "")


def _f1(a: str, b: str) -> float:
    ta, tb = _tokens(a), _tokens(b)
    if not ta and not tb:
        return 1.0
    shared = sum((Counter(ta) & Counter(tb)).values())
    return 2 * shared / (len(ta) + len(tb))


def _readability(html: str) -> str | None:
    try:
        from lxml import html as lxml_html
        from readability import Document
    except ImportError:
        return None
    logging.getLogger("readability").setLevel(logging.CRITICAL)  # it logs a traceback per page it fails on
    try:
        summary = Document(html).summary(html_partial=True)
        return "\n".join(t.strip() for t in lxml_html.fromstring(summary).itertext() if t.strip())
    except Exception:  # readability raises on some pages: an empty opinion
        return ""


def second_opinion(pages, expected) -> None:
    bodies = {e["id"]: e["body"] for e in expected}
    results = []  # (page id, unsure, {candidate: F1 against expected}, picked candidate)
    for page_id, url, html in pages:
        ours = extract.extract_html(html, url).text
        node = md.read_page(load_html(html)).jsonld_article
        stated = node.get("articleBody") if node else None
        stated = stated if isinstance(stated, str) and len(stated) >= 200 else None
        lines = [line for line in ours.split("\n\n") if line]
        unsure = (len(ours) < 1500 or sum(line.startswith("- ") for line in lines) > 0.3 * max(1, len(lines))
                  or (stated is not None and _f1(ours, stated) < 0.8))
        if not unsure:
            results.append((page_id, False, {"ours": _f1(ours, bodies[page_id])}, "ours"))
            continue
        candidates = {"ours": ours}
        for mode in ("favor_recall", "favor_precision"):
            doc = trafilatura.bare_extraction(load_html(html), url=url,
                                              **{**extract._TRAFILATURA_OPTIONS, mode: True})
            candidates[mode] = doc.text if doc is not None and doc.text else ""
        other = _readability(html)
        if other is not None:
            candidates["readability"] = other
        if stated:
            agreement = {k: _f1(v, stated) for k, v in candidates.items()}
        else:
            agreement = {k: sum(_f1(v, w) for j, w in candidates.items() if j != k) for k, v in candidates.items()}
        picked = max(agreement, key=agreement.get)
        results.append((page_id, True, {k: _f1(v, bodies[page_id]) for k, v in candidates.items()}, picked))

    print("\nsecond opinion on the pages where trafilatura is unsure (token F1 against expected, mean)")
    for half in ("A", "B"):
        part = [r for r in results if publisher_half(r[0]) == half]
        unsure = [r for r in part if r[1]]
        print(f"half {half}: {len(unsure)} unsure pages of {len(part)}")
        for name in unsure[0][2] if unsure else ():
            print(f"  {name:<18}{sum(r[2][name] for r in unsure) / len(unsure) * 100:7.2f}")
        if unsure:
            print(f"  {'agreement pick':<18}{sum(r[2][r[3]] for r in unsure) / len(unsure) * 100:7.2f}")
            as_is = sum(r[2]["ours"] for r in part) / len(part) * 100
            picked = sum(r[2][r[3]] for r in part) / len(part) * 100
            print(f"  whole half: as is {as_is:.2f}, with the pick on unsure pages {picked:.2f}")


if __name__ == "__main__":
    sys.exit(main())
