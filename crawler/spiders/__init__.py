"""Scrapy spiders. One generic spider is driven by a configured source."""
