"""Bare pages for crawl tests that need a site shaped one particular way (URL spellings, a feed linked only
from <link rel=alternate>, AMP-only links), served from a `NewsSite`'s `custom` pages.

Article pages carry no links at all, so the only ways to them are the ones a test builds: a homepage
linking what it chooses, a feed, a sitemap. `serve_plain_site` puts everything on a running site.
Stdlib only; nothing outside the site's own loopback address.
"""

from __future__ import annotations

import html
import json
from datetime import UTC

from newssite import FixtureArticle, NewsSite

ROBOTS = "User-agent: *\nDisallow:\n"  # no Sitemap: line, so robots.txt adds no way in


def article_html(article: FixtureArticle, canonical: str, amp: bool = False, head: str = "") -> str:
    published = article.published_at.astimezone(UTC).isoformat()
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": article.title,
        "datePublished": published,
        "author": [{"@type": "Person", "name": name} for name in article.authors],
    }
    body = "".join(f"<p>{html.escape(p)}</p>\n" for p in article.paragraphs)
    return f"""<!DOCTYPE html>
<html lang="en"{" amp" if amp else ""}>
<head>
<meta charset="utf-8">
<title>{html.escape(article.title)}</title>
<link rel="canonical" href="{html.escape(canonical)}">
<meta property="og:type" content="article">
<script type="application/ld+json">{json.dumps(data)}</script>
{head}
</head>
<body>
<article>
<h1>{html.escape(article.title)}</h1>
<p class="byline">By {html.escape(" and ".join(article.authors))}</p>
{body}</article>
</body>
</html>
"""


def homepage_html(links: list[str], head: str = "") -> str:
    items = "".join(f'<li><a href="{html.escape(url)}">Story {i}</a></li>\n' for i, url in enumerate(links, 1))
    return f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Plain News</title>
<meta property="og:type" content="website">
{head}
</head>
<body><h1>Plain News</h1><ul>
{items}</ul></body>
</html>
"""


def rss_xml(urls: list[str]) -> str:
    items = "".join(f"<item><title>Story {i}</title><link>{html.escape(url)}</link></item>\n"
                    for i, url in enumerate(urls, 1))
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Plain News</title><link>http://plain.invalid/</link>
{items}</channel></rss>
"""


def urlset_xml(urls: list[str]) -> str:
    entries = "".join(f"<url><loc>{html.escape(url)}</loc></url>\n" for url in urls)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
{entries}</urlset>
"""


def serve(site: NewsSite, path: str, text: str, content_type: str = "text/html; charset=utf-8") -> None:
    site.custom[path] = (200, text)
    site.custom_content_type[path] = content_type


def serve_plain_site(site: NewsSite, homepage: str) -> None:
    """Every article of `site` as a bare page at its path, `homepage` at /, and a robots.txt without sitemaps."""
    for article in site.articles:
        serve(site, article.path, article_html(article, site.url(article.path)))
    serve(site, "/", homepage)
    serve(site, "/robots.txt", ROBOTS, "text/plain; charset=utf-8")
