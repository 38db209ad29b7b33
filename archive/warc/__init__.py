"""WARC files, the record: writing (rotating, ``*.open`` until closed), reading (resynchronising
after damage), repair of files a killed crawl left open, CDXJ indexes, import of other tools'
WARC/ARC/WACZ files and WACZ export.

warcio stays behind this package: the rest of mediawatch sees
:class:`~archive.models.CapturedResponse` and :class:`~archive.models.WarcLocation` values."""
