"""Benchmark: extraction time of a hostile page (many short paragraphs, under max_response_bytes),
with and without the element cap ([crawl] max_page_elements).

    python bench/hostile_page.py [--lines N ...] [--cap N]

Builds pages of N lines of `<p>` (default 10,000, 40,000 and 300,000: 8.4 MB, what a hostile site can
serve under the 10 MiB limit) and times crawler.extract.extract_html on each in this process, once with
the cap and once without it (the cap set beyond the page's size). Needs nothing outside the project.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # runnable as a script from any directory, installed or not

from crawler.extract import extract_html, warm_up  # noqa: E402
from ingest import defaults  # noqa: E402


def hostile_page(lines: int) -> str:
    body = "\n".join(f"<p>Line {i:06d} of a log.</p>" for i in range(lines))
    return f"<!DOCTYPE html><html><head><title>Log</title></head><body><article>{body}</article></body></html>"


def timed(html: str, max_elements: int) -> float:
    started = time.process_time()
    extract_html(html, "https://hostile.invalid/log", max_elements=max_elements)
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, nargs="+", default=[10_000, 40_000, 300_000])
    parser.add_argument("--cap", type=int, default=defaults.CRAWL["max_page_elements"])
    args = parser.parse_args()
    warm_up()
    print(f"{'lines':>8} {'MB':>6} {'capped s':>9} {'uncapped s':>11}")
    for lines in args.lines:
        html = hostile_page(lines)
        capped = timed(html, args.cap)
        uncapped = timed(html, lines * 2 + 100)
        print(f"{lines:>8} {len(html.encode()) / 1e6:>6.1f} {capped:>9.1f} {uncapped:>11.1f}")


if __name__ == "__main__":
    main()
