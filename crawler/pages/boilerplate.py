"""Boilerplate lines inside an article body: teasers, promos, social and newsletter boxes.

:func:`crawler.pages.bodytext.clean_paragraphs` trims furniture at the start and the end of
a body; these lines also turn up *between* paragraphs ("Read more: <another story>",
"Related: ...", "Also on <site> ...", "You may also like", "Most read in ...", a
newsletter box, "Follow her on Twitter", a photo credit, "Our Standards: The Thomson
Reuters Trust Principles.", "Like this story? Share it with a friend!"). They are data: one
list of patterns (:data:`BOILERPLATE_LINES`), each matched case-insensitively against a
whole paragraph of at most :data:`MAX_LINE` characters (a real paragraph that merely
mentions "read more" is longer, or does not start so), plus per-source additions
(:data:`SOURCE_LINES`, keyed by source id) for an outlet's own phrasing.

A line that only announces a list ("Related:", "More:", "Don't miss", "Most read in
world news") also takes the short bulleted or bracket-tagged lines right after it (the
list's items: "- 15 Amazing Images of Stars").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

#: Longest paragraph that can be a boilerplate line.
MAX_LINE = 220

_TEASER_LABELS = (r"read more|read also|also read|see more|see also|more on this(?: story)?|"
                  r"related(?: posts?| articles?| stories| coverage| content| reading)?|"
                  r"recommended(?: for you)?|more|also|watch|listen|don'?t miss|must read|"
                  r"читайте также|читать также|смотрите также|ilgili haberler?|lesen sie auch|"
                  r"mehr zum thema|lire aussi|à lire aussi")

#: Whole-paragraph patterns (case-insensitive, ``re.fullmatch``); see the module docstring.
BOILERPLATE_LINES: tuple[str, ...] = (
    # "Read more: <headline>", "[Related: <headline>]", "SEE MORE: ..."
    rf"\[?\s*(?:{_TEASER_LABELS})\s*[:|—–]\s*.*",
    # a label alone: "More:", "DON'T MISS", "You may also like", "Most read in world news"
    rf"(?:{_TEASER_LABELS})\s*:?",
    r"(?:you (?:may|might) also (?:like|be interested in)|(?:most|top) (?:read|popular|viewed)"
    r"(?: (?:in|on|from) .{1,40})?|trending(?: now)?|more from .{1,40}|latest (?:news|stories)|"
    r"editor'?s picks?|recommended stories)\s*:?",
    # "Also on rt.com <headline>"
    r"also on (?:[\w-]+\.)+[a-z]{2,}\b.*",
    # tabloid teasers: "Headline of another story [VIDEO]", "... [INSIGHT]|"
    r".{5,200}\[(?:insight|video|news|reaction|warning|pictures|photos|poll|latest|analysis|"
    r"comment|revealed|update|live|pics|gallery)\]\s*\|?",
    # social and tip lines: "Follow her on Twitter @x", "Follow Newsbeat on Instagram, ..."
    r"(?:.{0,120}[.!?]\s+)?follow (?:\w+ ){0,3}on (?:twitter|x|facebook|instagram|telegram|"
    r"youtube|linkedin|tiktok|threads|bluesky|mastodon)\b.*",
    r"have a (?:news )?tip\?.*",
    # newsletter boxes: "Subscribe to the Morning Review newsletter", "Pick Six Newsletter"
    r"(?:sign up|subscribe|register)\b.{0,80}\bnewsletters?\b.*",
    r"(?:\S+ ){0,4}newsletter",
    r"get .{3,80} delivered .*",
    # promos and share prompts
    r".{0,120}\bclick here\b.*",
    r"like this (?:story|article)\?\s*share it.*",
    r"share (?:this|the) (?:story|article)\b.{0,40}",
    r"(?:story continues below|continue reading below)?\s*advertisement\s*(?:continue reading)?",
    r"our standards:\s*the thomson reuters trust principles\.?",
    # photo credits: "Photo: Reuters", "Image credit: AFP", "photos © Inexhibit, 2018"
    r"(?:photo|image|picture|video|graphic)s?(?: credits?| by)?\s*[:©].{0,120}",
    r".{0,100}\b(?:photos?|images?)\s*(?:©|\(c\)|courtesy of|credit:).{0,80}",
)

#: Per-source additions (source id -> patterns), for an outlet's own phrasing.
SOURCE_LINES: dict[str, tuple[str, ...]] = {}

# A line that announces a list: the items after it are teasers too.
_LIST_LABEL = re.compile(
    rf"\[?\s*(?:{_TEASER_LABELS}|you (?:may|might) also like|(?:most|top) (?:read|popular|viewed)"
    r"(?: (?:in|on|from) .{1,40})?|trending(?: now)?|related\b.*)\s*:?\s*\]?",
    re.IGNORECASE)
# A list item: bulleted, or tagged like a tabloid teaser, short, no sentence end.
_LIST_ITEM = re.compile(r"(?:[-•–·▪*]\s+.{3,150}|.{3,160}\[[A-Z ]{3,20}\]\s*\|?)")


@cache
def _compiled(extra: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in (*BOILERPLATE_LINES, *extra)),
                      re.IGNORECASE | re.DOTALL)


def patterns_for(source_id: str | None) -> tuple[str, ...]:
    """The per-source additions of ``source_id`` (empty when none)."""
    return SOURCE_LINES.get(source_id or "", ())


def is_boilerplate(line: str, extra: tuple[str, ...] = ()) -> bool:
    """Whether a whole paragraph is a boilerplate line (module docstring)."""
    text = line.strip()
    return 0 < len(text) <= MAX_LINE and _compiled(extra).fullmatch(text) is not None


def drop_boilerplate(paras: Iterable[str], source_id: str | None = None) -> list[str]:
    """``paras`` without boilerplate lines and the list items that follow a list label."""
    extra = patterns_for(source_id)
    kept: list[str] = []
    in_list = False
    for para in paras:
        text = para.strip()
        if in_list and len(text) <= MAX_LINE and _LIST_ITEM.fullmatch(text):
            continue
        if is_boilerplate(text, extra):
            in_list = bool(_LIST_LABEL.fullmatch(text))
            continue
        in_list = False
        kept.append(para)
    return kept
