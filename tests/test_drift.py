"""The extraction-drift canary: a source whose template changes and breaks extraction is noticed.

The rule (ingest/drift.py) is judged on run histories built here; the loader's use of it on run summaries
in a real PostgreSQL; and end to end, the fixture site switches to a template whose article pages lose their
body, and `newsingest crawl` logs `extraction_drift` within three runs and `status --json` shows it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import structlog
from conftest import write_config
from newssite import FixtureArticle, NewsSite
from test_crawl import source_block

from ingest.drift import HISTORY_RUNS, Counts, Shift, judge

# ----------------------------------------------------------------------------------- the rule


def run(pages: int, short: int = 0, *, no_author: int = 0, no_date: int = 0) -> Counts:
    """A run whose pages are all articles, `short` of them with a body too short to be one."""
    return Counts.of_run(pages - short, {"too_short": short} if short else {}, no_date=no_date,
                         no_author=no_author, short_articles=0)


def replay(runs: list[Counts]) -> list[tuple[int, str, str, Shift]]:
    """Judge each run in turn as the loader does; the changes: (run index, measure, change, shift), the change
    "started" or "ended <reason>"."""
    active: dict[str, Shift] = {}
    changes = []
    for i, latest in enumerate(runs):
        history = [r for r in runs[:i] if r.pages][-(HISTORY_RUNS - 1):]
        for verdict in judge([*history, latest], active):
            if verdict.change:
                change = " ".join(filter(None, (verdict.change, verdict.reason)))
                changes.append((i, verdict.measure, change, verdict.shift))
            if verdict.active:
                active[verdict.measure] = verdict.shift
            else:
                active.pop(verdict.measure, None)
    return changes


def test_stable_source_with_a_few_short_pages_now_and_then_does_not_drift():
    short_now_and_then = [0, 1, 0, 0, 2, 0, 1, 0, 0, 1, 3, 0, 0, 1, 0, 0, 2, 0, 0, 1, 0, 1, 0, 0]
    runs = [run(12, short) for short in short_now_and_then]
    assert replay(runs) == []


def test_two_empty_pages_of_a_small_revisit_are_too_small_a_sample_to_drift():
    runs = [run(12), run(12), run(2, 2)]
    assert replay(runs) == []


def test_template_change_drifts_with_its_share_before_and_now():
    runs = [run(10), run(10, 1), run(10), run(8, 8)]
    assert replay(runs) == [(3, "short_body", "started", Shift(0.033, 1.0, 30, 8, 8))]


def test_revisits_of_a_few_pages_each_are_pooled_and_drift_within_three_runs():
    runs = [run(12), run(3), run(2), run(3, 3), run(2, 2), run(3, 3)]
    changes = replay(runs)
    # The first broken run has three pages: pooled with the two before it, it is enough.
    assert [(i, measure, change) for i, measure, change, _ in changes] == [(3, "short_body", "started")]


def test_a_source_finding_one_page_per_run_drifts_at_its_third_broken_run():
    runs = [run(12)] + [run(1)] * 6 + [run(1, 1)] * 3
    assert [(i, change) for i, _, change, _ in replay(runs)] == [(9, "started")]


def test_lost_bylines_drift_no_author_alone():
    runs = [run(10), run(10), run(10, no_author=9)]
    assert [(i, measure) for i, measure, _, _ in replay(runs)] == [(2, "no_author")]


def test_a_drift_is_reported_once_while_it_lasts():
    runs = [run(10), run(10), run(8, 8), run(8, 8), run(5, 5), run(8, 7), run(0), run(8, 8)]
    assert [(i, change) for i, _, change, _ in replay(runs)] == [(2, "started")]


def test_a_drift_ends_when_the_share_is_back_near_where_it_started_from():
    runs = [run(10), run(10), run(8, 8), run(8, 8), run(8, 1), run(8)]
    changes = replay(runs)
    assert [(i, change) for i, _, change, _ in changes] == [(2, "started"), (4, "ended recovered")]
    assert changes[1][3].now == 0.125


def test_a_drift_that_lasts_twenty_runs_becomes_the_new_normal_and_ends():
    runs = [run(10), run(10)] + [run(8, 8)] * HISTORY_RUNS
    changes = replay(runs)
    assert [(i, change) for i, _, change, _ in changes] == [(2, "started"), (2 + HISTORY_RUNS - 1, "ended new_normal")]


def test_a_run_without_pages_keeps_a_drift_going():
    runs = [run(10), run(10), run(8, 8)]
    drifting = {v.measure: v.shift for v in judge(runs, {}) if v.active}
    (verdict,) = [v for v in judge([*runs, run(0)], drifting) if v.measure == "short_body"]
    assert (verdict.active, verdict.change, verdict.shift) == (True, None, drifting["short_body"])


# --------------------------------------------------------------------------------- the loader


def _summary(run_id: str, minute: int, counts: Counts) -> dict:
    started = datetime(2026, 12, 4, 10, 0, tzinfo=UTC) + timedelta(minutes=minute)
    return {"run_id": run_id, "source": "gazette", "started_at": started.isoformat(),
            "finished_at": (started + timedelta(seconds=30)).isoformat(), "status": "finished",
            "finish_reason": "finished", "pages_fetched": counts.pages, "articles_found": counts.articles,
            "errors": {}, "quality": counts.to_dict()}


@pytest.mark.parametrize("loads", ["one_per_run", "one_for_all"])
def test_loader_logs_a_drift_once_when_it_starts_and_once_when_it_ends(db, tmp_path, loads):
    from crawler.spool import write_run_summary
    from ingest.load import load_spool

    history = [run(10), run(10), run(8, 8), run(8, 8), run(8, 8), run(8), run(8), run(8)]
    with structlog.testing.capture_logs() as logs:
        for i, counts in enumerate(history):
            write_run_summary(tmp_path, _summary(f"run{i}", i, counts))
            if loads == "one_per_run":
                result = load_spool(db, tmp_path)
        if loads == "one_for_all":
            result = load_spool(db, tmp_path)
    events = [(e["event"], e["measure"], e["run_id"], e["before"], e["now"])
              for e in logs if e["event"].startswith("extraction_drift")]
    assert events == [("extraction_drift", "short_body", "run2", 0.0, 1.0),
                      ("extraction_drift_ended", "short_body", "run5", 0.0, 0.0)]
    assert {d.measure: d.active for d in result.drifts} == {
        "short_body": False, "not_article": False, "no_date": False, "no_author": False}


def test_status_text_names_the_drifting_measure_with_its_shares():
    from ingest.status import SpoolBacklog, StatusReport, render_status
    from ingest.tables.drift import ActiveDrift
    from ingest.tables.runs import SourceStatus

    sources = [SourceStatus(name, None, None, "finished", 3, None, None, 3, 0) for name in ("gazette", "herald")]
    report = StatusReport(sources, 3, SpoolBacklog(0, 0, None, 0), None,
                          drifts={"gazette": [ActiveDrift("no_author", Shift(0.05, 0.9), "run7")]})
    lines = render_status(report).splitlines()
    assert lines[0].split()[-1] == "drift"
    assert [line.split()[-1] for line in lines[1:3]] == ["no_author", "-"]
    assert "  gazette: extraction drift: no_author 0.05 before, 0.90 now (since run run7)" in lines


# ---------------------------------------------------------------------------------- end to end


def _fresh_article(n: int) -> FixtureArticle:
    """A story published minutes ago, its own words in every paragraph."""
    return FixtureArticle.create(
        title=f"Harbour board report {n}: dredging plan number {n} goes to a vote",
        authors=["Ada Quist"],
        published_at=datetime.now(UTC) - timedelta(minutes=90 - n),
        section="world",
        paragraphs=[f"The harbour board will vote on dredging plan {n} next week, its chair said on Tuesday."]
        + [f"Report {n}, part {part}: members discussed tariffs, the ferry timetable and silt in basin {n * part},"
           f" and asked for figures on the cost of keeping channel {part} open through winter {n}." for part in
           range(1, 5)],
    )


def _events(stderr: str, name: str) -> list[dict]:
    lines = (json.loads(line) for line in stderr.splitlines() if line.startswith("{"))
    return [e for e in lines if e.get("event") == name]


def test_template_change_that_loses_article_bodies_is_logged_within_three_runs_and_shown_in_status(
    db, run_cli, tmp_path, data_dir
):
    site = NewsSite().start()
    try:
        config = write_config(tmp_path / "newsingest.toml", data_dir,
                              source_block("news", feeds=[site.url("/feeds/rss.xml")]))
        first = run_cli("--config", str(config), "crawl", "news")
        assert first.returncode == 0, first.stderr[-3000:]
        site.template = "lazy_body"
        drifts = []
        for n in range(3):  # each run finds a few new articles, as incremental revisits do
            for k in range(3):
                site.add_article(_fresh_article(3 * n + k))
            crawl = run_cli("--config", str(config), "crawl", "news")
            assert crawl.returncode == 0, crawl.stderr[-3000:]
            drifts = _events(crawl.stderr, "extraction_drift")
            if drifts:
                break
        assert [(d["source"], d["measure"], d["before"], d["now"]) for d in drifts] == [
            ("news", "short_body", 0.0, 1.0)]
        status = run_cli("--config", str(config), "status", "--json")
        (news,) = json.loads(status.stdout)["sources"]
        assert [(d["measure"], d["before"], d["now"], d["since_run_id"]) for d in news["drift"]] == [
            ("short_body", 0.0, 1.0, drifts[0]["run_id"])]
    finally:
        site.stop()
