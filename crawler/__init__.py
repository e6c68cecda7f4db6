"""newsingest's crawler: discovery (Scrapy spider), extraction (trafilatura) and the spool hand-off."""
