"""mediawatch crawler: the Scrapy project. The only package that imports Scrapy."""

import os

# Scrapy's cookie middleware builds a tldextract instance at import time, which would try to
# download the public-suffix list on first use; offline that fills the log with tracebacks.
# An empty URL list makes tldextract use its bundled snapshot (set before scrapy imports it).
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
