"""Every setting's default, in one place. ingest/config.py validates user values against these.

Precedence (lowest first): these defaults, the TOML config file, environment variables, command-line flags.
"""

DATABASE = {
    # None: start the embedded PostgreSQL under the data directory.
    "url": None,
}

SERVICE = {
    # None: $NEWSINGEST_DATA_DIR, else $XDG_DATA_HOME/newsingest, else ~/.local/share/newsingest
    "data_dir": None,
}

CRAWL = {
    "user_agent": "newsingest/0.1 (+{contact_url})",
    "contact_url": "https://github.com/newsingest/newsingest",
    "obey_robots_txt": True,
    "download_delay": 0.5,  # seconds between requests to one host (AutoThrottle adapts from here)
    "autothrottle": True,
    "concurrent_requests": 16,
    "concurrent_requests_per_host": 4,
    "download_timeout": 30,  # seconds
    "max_response_bytes": 10 * 1024 * 1024,
    "max_redirects": 10,
    "max_pages": 1000,  # per source and crawl; a source may lower or raise it
    "extract_workers": 0,  # extraction processes; 0 means one per CPU core
    "min_article_chars": 400,  # extracted body shorter than this is not an article
    # Seconds one page may take to extract, wall-clock time from when a worker starts it (not CPU time:
    # a loaded machine gives it less work); past it the worker is killed and replaced,
    # and the page counts as extraction_timeout in the run's errors.
    "extract_timeout": 10,
    # Elements of a page that extraction reads; the rest is dropped (real article pages hold a few thousand).
    "max_page_elements": 20000,
    # Hosts on private, loopback or link-local addresses are refused unless a source allows them: true allows
    # every such address but link-local ones (169.254.0.0/16, fe80::/10: cloud metadata services answer there);
    # a list allows exactly these IP addresses, networks and host names ["10.1.2.3", "192.168.0.0/24",
    # "intranet.example"], link-local ones only when named or inside a network named.
    "allow_private_hosts": False,
    # Retries and backoff: 429/503 wait for Retry-After (at most retry_after_max seconds, else the host
    # is paused for the run); other failures wait retry_backoff, doubling per retry. A host failing
    # host_failure_limit times in a row is paused for the rest of the run.
    "max_retries": 2,
    "retry_backoff": 1.0,
    "retry_after_max": 120,
    "host_failure_limit": 5,
    # Incremental crawling: conditional requests, and known articles fetched again only while younger
    # than revisit_window, at intervals growing from revisit_min_interval to revisit_max_interval.
    # revisit_floor: the shortest interval, for articles that changed and sources whose articles change
    # within minutes (crawler/fetch_state.py adapts each source's interval between it and revisit_min_interval).
    "incremental": True,
    "revisit_window": 48 * 3600,
    "revisit_min_interval": 3600,
    "revisit_max_interval": 24 * 3600,
    "revisit_floor": 300,
    # Raw archive: every article candidate response as WARC under <data_dir>/archive, for `reextract`.
    "archive": False,
    "archive_max_bytes": 100 * 1024 * 1024,
    # Distributed mode: crawl workers on any number of machines share each source's frontier here.
    "redis_url": None,
    # Seconds a worker waits for Redis to come back in the middle of a crawl before it stops (frontier_lost).
    "redis_outage_grace": 60,
    # Longest robots.txt Crawl-delay honoured (seconds, at most 3600); a host asking for more is paused for the run.
    "max_crawl_delay": 30,
    # Wall-clock budget of one crawl (seconds, at most a day); when it runs out the crawl stops gracefully,
    # keeping what it fetched (finish reason time_budget). A source may set its own.
    "max_crawl_seconds": 3600,
}

LOAD = {
    "interval": 60,  # seconds between loads in the daemon
}

CRAWL_ENGINES = ("shared", "process")
AUTO_CONCURRENT_CRAWLS = {"shared": 32, "process": 2}

DAEMON = {
    # "shared": one long-running crawl engine process runs every crawl, many at once in one reactor, with one
    # extraction pool; "process": a new `newsingest crawl` child process per crawl (more memory and CPU per
    # crawl, full isolation).
    "crawl_engine": "shared",
    # Crawls at once; 0: 32 with the shared engine (crawls mostly wait on the network), 2 with a process each.
    "max_concurrent_crawls": 0,
    "grace_period": 30,  # seconds running crawls get to finish after SIGTERM before they are stopped
    "housekeeping_interval": 86400,  # seconds
    "unhealthy_after": 3,  # consecutive failed crawls before a source is reported unhealthy
    "trigger_poll_interval": 5,  # seconds; LISTEN/NOTIFY wakes the daemon sooner
    "keep_bad_segments": 7 * 86400,  # seconds an unreadable spool segment is kept for inspection
    "stale_run_after": 6 * 3600,  # seconds after which a crawl run still marked running is abandoned
    # "host:port" ("[::1]:9464" for IPv6) of the monitoring endpoints /metrics, /healthz, /readyz; None: off.
    "http": None,
}

SOURCE = {
    "name": None,  # required
    "start_urls": [],
    "feeds": [],
    "sitemaps": [],
    "allowed_domains": [],  # empty: the hosts of start_urls, feeds and sitemaps
    "allow": [],  # regular expressions a followed URL must match (any)
    "deny": [],  # regular expressions a followed URL must not match
    "article_pattern": None,  # regular expression: URLs matching it are articles
    "max_pages": None,  # None: [crawl] max_pages
    "interval": 900,  # seconds between scheduled crawls
    "cron": None,  # crontab expression ("*/20 6-23 * * *"); replaces interval when set
    # Extraction rules for this source's pages, when the generic extraction gets them wrong:
    "body_selector": None,  # CSS selector, or XPath starting with "/" or "(", of the article body
    "title_selector": None,  # the same, of the headline
    "drop_text": [],  # body paragraphs containing any of these strings are removed
    "follow_links": True,  # follow links from start_urls through sections and pagination
    "allow_private_hosts": None,  # None: [crawl] allow_private_hosts
    "max_crawl_seconds": None,  # None: [crawl] max_crawl_seconds
}
