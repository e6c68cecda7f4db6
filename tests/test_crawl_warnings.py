"""A normal crawl is quiet: nothing an operator would be warned about for a healthy site."""

from __future__ import annotations

import json

from test_crawl import crawl


def test_a_local_crawl_logs_no_warning_about_the_shared_frontier(small_site, db, run_cli, tmp_path, data_dir):
    result = crawl(run_cli, tmp_path, data_dir, "feed", feeds=[small_site.url("/feeds/rss.xml")])
    warnings = [line for line in result.stderr.splitlines()
                if line.startswith("{") and json.loads(line).get("level") in ("warning", "error")]
    assert not [line for line in warnings if "SharedFrontier" in line]
