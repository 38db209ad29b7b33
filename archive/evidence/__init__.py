"""Evidence: RFC 3161 timestamps of closed WARC files, signed WACZ exports, verification.

* :mod:`archive.evidence.timestamps`: the time-stamp request (built here, DER), the call to
  the TSA named in ``[evidence] tsa_url``, the ``<name>.warc.gz.tsr`` token beside each
  closed WARC, a background queue so that a crawl never waits on the TSA, and the check of
  a token against a file;
* :mod:`archive.evidence.signing`: ``mediawatch keygen`` keys and the anonymous signature
  of the WACZ Signing and Verification spec (``datapackage-digest.json``);
* :mod:`archive.evidence.verify`: ``mediawatch verify`` of WARC and WACZ files, one verdict
  per file.
"""
