"""The sample newsroom's ground truth: every story it publishes and what tests may rely on.

:data:`STORY_SPECS` is the story table the pages, feeds and sitemaps are built from, so they
cannot drift from what the tests check: :data:`STORIES` (one dict per story),
:data:`NON_ARTICLES` (linked pages that must never become articles) and
:data:`ROBOTS_DISALLOWED` (linked pages that robots.txt forbids). :data:`DEMO_QUERY` and
:data:`DEMO_SHOW` are what ``mediawatch demo`` searches for and shows. Everything here is data:
fixed dates (2020-2024), nothing depends on the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

UTM = "?utm_source=rss&utm_medium=feed"


@dataclass(frozen=True, slots=True)
class Story:
    """Everything the server needs to serve one article and list it in feeds and sitemaps."""

    key: str
    source: str
    path: str
    template: str
    title: str
    language: str
    # ISO 8601 with offset; the page shows it in that offset. A bare date: the story is
    # known only by its day, everywhere (no time on the page, not in the RSS feed).
    published: str
    modified: str
    date_format: str  # strftime format of the visible date line (%B is always English)
    summary: str
    search_terms: tuple[str, ...]
    tags: tuple[str, ...] = ()
    short: str | None = None
    amp: str | None = None
    # Paths that answer 301 to the article; the short link hops through the first one.
    aliases: tuple[str, ...] = ()
    # Other published links to the story (e.g. a section page's own tracking parameters).
    extra_urls: tuple[str, ...] = ()
    charset: str = "utf-8"
    charset_in_header: bool = True
    chunked: bool = False
    slow: bool = False
    extra_headers: bool = False  # two Set-Cookie and two Link headers
    title_e2: str | None = None
    modified_e2: str | None = None
    summary_e2: str | None = None
    wire_copy_of: str | None = None
    # Where the archive must find the publication date (``published_from``) and how it must
    # read its offset (``published_zone``): the ground truth of the time-zone tests.
    published_from: str = "jsonld"
    published_zone: str | None = "offset"
    # Edition 2 for the edit and takedown tests (appended stories): the date the page then
    # claims (a re-dated, "backdated" story), how it is taken down ("gone": 410, "redirect":
    # 302 to the outlet's section page, "soft_404": a "page removed" page with 200), the body
    # of a story on a generic template (paragraphs with ``{name}`` fields) and those fields'
    # values as ``(name, edition 1, edition 2)`` (a number edit).
    published_e2: str | None = None
    removed_e2: str | None = None
    paragraphs: tuple[str, ...] = ()
    words: tuple[tuple[str, str, str], ...] = ()

    @property
    def published_at(self) -> datetime:
        """``published`` as an aware datetime (a bare day: 00:00 UTC of that day)."""
        value = datetime.fromisoformat(self.published)
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    @property
    def day_only(self) -> bool:
        """True when the story is known only by its day."""
        return len(self.published) == 10

    @property
    def published_utc(self) -> str:
        """What the archive must store as ``published``: UTC ``...Z``, or the bare day."""
        if self.day_only:
            return self.published
        return self.published_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    @property
    def changes(self) -> bool:
        return self.title_e2 is not None

    def title_for(self, edition: int) -> str:
        return self.title_e2 if edition == 2 and self.title_e2 else self.title

    def modified_for(self, edition: int) -> str:
        return self.modified_e2 if edition == 2 and self.modified_e2 else self.modified

    def summary_for(self, edition: int) -> str:
        summary = self.summary_e2 if edition == 2 and self.summary_e2 else self.summary
        return self.fill(summary, edition)

    def published_for(self, edition: int) -> str:
        return self.published_e2 if edition == 2 and self.published_e2 else self.published

    def fill(self, text: str, edition: int) -> str:
        """``text`` with the story's ``{name}`` fields set to their value in ``edition``."""
        for name, first, second in self.words:
            text = text.replace("{" + name + "}", second if edition == 2 else first)
        return text

    @property
    def in_feed(self) -> bool:
        # The Russian sister section is only in the news sitemap, not the English RSS feed.
        # A story known only by its day is left out: RSS pubDate would have to invent a time.
        return (self.source == "anatolia" or self.language == "en") and not self.day_only

    @property
    def urls(self) -> list[str]:
        urls = [self.path]
        if self.source == "northwind" and self.in_feed:
            urls.append(self.path + UTM)
        if self.amp:
            urls.append(self.amp)
        urls.extend(self.extra_urls)
        urls.extend(self.aliases)
        if self.short:
            urls.append(self.short)
        return urls


# Northwind's date line says GMT: with the selector first, it is the date used.
_NW_DATE = "%H:%M GMT%d %B %Y"
_AA_DATE = "%d.%m.%Y %H:%M"

STORY_SPECS: tuple[Story, ...] = (
    Story(
        key="s400", source="northwind", path="/northwind/2020/11/29/s400-idlib.html",
        template="northwind/s400-idlib.html",
        title="Turkish FM Says Idlib Escalation Will Not Derail S-400 Deliveries From Russia",
        language="en", published="2020-11-29T23:25:00+00:00",
        modified="2020-11-30T08:02:00+00:00", date_format=_NW_DATE, published_from="selector",
        summary="Ankara will not let the fighting in Syria's Idlib undermine its air-defence "
                "deal with Moscow, Turkey's top diplomat said on the sidelines of a security "
                "conference in Munich.",
        search_terms=("Idlib", "Munich"), tags=("S-400", "Idlib", "Syria", "Turkey", "Russia"),
        short="/s/Ab3x", amp="/northwind/amp/2020/11/29/s400-idlib.html", extra_headers=True,
    ),
    Story(
        key="summit", source="northwind", path="/northwind/2021/06/16/geneva-summit.html",
        template="northwind/geneva-summit.html",
        title="Presidents Open Geneva Summit With Low Expectations, Aides Say",
        title_e2="Geneva Summit Ends With Deal to Launch Strategic Stability Dialogue",
        language="en", published="2021-06-16T11:05:00+00:00",
        modified="2021-06-16T11:05:00+00:00", modified_e2="2021-06-16T19:48:00+00:00",
        date_format=_NW_DATE, published_from="selector",
        summary="The two leaders sat down in a lakeside villa for talks that aides on both "
                "sides said were unlikely to produce a breakthrough.",
        summary_e2="After almost four hours of talks the two presidents agreed to return "
                   "ambassadors and to start a dialogue on strategic stability.",
        search_terms=("Geneva",), tags=("Summit", "Diplomacy", "Arms Control"),
        short="/s/Gn7q",
    ),
    Story(
        key="exercise", source="northwind", path="/northwind/2021/05/10/steadfast-horizon.html",
        template="northwind/steadfast-horizon.html",
        title="NATO Launches Steadfast Horizon Drills With 24,000 Troops Near Baltic Coast",
        language="en", published="2021-05-10T14:30:00+00:00",
        modified="2021-05-10T16:12:00+00:00", date_format=_NW_DATE, published_from="selector",
        summary="The alliance's largest spring exercise in years will move troops and armour "
                "across nine countries, the Russian Defence Ministry calling it provocative.",
        search_terms=("Steadfast", "Baltic"), tags=("NATO", "Exercises", "Baltic States"),
        short="/s/Df2k", aliases=("/northwind/2021/05/10/steadfast-horizon",), chunked=True,
    ),
    Story(
        key="ru_s400", source="northwind", path="/northwind/ru/2020/11/30/s400-postavki.html",
        template="northwind/ru/s400-postavki.html",
        title="Министр обороны Турции: поставки С-400 идут по графику",
        language="ru", published="2020-11-30T13:15:00+03:00",
        modified="2020-11-30T13:15:00+03:00", date_format="%H:%M %d.%m.%Y",
        summary="Ситуация в Идлибе не повлияет на контракт по С-400, заявил министр обороны "
                "Турции.",
        search_terms=("Анкара", "Идлиб"), tags=("С-400", "Турция", "Россия"),
        short="/s/Ru4w", charset="windows-1251",
    ),
    Story(
        key="expo", source="northwind", path="/northwind/2023/02/23/defence-expo-contracts.html",
        template="northwind/defence-expo-contracts.html",
        title="Defence Expo Closes With $5.7bn in Contracts Signed, Organisers Say",
        language="en", published="2023-02-23T16:40:00+00:00",
        modified="2023-02-23T16:40:00+00:00", date_format=_NW_DATE,
        summary="Armoured vehicles, drones and air-defence radars topped the order books at "
                "the five-day show.",
        search_terms=("Expo", "drones"), tags=("Arms Trade", "Drones"),
        # No JSON-LD or meta dates: the date line, whose format says GMT.
        short="/s/Ar9m", published_from="selector",
    ),
    Story(
        key="frigate", source="northwind", path="/northwind/2023/06/14/frigate-deal.html",
        template="northwind/frigate-deal.html",
        title="Jakarta Orders Two Turkish-Built Frigates in $1.4bn Naval Deal",
        language="en", published="2023-06-14T09:12:00+00:00",
        modified="2023-06-14T10:30:00+00:00", date_format=_NW_DATE, published_from="selector",
        summary="The contract is the largest export order yet for a Turkish shipyard.",
        search_terms=("Jakarta", "frigates"), tags=("Arms Trade", "Navy", "Turkey"),
        short="/s/Fr6t",
    ),
    Story(
        key="madrid", source="northwind", path="/northwind/2022/06/29/madrid-summit.html",
        template="northwind/madrid-summit.html",
        title="NATO Leaders in Madrid Adopt New Strategic Concept, Invite Two Nordic States",
        language="en", published="2022-06-29T17:20:00+00:00",
        modified="2022-06-29T18:05:00+00:00", date_format=_NW_DATE, published_from="selector",
        summary="Alliance leaders agreed a new strategic concept and a sevenfold increase of "
                "high-readiness forces.",
        search_terms=("Madrid", "Nordic"), tags=("NATO", "Summit"),
        short="/s/Md2p", slow=True,
        extra_urls=("/northwind/2022/06/29/madrid-summit.html?utm_source=section&utm_medium=list",),
    ),
    Story(
        key="aa_tr_s400", source="anatolia",
        path="/anatolia/tr/dunya/s-400-sistemleri-nisanda-gorevde-olacak/2061234",
        template="anatolia/tr-s400.html",
        title="Savunma Bakanı: S-400 sistemleri nisan ayında tam kapasiteyle görevde olacak",
        language="tr", published="2020-12-02T11:40:00+03:00",
        modified="2020-12-02T12:05:00+03:00", date_format=_AA_DATE,
        summary="Bakan, S-400 hava savunma sistemlerinin test atışlarının başarıyla "
                "tamamlandığını söyledi.",
        search_terms=("Savunma", "teslimatı"), tags=("S-400", "Savunma", "Rusya"),
        short="/aa/tR5k", charset="iso-8859-9", charset_in_header=False,
        published_from="selector", published_zone="timezone",
    ),
    Story(
        key="aa_nato", source="anatolia",
        path="/anatolia/en/europe/nato-defence-ministers-discuss-black-sea-security/2150001",
        template="anatolia/en-nato-ministers.html",
        title="NATO defence ministers discuss Black Sea security in Brussels",
        language="en", published="2021-02-18T14:05:00+03:00",
        modified="2021-02-18T14:05:00+03:00", date_format=_AA_DATE,
        summary="Ministers agreed to step up air policing and maritime patrols in the region.",
        search_terms=("Brussels", "Black Sea"), tags=("NATO", "Black Sea"),
        short="/aa/nB7c", published_from="selector", published_zone="timezone",
    ),
    Story(
        key="aa_wire_s400", source="anatolia",
        path="/anatolia/en/politics/idlib-tension-will-not-affect-s-400-deal-says-turkish-fm/"
             "2060999",
        template="anatolia/en-wire-s400.html",
        title="Idlib tension will not affect S-400 deal, says Turkish foreign minister",
        language="en", published="2020-11-30T00:10:00+03:00",
        modified="2020-11-30T00:10:00+03:00", date_format=_AA_DATE,
        summary="Ankara's air-defence purchase from Moscow and the situation in Idlib are "
                "separate issues, the foreign minister says.",
        search_terms=("Idlib", "Munich"), tags=("S-400", "Idlib", "Turkey"),
        short="/aa/wS4d", wire_copy_of="s400", published_from="selector",
        published_zone="timezone",
    ),

    # Three desks in three offsets. The date line is local time without a zone (and the
    # source's date_format does not fit it); JSON-LD carries the offset, which wins.
    Story(
        key="delhi", source="northwind", path="/northwind/2022/09/14/delhi-air-defence-talks.html",
        template="northwind/delhi-air-defence-talks.html",
        title="India and France Agree to Study Joint Production of Air-Defence Radars",
        language="en", published="2022-09-14T21:10:00+05:30",
        modified="2022-09-14T22:45:00+05:30", date_format="%d %B %Y, %H:%M",
        summary="Two days of talks in New Delhi ended with a working group on radar "
                "components and crew training.",
        search_terms=("Delhi", "radars"), tags=("Air Defence", "India", "France"),
        short="/s/In5r",
    ),
    Story(
        key="pentagon", source="northwind",
        path="/northwind/2021/11/29/pentagon-posture-review.html",
        template="northwind/pentagon-posture-review.html",
        title="Pentagon Posture Review Favours Pacific Bases Over New Troops in Europe",
        language="en", published="2021-11-29T21:10:00-05:00",
        modified="2021-11-29T23:30:00-05:00", date_format="%B %d, %Y %I:%M %p",
        summary="The review recommends more infrastructure on Pacific islands and no large "
                "troop moves in Europe.",
        search_terms=("Pentagon", "Pacific"), tags=("Pentagon", "United States"),
        short="/s/Pn3w",
    ),
    Story(
        key="white_paper", source="northwind",
        path="/northwind/2022/03/15/defence-white-paper.html",
        template="northwind/defence-white-paper.html",
        title="Government Publishes First Defence White Paper in Six Years",
        language="en", published="2022-03-15", modified="2022-03-15",
        date_format="%d %B %Y",
        summary="The paper plans a larger reserve, faster procurement and a budget line for "
                "air defence.",
        search_terms=("white paper", "reserve"), tags=("White Paper", "Germany"),
        short="/s/Wp8h", published_from="selector", published_zone=None,
    ),

    # Edition 2's edits and takedowns (issue 11): a number edit the headline does not show
    # (the lead repeats the first paragraph, so the one figure changes in both), a story
    # re-dated to a later day, one redirected to its section page and one replaced by a
    # "page removed" page served with 200. Only a re-check finds them (their listed titles
    # stay), so crawls seconds apart see edition 1's text.
    Story(
        key="drones", source="northwind", path="/northwind/2024/03/05/drone-deliveries.html",
        template="northwind/generic.html",
        title="Army Takes Delivery of Armed Drones Ahead of Spring Exercises",
        language="en", published="2024-03-05T08:30:00+00:00",
        modified="2024-03-05T08:30:00+00:00", modified_e2="2024-03-05T15:10:00+00:00",
        date_format=_NW_DATE, published_from="selector",
        summary="The army received {drones} armed drones on Tuesday, the defence ministry "
                "said, weeks before the units that fly them join spring exercises.",
        paragraphs=(
            "The army received {drones} armed drones on Tuesday, the defence ministry said, "
            "weeks before the units that fly them join spring exercises.",
            "The aircraft were flown from the manufacturer's plant to an air base in the "
            "south, where crews trained on them over the winter.",
            "A second batch is due before the end of the year under the same contract, the "
            "ministry said, without giving its value.",
        ),
        words=(("drones", "12", "18"),),
        search_terms=("drones", "spring exercises"), tags=("Drones", "Army"),
    ),
    Story(
        key="procurement", source="northwind",
        path="/northwind/2024/03/12/procurement-chief.html",
        template="northwind/generic.html",
        title="Defence Ministry Names New Head of Procurement After Audit",
        language="en", published="2024-03-12T10:00:00+00:00",
        modified="2024-03-12T10:00:00+00:00", date_format=_NW_DATE, published_from="selector",
        summary="A former naval officer will run the agency that buys the armed forces' "
                "equipment, after an audit criticised delays.",
        paragraphs=(
            "A former naval officer will run the agency that buys the armed forces' "
            "equipment, the defence ministry said, after an audit criticised delays.",
            "The audit found that half of the large programmes were more than a year late.",
        ),
        search_terms=("audit", "naval officer"), tags=("Procurement",),
        removed_e2="redirect",
    ),
    Story(
        key="aa_border", source="anatolia",
        path="/anatolia/en/europe/border-crossing-reopens-after-talks/2160002",
        template="anatolia/generic.html",
        title="Border crossing reopens after talks between defence officials",
        language="en", published="2024-03-20T09:15:00+03:00",
        modified="2024-03-20T09:15:00+03:00", date_format=_AA_DATE,
        summary="Trucks queued for kilometres as the crossing opened again.",
        paragraphs=(
            "The crossing reopened on Wednesday after defence officials of the two "
            "countries met overnight, the governor's office said.",
            "Trucks queued for kilometres on both sides as customs resumed work.",
        ),
        search_terms=("crossing", "customs"), tags=("Border",),
        published_from="selector", published_zone="timezone", removed_e2="soft_404",
    ),
    Story(
        key="aa_redated", source="anatolia",
        path="/anatolia/en/europe/coastal-radar-network-completed/2160003",
        template="anatolia/generic.html",
        title="Coastal radar network completed, navy says",
        language="en", published="2024-04-29T10:00:00+03:00",
        published_e2="2024-06-03T10:00:00+03:00",
        modified="2024-04-29T10:00:00+03:00", date_format=_AA_DATE,
        summary="The last of eleven stations went into service on the Aegean coast.",
        paragraphs=(
            "The navy said the last of eleven coastal radar stations went into service on "
            "the Aegean coast, completing a network begun six years ago.",
            "The stations feed a common picture shared with the coast guard.",
        ),
        search_terms=("radar network", "coast guard"), tags=("Navy", "Radar"),
        published_from="selector", published_zone="timezone",
    ),
    # One event in three languages, the names in each outlet's own script and spelling
    # (README "Names in every script"): Lavrov / Лавров / Lavrov, Cavusoglu / Чавушоглу /
    # Çavuşoğlu, Shoigu / Шойгу / Şoygu, Idlib / Идлибе / İdlib'deki, with case endings.
    Story(
        key="names_en", source="northwind",
        path="/northwind/2021/03/05/lavrov-cavusoglu-talks.html",
        template="northwind/lavrov-cavusoglu-talks.html",
        title="Lavrov and Cavusoglu Discuss Idlib Ceasefire and S-400 Deliveries in Moscow",
        language="en", published="2021-03-05T16:20:00+00:00",
        modified="2021-03-05T16:20:00+00:00", date_format=_NW_DATE, published_from="selector",
        summary="The foreign ministers of Russia and Turkey met in Moscow on Friday.",
        search_terms=("Cavusoglu", "Shoigu"), tags=("Turkey", "Syria"), short="/s/Lc5v",
    ),
    Story(
        key="names_ru", source="northwind",
        path="/northwind/ru/2021/03/05/lavrov-chavushoglu.html",
        template="northwind/ru/lavrov-chavushoglu.html",
        title="Лавров и Чавушоглу обсудили Идлиб и поставки С-400",
        language="ru", published="2021-03-05T19:05:00+03:00",
        modified="2021-03-05T19:05:00+03:00", date_format="%H:%M %d.%m.%Y",
        summary="Министры иностранных дел России и Турции встретились в Москве.",
        search_terms=("Чавушоглу", "Шойгу"), tags=("Турция", "Сирия"), short="/s/Rl7c",
    ),
    Story(
        key="names_tr", source="anatolia",
        path="/anatolia/tr/dunya/cavusoglu-lavrov-ile-moskovada-gorustu/2071234",
        template="anatolia/tr-cavusoglu-lavrov.html",
        title="Çavuşoğlu, Lavrov ile Moskova'da görüştü",
        language="tr", published="2021-03-05T18:30:00+03:00",
        modified="2021-03-05T18:30:00+03:00", date_format=_AA_DATE,
        summary="İki bakan İdlib'deki ateşkesi ve S-400 teslimatlarını ele aldı.",
        search_terms=("Çavuşoğlu", "Şoygu"), tags=("Rusya", "İdlib"), short="/aa/cL9m",
        published_from="selector", published_zone="timezone",
    ),
)

STORIES: list[dict[str, Any]] = [
    {
        "key": s.key,
        "source": s.source,
        "urls": s.urls,
        "short_url": s.short,
        "canonical": s.path,
        "title": s.title,
        "title_edition2": s.title_e2,
        "language": s.language,
        "published": s.published,
        "published_utc": s.published_utc,
        "published_local": s.published if s.published_zone != "utc" else None,
        # Dates from a date line or selector give minutes; JSON-LD's give seconds.
        "published_precision": "day" if s.day_only else
        "minute" if s.published_from == "selector" else "second",
        "published_from": s.published_from,
        "published_zone": s.published_zone,
        "changes": s.changes,
        # Edition 2 (see Story): the re-dated day, how the story is taken down, and the
        # number edit a re-check finds ({name: (edition 1, edition 2)}).
        "published_edition2": s.published_e2,
        "removed_edition2": s.removed_e2,
        "words": {name: (a, b) for name, a, b in s.words},
        "search_terms": list(s.search_terms),
        "wire_copy_of": s.wire_copy_of,
    }
    for s in STORY_SPECS
]
"""Ground truth, one dict per story. ``urls`` are paths (relative to ``base_url``) the story
answers 200 under, following redirects; ``canonical`` is the main path; ``title`` is the
edition-1 title (``title_edition2`` the edition-2 one when ``changes``); ``published`` is
ISO 8601 with the publisher's offset (or a bare day), ``published_utc`` what the archive stores
(``...Z``, or the day), ``published_local``, ``published_precision``, ``published_from`` and
``published_zone`` what ``show`` must report beside it; ``wire_copy_of`` names the story a
wire copy was rewritten from (a different article, to be linked, not merged)."""

# For ``mediawatch demo``: a search that finds the S-400 story and its wire copy, and the short
# link of the story edited between editions (so ``show`` displays two versions).
DEMO_QUERY: str = "Idlib"
DEMO_SHOW: str = next(s.short for s in STORY_SPECS if s.changes and s.short)

# A "Checking your browser" interstitial served with 200, linked like an article (the page
# itself is in :mod:`scheduler.newsroom.pages`).
CHALLENGE_PATH = "/anatolia/en/world/ankara-moscow-hotline/2069001"

# Pages that are linked (or listed in a sitemap) and mostly match a ``follow`` regex, but must
# never become articles: listings, errors, redirects into a loop, junk and an oversized page.
NON_ARTICLES: list[str] = [
    "/",
    "/northwind/",
    "/northwind/military/",
    "/northwind/military/?page=2",
    "/northwind/ru/oborona/",
    "/northwind/tags/s-400/",
    "/northwind/tags/nato/",
    "/northwind/docs/community-standards.html",
    "/northwind/2021/03/02/deleted-story.html",
    "/northwind/2021/04/12/minister-interview.html",
    "/northwind/2021/04/13/ceasefire-talks.html",
    "/northwind/2021/05/05/moved-story.html",
    "/loop/a",
    "/loop/b",
    "/northwind/2021/07/07/corrupted.html",
    "/northwind/2021/08/08/live-blog.html",
    "/anatolia/",
    "/anatolia/world/",
    "/anatolia/tr/dunya/kaldirilan-haber/2061111",
    CHALLENGE_PATH,
    # Day archives (linked from every article's date line; they match the follow regex).
    *sorted({s.path.rsplit("/", 1)[0] + "/" for s in STORY_SPECS if s.source == "northwind"}),
]

# Disallowed by /robots.txt, linked from section pages and matching the sources' follow
# regexes, so a crawl that ignored robots.txt would request them.
ROBOTS_DISALLOWED: list[str] = [
    "/northwind/private/2020/12/01/s400-contract-annex.html",
    "/anatolia/tr/taslak/s-400-ikinci-parti/2069999",
]

# Tag pages: slug -> (name, description, story keys listed).
TAGS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "s-400": ("S-400", "The S-400 long-range air defence system and the deals around it.",
              ("s400", "ru_s400")),
    "nato": ("NATO", "The North Atlantic alliance: summits, exercises and enlargement.",
             ("exercise", "madrid")),
}


def stories_of(source: str) -> list[Story]:
    """The stories of one outlet, newest first: the order of its feeds, sitemaps and lists."""
    return sorted((s for s in STORY_SPECS if s.source == source),
                  key=lambda s: s.published_at, reverse=True)

