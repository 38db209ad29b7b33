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
                  r"mehr zum thema|lire aussi|à lire aussi|à lire également|voir aussi|"
                  r"auch interessant|leia também|leia mais|veja também|lee también|"
                  r"lea también|te puede interesar|leggi anche|по теме|ayrıca bakınız|"
                  r"czytaj (?:też|także)|more (?:\w+ ){0,3}(?:stories|news|articles|reads)")

#: Whole-paragraph patterns (case-insensitive, ``re.fullmatch``); see the module docstring.
BOILERPLATE_LINES: tuple[str, ...] = (
    # "Read more: <headline>", "[Related: <headline>]", "SEE MORE: ...", "(Leggi anche: ...)"
    rf"[\[(]?\s*(?:{_TEASER_LABELS})\s*(?:[^\w\s]{{0,2}}\s*\w+)?\s*[:|—–]\s*.*",
    # a label alone: "More:", "DON'T MISS", "You may also like...", "Most read in world news"
    rf"(?:{_TEASER_LABELS})\s*[:.…]*",
    r"(?:you (?:may|might) also (?:like|be interested in|enjoy)|(?:most|top) (?:read|popular|"
    r"viewed|shared)(?: (?:in|on|from) .{1,40})?|trending(?: now)?|more from .{1,40}|"
    r"latest (?:news|stories)|editor'?s picks?|recommended stories|"
    r"das könnte sie auch interessieren|vous aimerez aussi|você também pode gostar|"
    r"también te puede interesar|самое (?:читаемое|популярное)|en çok okunanlar)\s*[:.…]*",
    # "Also on rt.com <headline>"
    r"also on (?:[\w-]+\.)+[a-z]{2,}\b.*",
    # "More AP NBA: https://apnews.com/NBA", "Follow AP's full coverage of Brexit at https://..."
    r"more [\w' ]{1,30}:\s*https?://\S+.*",
    r"follow (?:\S+ ){0,2}(?:full |all |our |live )?coverage\b.*",
    # tabloid teasers: "Headline of another story [VIDEO]", "... [INSIGHT]|"
    r".{5,200}\[(?:insight|video|news|reaction|warning|pictures|photos|poll|latest|analysis|"
    r"comment|revealed|update|live|pics|gallery)\]\s*\|?",
    # social and tip lines: "Follow her on Twitter @x", "Follow The New York Times Opinion
    # section on Facebook, Twitter and Instagram", "Follow @handle"
    r"(?:.{0,120}[.!?]\s+)?follow (?:\S+ ){0,6}on (?:twitter|x|facebook|instagram|telegram|"
    r"youtube|linkedin|tiktok|threads|bluesky|mastodon)\b.*",
    r"follow @\w+.{0,80}",
    r"(?:síguenos|suivez-nous|folgen sie uns|siga-nos|seguici|bizi takip edin|"
    r"подписывайтесь на)\b.{0,100}",
    r"have a (?:news )?tip\?.*",
    # newsletter boxes: "Subscribe to the Morning Review newsletter", "Pick Six Newsletter",
    # "Get the latest updates right in your inbox. Subscribe to NJ.com's newsletters."
    r"(?=.*\bnewsletters?\b)(?=.*\b(?:sign up|subscribe|inbox|delivered|register)\b).*",
    r"(?:\S+ ){0,4}newsletter",
    r"get .{3,80} delivered .*",
    r"subscribe (?:to|for|now)\b.{0,160}",
    # promos and share prompts
    r".{0,120}\bclick here\b.*",
    r"like this (?:story|article)\?\s*share it.*",
    r"if you (?:enjoyed|liked|like|value) this (?:article|story|piece|content)\b.*",
    r"tell us what you think.{0,40}",
    r"share (?:this|the) (?:story|article)\b.{0,40}",
    r"(?:story continues below|continue reading below)?\s*advertisement\s*(?:continue reading)?",
    r"our standards:\s*the thomson reuters trust principles\.?",
    # reading time: "5 min read", "Tempo de leitura: 1 minuto", "Lesezeit: 3 Minuten"
    r"(?:\d+\s*(?:min(?:ute)?s?|minutos?|minuten|мин(?:ут[аы]?)?\.?|dakika) (?:read|de leitura|"
    r"lesezeit|чтения|okuma)|(?:reading time|tempo de leitura|tiempo de lectura|lesezeit|"
    r"время чтения|okuma süresi)\s*:?\s*\d+.{0,20})",
    # filing and source lines: "Filed under: Defence |", "SOURCE: News agencies"
    r"(?:filed (?:under|in)|posted in)\s*:.{0,120}",
    r"(?:source|sources|источник|kaynak|quelle|fuente|fonte)\s*:\s*.{1,60}",
    # contributor credits: "(Reporting by A; Editing by B)", "C contributed to this report."
    r"\(?(?:additional )?reporting by .{3,200}(?:editing|writing) by .{3,120}",
    r".{3,160} contributed (?:reporting|to this report)(?: from .{1,60})?\.?",
    # photo credits: "Photo: Reuters", "Image credit: AFP", "Фото: РИА Новости",
    # "photos © Inexhibit, 2018", "(Photo by Jane Doe/Getty Images)"
    r"\(?(?:photo|photograph|image|picture|video|graphic|foto|фото|fotoğraf|bild)s?"
    r"(?: credits?| by| source)?\s*[:©].{0,120}",
    r"\((?:photo|image|picture)s? (?:by|credit|courtesy)\b.{0,120}\)",
    r".{0,100}\b(?:photos?|images?)\s*(?:©|\(c\)|courtesy of|credit:).{0,80}",
    # a player's or a picture's label: "Media caption, Drone footage...", "Image source, AFP"
    r"(?:media|video|image|photo) (?:caption|source)\s*[,:]?.{0,200}",
)

#: Per-source additions (source id -> patterns), for an outlet's own phrasing.
SOURCE_LINES: dict[str, tuple[str, ...]] = {}

# A line that announces a list: the items after it are teasers too.
_LIST_LABEL = re.compile(
    rf"\[?\s*(?:{_TEASER_LABELS}|you (?:may|might) also like|(?:most|top) (?:read|popular|viewed)"
    r"(?: (?:in|on|from) .{1,40})?|trending(?: now)?|related\b.*)\s*[:.…]*\s*\]?",
    re.IGNORECASE)
# A list item: bulleted, or tagged like a tabloid teaser, short, no sentence end.
_LIST_ITEM = re.compile(r"(?:[-•–·▪*]\s+.{3,150}|.{3,160}\[[A-Z ]{3,20}\]\s*\|?)")
# After a label standing alone ("More Great WIRED Stories"), bare headlines are items too:
# short, no sentence end ("YouTubers must unionize, no matter what Google says").
_HEADLINE_ITEM = re.compile(r"[^.!?]{3,110}[^.!?:;,\s]")
_LABEL_WITH_TEXT = re.compile(r"[:|—–]\s*\S")


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
    in_list = bare_label = False
    for para in paras:
        text = para.strip()
        if in_list and len(text) <= MAX_LINE and (
                _LIST_ITEM.fullmatch(text) or (bare_label and _HEADLINE_ITEM.fullmatch(text))):
            continue
        if is_boilerplate(text, extra):
            in_list = bool(_LIST_LABEL.fullmatch(text))
            bare_label = in_list and not _LABEL_WITH_TEXT.search(text)
            continue
        in_list = False
        kept.append(para)
    return kept
