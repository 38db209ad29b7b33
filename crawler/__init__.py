"""mediawatch crawler: the Scrapy project. The only package that imports Scrapy."""
