"""Choosing the body among several extractions, and our own paragraph-density pick.

trafilatura's ``favor_precision`` mode is the best single extractor on news pages, but it
fails in ways one can see by comparing it with other extractions of the same page:

- it collapses to a fragment (a reprint notice of 260 characters where the article has
  3,200) or returns nothing;
- it keeps one of several containers an article is split into (ad slots or "chunks"
  between them), losing the second half;
- it skips the first paragraph when the page styles it apart (a lead ``<p>`` in its own
  ``<div>``).

So the body is chosen among *candidates* (trafilatura's precision and recall modes, the
JSON-LD ``articleBody``, :func:`density_paragraphs`) by :func:`choose`: the preferred one
wins unless another candidate *contains* it (nine tenths of its word 4-grams) and is at
least :data:`FRAGMENT_RATIO` times longer, in which case the preferred one was a fragment
of the other. Containment is what makes this safe: a longer candidate that adds comments
or a sidebar but does not contain the preferred text is never taken.

:func:`density_paragraphs` is the readability idea, kept small: the element holding the
most paragraph text in its direct ``<p>`` children (link text, furniture and short lines
not counted) is the body; it grows to its parent while the parent adds paragraph text
(another chunk of the same story) and is itself mostly that text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from crawler.pages import bodytext as bt
from crawler.pages import boilerplate as bp
from crawler.pages.markup import words
from crawler.pages.metadata import TRUNCATED

#: A candidate this many times longer than the preferred one, containing it, wins.
FRAGMENT_RATIO = 2.0
#: A candidate this many times shorter than two others that agree is an outlier.
OUTLIER_RATIO = 4.0
#: Share of the shorter of two texts the longer must hold for them to agree.
AGREE = 0.8
#: Share of the shorter text's 4-grams the longer one must hold to contain it.
CONTAINED = 0.9
#: Characters of a candidate compared by :func:`containment` (a long book chapter's worth).
MAX_GRAM_CHARS = 200_000
#: A body shorter than this is suspect (the page type's minimum without article markup).
MIN_BODY_CHARS = 200
#: Longest ``<p>`` that counts as story text in :func:`density_paragraphs`.
MAX_PARAGRAPH = 100_000
#: Shortest paragraph that counts as story text in :func:`density_paragraphs`.
MIN_PROSE = 60
_TOKEN = re.compile(r"\w+")
_SENTENCE_ENDS = (".", "!", "?", "\u201d", '"', "\u3002", "»")
_STANDFIRST_WORDS = words(
    "lead lede dek deck standfirst summary subtitle subheadline subhead description announce "
    "excerpt teaser kicker strapline abstract quote")
_HEADING_TAGS = frozenset(("header", "h1", "h2", "h3", "h4", "h5", "h6"))
_CLIMB = 5  # levels above the densest element searched for more of the story
_ELSEWHERE_TAGS = frozenset(("nav", "aside", "footer"))
_ELSEWHERE_WORDS = words(
    "comment comments commentlist discussion sidebar related relatedposts recommended "
    "recommendations footer nav navigation menu promo popular mostread teaser teasers widget "
    "newsletter")


def grams(text: str, n: int = 4) -> set[tuple[str, ...]]:
    """The word n-grams of ``text`` (case-folded; a shorter text gives one shorter gram),
    of its first :data:`MAX_GRAM_CHARS` characters only: a hostile 50 MB paragraph would
    otherwise make millions of tuples, and no story is that long."""
    tokens = _TOKEN.findall(text[:MAX_GRAM_CHARS].casefold())
    if len(tokens) < n:
        return {tuple(tokens)} if tokens else set()
    return {tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)}


def containment(big: str, small: str) -> float:
    """Share of ``small``'s word 4-grams that occur in ``big`` (1.0 for an empty small)."""
    inner = grams(small)
    return len(inner & grams(big)) / len(inner) if inner else 1.0


def pick_body(root: Any, clean: Callable[[list[str]], list[str]], *, traf_text: str | None,
              ld_body: str | None, recall: Callable[[], str]) -> tuple[str, list[str]] | None:
    """The body of a page without a body selector: ``(method, paragraphs)`` or None.

    Candidates, each cleaned by ``clean``, in order of preference: the JSON-LD
    ``articleBody`` when it has paragraphs (or is short), trafilatura's precision text
    (``traf_text``), the JSON-LD body otherwise, and :func:`density_paragraphs`. When the
    preferred one is missing, short, a fragment (:func:`choose`) or under half the density
    pick, trafilatura's recall mode (``recall()``, a second run, so only then) joins them.
    The chosen body then gets back a first paragraph the page styled apart
    (:func:`with_missing_lead`).
    """
    ld_kept: list[str] = []
    if ld_body:
        ld_body = bt.unescape_all(ld_body).strip()
        if len(ld_body) >= MIN_BODY_CHARS and not TRUNCATED.search(ld_body):
            ld_kept = clean(bt.text_paragraphs(ld_body))
    # A long articleBody without paragraph breaks loses the structure the body promises;
    # trafilatura gets the same text with its paragraphs.
    ld_first = bool(ld_kept) and (len(ld_kept) > 1 or len(ld_kept[0]) < 1000)
    traf = clean(bt.text_paragraphs(traf_text)) if traf_text else []
    main = main_element(root)
    inside = bt.paragraphs(main, body=True) if main is not None else []
    density = clean(inside)
    candidates = [("jsonld", ld_kept)] if ld_first else []
    candidates += [("trafilatura", traf), ("jsonld", ld_kept), ("density", density)]
    chosen = choose(candidates)
    size = sum(len(p) for p in chosen[1]) if chosen else 0
    if chosen is None or chosen[0] != candidates[0][0] or size < MIN_BODY_CHARS \
            or sum(len(p) for p in density) >= FRAGMENT_RATIO * size:
        candidates.insert(-1, ("trafilatura_recall", clean(bt.text_paragraphs(recall()))))
        chosen = choose(candidates)
    if chosen is None:
        return None
    return chosen[0], with_missing_lead(chosen[1], main, inside)


def choose(candidates: Sequence[tuple[str, list[str]]]) -> tuple[str, list[str]] | None:
    """The body among ``(method, paragraphs)`` candidates in order of preference.

    The first non-empty candidate wins unless it is a fragment of another: that one is at
    least :data:`FRAGMENT_RATIO` times longer and contains it (:data:`CONTAINED`). Then the
    shortest such candidate is taken instead, and checked the same way again. Last, a
    choice that two other candidates both outgrow :data:`OUTLIER_RATIO` times while agreeing
    with each other (the shorter holds :data:`AGREE` of its 4-grams in the longer) is an
    outlier (a notice, a caption): the shorter of the two is taken.
    """
    present = [(m, p) for m, p in candidates if p]
    if not present:
        return None
    sizes = [sum(len(x) for x in p) for _, p in present]
    texts = ["\n".join(p) for _, p in present]
    chosen = 0
    for _ in present:  # each step takes a strictly longer candidate: bounded
        larger = [i for i in range(len(present)) if sizes[i] >= FRAGMENT_RATIO * sizes[chosen]
                  and containment(texts[i], texts[chosen]) >= CONTAINED]
        if not larger:
            break
        chosen = min(larger, key=lambda i: sizes[i])
    # An outlier: two other extractions agree on a text many times longer.
    far = sorted((i for i in range(len(present)) if sizes[i] >= OUTLIER_RATIO * sizes[chosen]),
                 key=lambda i: sizes[i])
    for n, short in enumerate(far):
        if any(containment(texts[long], texts[short]) >= AGREE for long in far[n + 1:]):
            chosen = short
            break
    return present[chosen]


def with_missing_lead(body: list[str], main: Any, inside: list[str]) -> list[str]:
    """``body`` with the story-text paragraphs found right before the main element
    (:func:`main_element`), in its preceding siblings, when the body starts where the main
    element's paragraphs (``inside``) do: a first paragraph the extractors skipped
    because the page put it in a ``<div>`` of its own. A standfirst or a headline (an
    element whose class says lead, dek, summary..., a heading, a ``<header>``) is not
    taken: it is the ``lead`` field, and benchmarks count it out of the body."""
    if not body or main is None or body[0] not in inside[:2]:
        return body
    missing: list[str] = []
    for sibling in main.itersiblings(preceding=True):
        if not isinstance(sibling.tag, str) or bt.is_furniture(sibling):
            continue
        if any(_is_standfirst(e) for e in sibling.iter()):
            break
        for para in reversed(bt.paragraphs(sibling, body=True)):
            if (len(para) < MIN_PROSE or not para.rstrip().endswith(_SENTENCE_ENDS)
                    or para in body or bp.is_boilerplate(para)):
                return missing + body
            missing.insert(0, para)
    return missing + body


def _is_standfirst(element: Any) -> bool:
    tag = element.tag if isinstance(element.tag, str) else ""
    return tag in _HEADING_TAGS or bool(bt.class_words(element) & _STANDFIRST_WORDS)


def density_paragraphs(root: Any) -> list[str]:
    """The page's main text by paragraph density (module docstring); [] when the page has
    no paragraph of story text."""
    main = main_element(root)
    return bt.paragraphs(main, body=True) if main is not None else []


def main_element(root: Any) -> Any | None:
    """The element holding the page's main text by paragraph density (module docstring),
    None when the page has no paragraph of story text."""
    scores: dict[Any, int] = {}
    for para in root.iter("p"):
        parent = para.getparent()
        if parent is None:
            continue
        length = _prose_length(para)
        if length:
            scores[parent] = scores.get(parent, 0) + length
    if not scores:
        return None
    furniture: dict[Any, bool] = {}
    scores = {e: v for e, v in scores.items() if not _in_furniture(e, furniture)}
    if not scores:
        return None
    # story text under each element: its own <p> children's and its descendants'
    totals: dict[Any, int] = {}
    for element, value in scores.items():
        node = element
        while node is not None:
            totals[node] = totals.get(node, 0) + value
            node = node.getparent()
    best = max(scores, key=lambda e: scores[e])
    prose = totals[best]
    node = best
    for _ in range(_CLIMB):
        node = node.getparent()
        if node is None or node.tag in ("body", "html"):
            break
        wider = totals.get(node, 0)
        if wider < 1.2 * prose:  # a wrapper adding no story text: look further up
            continue
        visible = sum(len(p) for p in bt.paragraphs(node, body=True))
        if wider < 0.6 * visible:  # the wider element is mostly something else
            break
        best, prose = node, wider
    return best


def _prose_length(para: Any) -> int:
    """Characters of story text in a ``<p>``: 0 for a short line, one mostly links, or
    one longer than :data:`MAX_PARAGRAPH` (no story's paragraph; a hostile page's is)."""
    length = sum(len(t) for t in para.itertext())
    if length < MIN_PROSE or length > MAX_PARAGRAPH:
        return 0
    links = sum(len(" ".join(a.itertext())) for a in para.iter("a"))
    return 0 if links > 0.5 * length else length


def _in_furniture(element: Any, memo: dict[Any, bool]) -> bool:
    """Inside navigation, a footer, an aside, comments or a list of other stories. Only
    these strong signs: a CMS's article and body classes carry "tag-x" and "category-y".
    ``memo`` holds the answers for ancestors already seen."""
    seen: list[Any] = []
    node = element
    found = False
    while node is not None and node.tag not in ("body", "html"):
        if node in memo:
            found = memo[node]
            break
        seen.append(node)
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in _ELSEWHERE_TAGS or bt.class_words(node) & _ELSEWHERE_WORDS:
            found = True
            break
        node = node.getparent()
    for node in seen:
        memo[node] = found
    return found
