"""The parser's hot spots were rewritten for speed (issue 10); results must not change.

Each test compares the new function with the old implementation, kept here verbatim as the
reference, on generated text (hypothesis, biased towards the characters that matter: control
characters, format characters, challenge markers in mixed case) and on the real pages of
``/work/shared/eval`` when that folder exists.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.models import Article
from archive.store.identity import content_hash, normalize_text
from crawler.pages.blockpage import block_reason
from crawler.pages.markup import strip_control_chars

ROOT = Path(__file__).resolve().parents[1]
# ../shared/eval beside the clone, as the other eval tests; else the shared machine's copy.
EVAL = next((p for p in (ROOT.parent / "shared" / "eval", Path("/work/shared/eval"))
             if p.is_dir()), ROOT.parent / "shared" / "eval")

# --- the old implementations (reference) ------------------------------------------------

_OLD_CONTROL = dict.fromkeys([*range(0, 9), 11, 12, *range(14, 32)])
_OLD_CHALLENGE = re.compile(
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
_OLD_SPACES = re.compile(r"\s+")


def old_strip(text: str) -> str:
    return text.translate(_OLD_CONTROL)


def old_block_reason(status: int, body: bytes) -> str | None:
    if status in (403, 429, 503):
        return f"http {status}"
    small = status == 200 and 0 < len(body) <= 64 * 1024
    if small and (m := _OLD_CHALLENGE.search(body)):
        marker = m.group(0).decode("latin-1").lower()
        return f"challenge: {re.sub(r'<[^>]*>', '', marker).strip()}"
    return None


def old_normalize_text(text: str | None) -> str:
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return _OLD_SPACES.sub(" ", text).strip()


# --- generated inputs ------------------------------------------------------------------

_MARKERS = ["<title> Just a Moment... </title>", "CHECKING your browser before accessing",
            "checking if the site connection is secure", "Attention Required! | Cloudflare",
            "cf-browser-verification", "CF_CHL_OPT", "captcha-delivery.com", "PX-Captcha",
            "_Incapsula_Resource", "Verify that you are a Human", "verify you are human",
            "Are you a robot?", "Pardon Our Interruption", "<title>just a moment..</title>",
            "checking", "human", "cloudflare", "just a moment...", "\u00c9\u00e9", "\xff"]
_TRICKY = st.sampled_from(["\x00", "\x08", "\t", "\n", "\x0b", "\x0c", "\r", "\x1f", "\x7f",
                           "\u00ad", "\u200b", "\u200d", "\u2060", "\ufeff", "\u061c",
                           "\U000e0041", "\u00a0", "\u3000", "ﬁ", "ß", "İ", " ", "a", "Я"])
texts = st.lists(st.one_of(st.text(max_size=8), _TRICKY), max_size=60).map("".join)
bodies = st.lists(st.one_of(st.sampled_from(_MARKERS), st.text(max_size=6),
                            st.sampled_from([" ", "\n", "\t", "<b>", "</title>"])),
                  max_size=30).map(lambda parts: "".join(parts).encode("utf-8", "replace"))


@settings(max_examples=400, deadline=None)
@given(texts)
def test_strip_control_chars_equals_translate(text: str) -> None:
    assert strip_control_chars(text) == old_strip(text)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from([200, 200, 200, 403, 404, 429, 503]), bodies)
def test_block_reason_equals_case_insensitive_regex(status: int, body: bytes) -> None:
    assert block_reason(status, body) == old_block_reason(status, body)


def test_block_reason_markers_each_found() -> None:
    """Every marker alone, in any case, gives the old answer (and is a block page)."""
    for marker in _MARKERS[:13]:
        for variant in (marker, marker.upper(), marker.lower()):
            body = f"<html><body>{variant}</body></html>".encode()
            assert block_reason(200, body) == old_block_reason(200, body) is not None
    big = b"x" * (64 * 1024) + b"cf_chl_opt"
    assert block_reason(200, big) is None is old_block_reason(200, big)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.none(), texts))
def test_normalize_text_equals_per_character_loop(text: str | None) -> None:
    assert normalize_text(text) == old_normalize_text(text)


def test_normalize_text_every_format_character() -> None:
    """All Cf characters of this Python's Unicode database, each between two words."""
    import sys
    cf = [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"]
    assert cf
    for ch in cf:
        assert normalize_text(f"a{ch}b c") == old_normalize_text(f"a{ch}b c") == "ab c"


def _eval_pages() -> list[Path]:
    pages = sorted((EVAL / "aeb" / "html").glob("*.html.gz"))
    pages += sorted((EVAL / "news_html").rglob("*.html.gz"))
    return pages


@pytest.mark.skipif(not EVAL.is_dir(), reason="no /work/shared/eval on this machine")
def test_real_pages_same_results() -> None:
    """On every real page: the same text without control characters, the same block
    decision on the page and on its first 60 kB, the same normalized text and hash."""
    pages = _eval_pages()
    assert len(pages) > 100
    for path in pages:
        raw = gzip.decompress(path.read_bytes())
        text = raw.decode("utf-8", "replace")
        assert strip_control_chars(text) == old_strip(text), path
        for body in (raw, raw[:60_000]):
            assert block_reason(200, body) == old_block_reason(200, body), path
        text = text[:40_000]  # the old per-character loop is what is slow here
        assert normalize_text(text) == old_normalize_text(text), path
        article = Article(url="https://example.org/a/1", source="s", title=text[:200],
                          lead=text[200:800], body=text)
        joined = "\x1f".join(old_normalize_text(t) for t in (article.title, article.lead,
                                                             article.body))
        assert content_hash(article) == hashlib.sha1(joined.encode()).hexdigest(), path


def test_ingest_checks_each_record_for_a_block_page_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The parser decides which records are articles with one block-page check each (it
    used to run twice per record, on bodies of up to 64 kB)."""
    from datetime import UTC, datetime

    import crawler.ingest as ingest
    from archive.warc.reader import iter_responses
    from tests.test_ingest import article_html, write

    path = write(tmp_path, [(f"http://127.0.0.1:1/a/{n}.html", article_html(n), 200)
                            for n in range(4)], datetime(2024, 5, 1, tzinfo=UTC))
    batch = list(iter_responses(path))
    calls: list[int] = []

    def counting(status: int, body: bytes) -> str | None:
        calls.append(status)
        return block_reason(status, body)

    monkeypatch.setattr(ingest, "block_reason", counting)
    with ingest.Parser(None, workers=1) as parser:
        parsed = parser.parse(batch)
    assert [p is not None and p.article is not None for p in parsed] == [True] * 4
    assert len(calls) == len(batch) == 4


_CLASSES = st.lists(st.sampled_from(["lead", "LEAD", "dek", "x-lead", "lead-x", "subtitle",
                                     "article__announce", "article__announce-text", "b", "",
                                     "standfirst", "lead\u00a0x", "article__lead"]),
                    max_size=3)
_SEPARATORS = st.sampled_from([" ", "\t", "\n", "  ", "\r\n", "\u00a0", "\u2003"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["div", "p", "meta", "span", "h2"]), _CLASSES,
                          _SEPARATORS, st.sampled_from([None, "description", "Description"])),
                max_size=8))
def test_lead_elements_equal_the_css_selector(elements: list) -> None:
    from crawler.pages.markup import html_selector
    from crawler.pages.metadata import LEAD_CSS, lead_elements

    parts = []
    for tag, classes, sep, itemprop in elements:
        attrs = f' class="{sep}{sep.join(classes)}{sep}"' if classes else ""
        attrs += f' itemprop="{itemprop}"' if itemprop else ""
        parts.append(f"<{tag}{attrs}>text</{tag}>" if tag != "meta" else f"<meta{attrs}>")
    sel = html_selector("<html><body><div>" + "".join(parts) + "</div></body></html>")
    assert lead_elements(sel) == [e.root for e in sel.css(LEAD_CSS)]


@pytest.mark.skipif(not EVAL.is_dir(), reason="no /work/shared/eval on this machine")
def test_lead_elements_on_real_pages() -> None:
    from crawler.pages.markup import html_selector
    from crawler.pages.metadata import LEAD_CSS, lead_elements

    found = 0
    for path in _eval_pages():
        sel = html_selector(gzip.decompress(path.read_bytes()).decode("utf-8", "replace"))
        expected = [e.root for e in sel.css(LEAD_CSS)]
        assert lead_elements(sel) == expected, path
        found += len(expected)
    assert found > 10  # the real pages do have such elements
