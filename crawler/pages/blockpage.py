"""Block pages: answers that say "you are not welcome" rather than carry the page.

403, 429 and 503 answers, and challenge interstitials served with status 200 (Cloudflare's
"Just a moment... / Checking your browser", DataDome, PerimeterX, Incapsula, "verify you
are human" captchas). They are kept in the WARC as evidence, never become articles, and
make the source back off (:mod:`crawler.incremental`).

Only small pages are searched for challenge markers, and only for markers that belong to
interstitials: a real article with a comment form's reCAPTCHA or Cloudflare's ordinary page
script is not a block page.
"""

from __future__ import annotations

import re

BLOCK_STATUSES = frozenset({403, 429, 503})
# Interstitials are a few kilobytes; a page bigger than this is content.
_CHALLENGE_MAX_BYTES = 64 * 1024
# Lowercase patterns, searched in the lowercased body: ``bytes.lower()`` folds ASCII only,
# exactly as ``re.IGNORECASE`` does on bytes, and a case-sensitive search is several times
# faster than a case-insensitive one.
_CHALLENGE = re.compile(
    rb"<title>\s*just a moment\.\.\.\s*</title>"
    rb"|checking your browser before accessing"
    rb"|checking if the site connection is secure"
    rb"|attention required! \| cloudflare"
    rb"|cf-browser-verification|cf_chl_opt"
    rb"|captcha-delivery\.com"
    rb"|px-captcha"
    rb"|_incapsula_resource"
    rb"|verify (?:that )?you are (?:a )?human"
    rb"|are you a robot\?"
    rb"|pardon our interruption"
)
# One literal that every match of each alternative above contains: a page holding none of
# them (nearly every page) is answered with a few substring scans, without the regex.
_MUST_CONTAIN = (b"just a moment...", b"checking ", b"cloudflare", b"cf-browser-verification",
                 b"cf_chl_opt", b"captcha-delivery.com", b"px-captcha", b"_incapsula_resource",
                 b"human", b"are you a robot?", b"pardon our interruption")


def block_reason(status: int, body: bytes) -> str | None:
    """Pure: why this answer is a block page (``"http 429"``, ``"challenge: ..."``) or None."""
    if status in BLOCK_STATUSES:
        return f"http {status}"
    if status != 200 or not 0 < len(body) <= _CHALLENGE_MAX_BYTES:
        return None
    lowered = body.lower()
    if not any(literal in lowered for literal in _MUST_CONTAIN):
        return None
    if m := _CHALLENGE.search(lowered):
        marker = m.group(0).decode("latin-1")
        return f"challenge: {re.sub(r'<[^>]*>', '', marker).strip()}"
    return None
