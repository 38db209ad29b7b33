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
    rb"|pardon our interruption",
    re.IGNORECASE,
)


def block_reason(status: int, body: bytes) -> str | None:
    """Pure: why this answer is a block page (``"http 429"``, ``"challenge: ..."``) or None."""
    if status in BLOCK_STATUSES:
        return f"http {status}"
    small = status == 200 and 0 < len(body) <= _CHALLENGE_MAX_BYTES
    if small and (m := _CHALLENGE.search(body)):
        marker = m.group(0).decode("latin-1").lower()
        return f"challenge: {re.sub(r'<[^>]*>', '', marker).strip()}"
    return None
