"""Benchmark: newsingest's extractor against trafilatura's defaults on the news-pages corpus, in one run.

    python bench/extraction.py [CORPUS_DIR] [--scorer PATH] [--out DIR] [--show N] [--half A|B]

CORPUS_DIR defaults to ../shared/corpus/news-pages and --scorer to ../shared/tools/score_extraction.py,
both relative to the project root. For every page both extractors run in the same process, one after the
other (the order alternates page by page so neither always gets the warm cache). Only the extraction
call is timed: `crawler.extract.extract_html(html, url)` for ours, and for trafilatura
`bare_extraction(html, url=url, with_metadata=True, include_comments=False)` with its author string
split on ";" (the corpus baseline's settings). Both prediction files are written to a temporary
directory (or --out) and scored with the corpus scorer; the two tables, the median ms/page of each and
their ratio are printed.

Held-back halves: every publisher falls in half A or B by a hash of its name (`publisher_half`), so a
rule developed while looking at one half can be checked on pages from publishers it never saw. The body
F1 of each half is printed for both extractors; `--half A` runs one half only.

From expected.jsonl the extractors get only each page's id and URL (what a crawler knows about a page
it fetched); the scorer reads the rest afterwards. Reads files and writes predictions; nothing else.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import importlib.util
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # runnable as a script from any directory, installed or not

import trafilatura  # noqa: E402

from crawler import extract  # noqa: E402


def load_scorer(path: Path):
    spec = importlib.util.spec_from_file_location("score_extraction", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def publisher_half(page_id: str) -> str:
    """"A" or "B" for the page's publisher (ids are <country>_<Publisher>_<YYYY_MM_DD>): a fixed split
    that keeps all pages of one publisher on one side."""
    publisher = page_id.rsplit("_", 3)[0]
    return "AB"[hashlib.sha256(publisher.encode()).digest()[0] % 2]


def load_pages(corpus: Path, only: str | None, half: str | None = None) -> list[tuple[str, str, str]]:
    pages = []
    with open(corpus / "expected.jsonl", encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            rec = json.loads(line)
            page_id, url = rec["id"], rec["url"]  # nothing else from the ground truth
            if (only and only not in page_id) or (half and publisher_half(page_id) != half):
                continue
            html = gzip.decompress((corpus / f"{page_id}.html.gz").read_bytes()).decode("utf-8")
            pages.append((page_id, url, html))
    return pages


def run_ours(page_id: str, url: str, html: str) -> tuple[dict, float]:
    t0 = time.perf_counter()
    article = extract.extract_html(html, url)
    ms = (time.perf_counter() - t0) * 1000
    return {
        "id": page_id,
        "title": article.title,
        "authors": article.authors,
        "published_at": article.published_at.isoformat() if article.published_at else None,
        "text": article.text,
        "field_sources": article.field_sources,
        "extract_ms": round(ms, 2),
    }, ms


def run_trafilatura(page_id: str, url: str, html: str) -> tuple[dict, float]:
    t0 = time.perf_counter()
    try:
        doc = trafilatura.bare_extraction(html, url=url, with_metadata=True, include_comments=False)
    except Exception:  # an exception counts as an empty prediction, as in the corpus baseline
        doc = None
    ms = (time.perf_counter() - t0) * 1000
    d = doc.as_dict() if doc is not None and not isinstance(doc, dict) else (doc or {})
    authors = [a.strip() for a in (d.get("author") or "").split(";") if a.strip()]
    return {
        "id": page_id,
        "title": d.get("title"),
        "authors": authors,
        "published_at": d.get("date"),
        "text": d.get("text") or "",
        "extract_ms": round(ms, 2),
    }, ms


RUNNERS = {"newsingest": run_ours, f"trafilatura {trafilatura.__version__} default": run_trafilatura}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", nargs="?", type=Path, default=ROOT.parent / "shared" / "corpus" / "news-pages")
    ap.add_argument("--scorer", type=Path, default=ROOT.parent / "shared" / "tools" / "score_extraction.py")
    ap.add_argument("--out", type=Path, help="keep the prediction files in this directory")
    ap.add_argument("--show", type=int, default=0, metavar="N", help="also list the N pages with lowest body F1")
    ap.add_argument("--only", metavar="TEXT", help="only pages whose id contains TEXT (for debugging)")
    ap.add_argument("--half", choices="AB", help="only the pages of one publisher half")
    args = ap.parse_args(argv)

    scorer = load_scorer(args.scorer)
    pages = load_pages(args.corpus, args.only, args.half)
    if not pages:
        print("no pages", file=sys.stderr)
        return 1
    # One-off import and first-parse costs (dateparser alone ~1 s) are not per-page costs.
    extract.warm_up()
    run_trafilatura(*pages[0])

    names = list(RUNNERS)
    rows: dict[str, list[dict]] = {n: [] for n in names}
    times: dict[str, list[float]] = {n: [] for n in names}
    for i, page in enumerate(pages):
        for name in names if i % 2 == 0 else reversed(names):
            row, ms = RUNNERS[name](*page)
            rows[name].append(row)
            times[name].append(ms)

    out_dir = args.out or Path(tempfile.mkdtemp(prefix="bench-extraction-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    expected = scorer.read_jsonl(str(args.corpus / "expected.jsonl"))
    expected = [e for e in expected if (not args.only or args.only in e["id"])
                and (not args.half or publisher_half(e["id"]) == args.half)]
    print(f"corpus: {args.corpus} ({len(pages)} pages)")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"trafilatura {trafilatura.__version__}; extractor {extract.EXTRACTOR_VERSION}")
    summaries = {}
    for name in names:
        path = out_dir / f"{name.split()[0]}.predictions.jsonl"
        with open(path, "w", encoding="utf-8") as fh:
            for row in rows[name]:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(f"\n== {name}  ({path})")
        summaries[name] = scorer.score(expected, rows[name])
        scorer.print_table(summaries[name], args.show)

    print("\nbody F1 (macro) by publisher half")
    print(f"{'':<28}" + "".join(f"{h:>12}" for h in ("A", "B", "all")))
    for name in names:
        cells = []
        for half in ("A", "B", None):
            ids = {e["id"] for e in expected if half is None or publisher_half(e["id"]) == half}
            part = [e for e in expected if e["id"] in ids]
            if not part:
                cells.append(f"{'-':>12}")
                continue
            f1 = scorer.score(part, [r for r in rows[name] if r["id"] in ids])["body"]["macro"]["f1"]
            cells.append(f"{f1 * 100:.2f} n={len(part)}".rjust(12))
        print(f"{name:<28}" + "".join(cells))

    print("\nms/page (extraction call only, one process)")
    print(f"{'':<28}{'mean':>8}{'median':>8}{'p95':>8}{'max':>8}")
    for name in names:
        t = times[name]
        p95 = statistics.quantiles(t, n=20)[18] if len(t) >= 20 else max(t)
        print(f"{name:<28}{statistics.fmean(t):8.1f}{statistics.median(t):8.1f}{p95:8.1f}{max(t):8.1f}")
    ratio = statistics.median(times[names[0]]) / statistics.median(times[names[1]])
    print(f"median ratio newsingest / trafilatura: {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
