"""The extraction-drift canary's rule: did a source's extraction quality jump against its own history?

Sites change templates and extraction breaks without an error: bodies come out empty or as a few lines of
chrome, dates and bylines vanish. Each crawl run counts what its pages gave (`Counts`, in the run summary
and crawl_runs.quality); `judge` compares, per measure, the share of the latest runs with the share of the
runs before them.

Incremental revisits fetch a few new pages per run, so shares of one run are noise: the latest runs with
pages are pooled until they hold `min_recent` pages (at most `recent_runs` runs), the runs before them
are pooled as history, and a drift needs enough pages on both sides, `min_affected` pages showing the
problem, and a jump both absolute (`min_jump`) and relative (`min_ratio`). A drift lasts until the share
comes back within `min_jump / 2` of the share it started from, or for `max_runs` judged runs at most (then
it is the source's new normal): one verdict per change, not one per run.

Pure: no I/O, no clock. The loader (ingest/load.py) reads the runs, stores the verdicts and logs them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

# Reasons a page is not an article because its body was empty or too short (crawler/extract.py).
SHORT_BODY_REASONS = ("no_text", "too_short")

# measure -> (the part, the whole): short_body and not_article of the pages judged, no_date and no_author
# of the articles. short_body: no text, a text under min_article_chars, or an article under twice that;
# not_article: the other reasons (index_page, stand-ins, soft_404 ...), so that one lost body is one
# drift, not two.
MEASURES: dict[str, tuple[str, str]] = {
    "short_body": ("short_body", "pages"),
    "not_article": ("other_not_articles", "pages"),
    "no_date": ("no_date", "articles"),
    "no_author": ("no_author", "articles"),
}

# Runs with pages a verdict reads, the judged one included: the loader reads no more than this.
HISTORY_RUNS = 20


@dataclass(frozen=True, slots=True)
class Counts:
    """What one crawl run's pages gave: pages judged (articles + not-articles) and the problems among them."""

    pages: int = 0
    articles: int = 0
    not_articles: int = 0
    short_body: int = 0  # no text, a text under min_article_chars, or an article under twice that
    no_date: int = 0  # of articles: no publication date
    no_author: int = 0  # of articles: no author
    not_article_reasons: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of_run(cls, articles: int, not_article_reasons: Mapping[str, int], *, no_date: int, no_author: int,
               short_articles: int) -> Counts:
        """`short_articles`: articles whose body is under twice min_article_chars."""
        reasons = {str(k): int(v) for k, v in not_article_reasons.items()}
        not_articles = sum(reasons.values())
        return cls(
            pages=articles + not_articles,
            articles=articles,
            not_articles=not_articles,
            short_body=sum(reasons.get(r, 0) for r in SHORT_BODY_REASONS) + short_articles,
            no_date=no_date,
            no_author=no_author,
            not_article_reasons=reasons,
        )

    @property
    def other_not_articles(self) -> int:
        return self.not_articles - sum(self.not_article_reasons.get(r, 0) for r in SHORT_BODY_REASONS)

    def part(self, measure: str) -> tuple[int, int]:
        """(pages showing the problem, pages it is a share of) for a measure."""
        numerator, denominator = MEASURES[measure]
        return getattr(self, numerator), getattr(self, denominator)

    def to_dict(self) -> dict:
        return {
            "pages": self.pages,
            "articles": self.articles,
            "not_articles": self.not_articles,
            "short_body": self.short_body,
            "no_date": self.no_date,
            "no_author": self.no_author,
            "not_article_reasons": dict(self.not_article_reasons),
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> Counts:
        """Raises ValueError for counts that are not non-negative integers or do not add up."""
        def count(value: object, name: str) -> int:
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"quality: {name} is not a count: {value!r}")
            return value

        if not isinstance(data, Mapping):
            raise ValueError("quality is not an object")
        reasons = data.get("not_article_reasons") or {}
        if not isinstance(reasons, Mapping):
            raise ValueError("quality: not_article_reasons is not an object")
        counts = cls(
            **{name: count(data.get(name, 0), name)
               for name in ("pages", "articles", "not_articles", "short_body", "no_date", "no_author")},
            not_article_reasons={str(k): count(v, f"not_article_reasons.{k}") for k, v in reasons.items()},
        )
        if (counts.pages != counts.articles + counts.not_articles or counts.short_body > counts.pages
                or sum(counts.not_article_reasons.values()) != counts.not_articles
                or max(counts.no_date, counts.no_author) > counts.articles):
            raise ValueError(f"quality: counts do not add up: {counts.to_dict()}")
        return counts


@dataclass(frozen=True, slots=True)
class Rule:
    # Latest runs with pages pooled, at most: a source finding one new page per run still gets a verdict,
    # by its third broken run (three pages of six).
    recent_runs: int = 6
    min_recent: int = 6  # pages the latest runs need (pooling stops once reached)
    min_history: int = 12  # pages the runs before them need
    min_affected: int = 3  # pages of the latest runs showing the problem
    min_jump: float = 0.3  # now - before, at least
    min_ratio: float = 1.5  # now / before, at least
    # A drift still there after this many judged runs is the source's new normal: it ends, so that a change
    # the site made for good (no more bylines) is not an alarm forever.
    max_runs: int = HISTORY_RUNS


RULE = Rule()


@dataclass(frozen=True, slots=True)
class Shift:
    """A measure's share before (the runs before the latest ones; while drifting, the share the drift started
    from) and now (the latest runs pooled), with the pages behind each."""

    before: float
    now: float
    pages_before: int = 0
    pages_now: int = 0
    hits_now: int = 0  # of pages_now: pages showing the problem
    runs: int = 1  # while drifting: the runs judged since it started, that one included

    def rounded(self) -> Shift:
        return Shift(round(self.before, 3), round(self.now, 3), self.pages_before, self.pages_now, self.hits_now,
                     self.runs)


@dataclass(frozen=True, slots=True)
class Verdict:
    measure: str
    active: bool  # drifting after this run
    shift: Shift | None  # the shares judged now (rounded); the previous ones when there was nothing to judge
    change: str | None = None  # "started", "ended", or None: the state is what it was
    reason: str | None = None  # why a drift ended: "recovered" (back near before) or "new_normal" (max_runs)


def judge(runs: Sequence[Counts], previous: Mapping[str, Shift], rule: Rule = RULE) -> list[Verdict]:
    """One verdict per measure for the last of `runs` (a source's runs, oldest first, the judged one last;
    runs without pages may be left out). `previous`: the measures drifting before the judged run.

    A measure the judged run has no page for, or without enough pages to judge, keeps its state."""
    verdicts = []
    for measure in MEASURES:
        parts = [part for part in (run.part(measure) for run in runs) if part[1] > 0]
        # Nothing new to judge when the judged run brought no page for the measure.
        window = _window(parts, rule) if runs and runs[-1].part(measure)[1] > 0 else None
        was = previous.get(measure)
        if was is not None:
            verdicts.append(_ongoing(measure, was, window, rule))
        else:
            verdicts.append(_onset(measure, parts, window, rule))
    return verdicts


def _window(parts: list[tuple[int, int]], rule: Rule) -> tuple[int, int, int] | None:
    """(hits, pages, runs) of the latest runs pooled; None when they hold fewer than min_recent pages."""
    hits = pages = taken = 0
    while taken < min(rule.recent_runs, len(parts)) and pages < rule.min_recent:
        hit, total = parts[-1 - taken]
        hits, pages, taken = hits + hit, pages + total, taken + 1
    return (hits, pages, taken) if pages >= rule.min_recent else None


def _onset(measure: str, parts: list[tuple[int, int]], window: tuple[int, int, int] | None, rule: Rule) -> Verdict:
    if window is None:
        return Verdict(measure, False, None)
    hits, pages, taken = window
    history = parts[:len(parts) - taken]
    old_hits, old_pages = sum(hit for hit, _ in history), sum(total for _, total in history)
    if old_pages < rule.min_history:
        return Verdict(measure, False, None)
    shift = Shift(old_hits / old_pages, hits / pages, old_pages, pages, hits)
    drifted = (hits >= rule.min_affected and shift.now - shift.before >= rule.min_jump
               and shift.now >= shift.before * rule.min_ratio)
    return Verdict(measure, drifted, shift.rounded(), "started" if drifted else None)


def _ongoing(measure: str, was: Shift, window: tuple[int, int, int] | None, rule: Rule) -> Verdict:
    if window is None:
        return Verdict(measure, True, was)
    hits, pages, _ = window
    # Against the share the drift started from, not the history since: that fills up with the drift itself.
    shift = Shift(was.before, hits / pages, was.pages_before, pages, hits, was.runs + 1).rounded()
    if shift.now - was.before < rule.min_jump / 2:
        return Verdict(measure, False, shift, "ended", "recovered")
    if shift.runs >= rule.max_runs:
        return Verdict(measure, False, shift, "ended", "new_normal")
    return Verdict(measure, True, shift)


@dataclass(frozen=True, slots=True)
class Drift:
    """A source's state for one measure after a load judged its runs: what `/metrics` exports."""

    source: str
    measure: str
    active: bool
    before: float | None  # None: never judged (too few pages so far)
    now: float | None
    run_id: str  # the last run judged
