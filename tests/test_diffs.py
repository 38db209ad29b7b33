"""The edit classifier (archive/diffs.py) on crafted version pairs, and the edits read from a
real archive's versions table (archive/store/edits.py), and the date-integrity flags."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from archive.diffs import changes, edit_kinds, field_diffs, word_diff
from archive.store.edits import (
    VersionError,
    date_flags,
    kinds_between,
    recent_edits,
    version_pair,
)
from tests.conftest import MEDIAWATCH
from tests.test_alerts import NOW, store, story

if TYPE_CHECKING:
    from pathlib import Path

    from archive.store.db import Archive

PARA = "Officials said 14 people were killed in the strike near Idlib."
REST = "The ministry said the S-400 batteries were moved to the coast."


def version(title: str = "Title", lead: str = PARA, body: str = f"{PARA}\n{REST}") -> dict:
    return {"title": title, "lead": lead, "body": body}


def kinds_of(old: dict, new: dict) -> list[str]:
    return [c.kind for c in changes(old, new)]


def test_word_diff_rebuilds_both_texts() -> None:
    old, new = "Shoigu met Erdogan in Ankara.", "Belousov met Erdogan in Sochi on Monday."
    segments = word_diff(old, new)
    assert "".join(t for op, t in segments if op != "+") == old
    assert "".join(t for op, t in segments if op != "-") == new
    assert ("-", "Shoigu") in segments
    assert ("+", "Belousov") in segments


def test_one_number_edit_shows_once_though_the_lead_repeats_the_first_paragraph() -> None:
    new_para = PARA.replace("14", "16")
    found = changes(version(), version(lead=new_para, body=f"{new_para}\n{REST}"))
    assert len(found) == 1
    (change,) = found
    assert (change.kind, change.old, change.new) == ("number", "14", "16")
    assert change.fields == ["lead", "body"]
    assert change.before.endswith("Officials said")
    assert change.after.startswith("people were killed")


@pytest.mark.parametrize(("old", "new", "kind"), [
    pytest.param("Talks opened on Monday in Geneva.", "Talks opened on Tuesday in Geneva.",
                 "date", id="weekday"),
    pytest.param("The deal was signed on 2021-06-16 in Geneva.",
                 "The deal was signed on 2021-06-17 in Geneva.", "date", id="iso-date"),
    pytest.param("The army said 1,200 troops crossed.", "The army said 1,500 troops crossed.",
                 "number", id="figure"),
    pytest.param('He said the talks were "very hard and long" for all.',
                 'He said the talks were "hard but useful" for all.', "quote", id="straight"),
    pytest.param("Он сказал: «переговоры были трудными» вчера.",
                 "Он сказал: «переговоры были полезными» вчера.", "quote", id="guillemets"),
    pytest.param("The minister met Lavrov in the capital.",
                 "The minister met Peskov in the capital.", "entity", id="name"),
    pytest.param("Shoigu met the delegation in the capital.",
                 "Belousov met the delegation in the capital.", "entity", id="name-first"),
    pytest.param("The plan was called bold by the minister.",
                 "The plan was called reckless by the minister.", "text", id="wording"),
    pytest.param("The plan was bold.", "A plan was bold.", "text", id="article-first-word"),
])
def test_each_kind(old: str, new: str, kind: str) -> None:
    assert kinds_of({"body": old}, {"body": new}) == [kind]


def test_headline_and_paragraphs_added_and_removed() -> None:
    old = version(body=f"{PARA}\n{REST}\nThis is a developing story. Check back for updates.")
    new = version(title="New title", body=f"{PARA}\n{REST}\n"
                  "Separately, the navy reported two drones over the Black Sea overnight.")
    found = changes(old, new)
    assert [c.kind for c in found] == ["headline", "paragraph_removed", "paragraph_added"]
    assert found[0].old == "Title"
    assert found[0].new == "New title"
    assert found[1].old.startswith("This is a developing story")
    assert found[2].new.startswith("Separately")
    assert edit_kinds(found) == ["headline", "paragraph_added", "paragraph_removed"]


def test_unchanged_and_spacing_only_versions_have_no_changes() -> None:
    assert changes(version(), version()) == []
    assert changes({"body": "A  b c."}, {"body": "A b  c."}) == []


def test_lead_repeating_the_body_is_left_out_of_the_word_diff() -> None:
    new_para = PARA.replace("14", "16")
    fields = field_diffs(version(), version(lead=new_para, body=f"{new_para}\n{REST}"))
    assert [f.name for f in fields] == ["body"]
    different_lead = field_diffs(version(lead="A short lead."),
                                 version(lead="A shorter lead."))
    assert [f.name for f in different_lead] == ["lead"]


def test_edits_are_read_from_the_versions_table(archive: Archive) -> None:
    first = story(1, "Idlib strike", f"{PARA}\n{REST}")
    aid = store(archive, first, NOW - timedelta(hours=5))
    store(archive, story(1, "Idlib strike", f"{PARA.replace('14', '16')}\n{REST}"),
          NOW - timedelta(hours=4))
    store(archive, story(1, "Idlib strike kills 16", f"{PARA.replace('14', '16')}\n{REST}"),
          NOW - timedelta(hours=3))
    other = store(archive, story(2, "Other story", "Nothing changes."), NOW - timedelta(hours=2))
    conn = archive.db.conn
    rows = list(recent_edits(conn))
    assert [(r["id"], r["version"], r["kinds"]) for r in rows] == [
        (aid, 3, ["headline", "number"]), (aid, 2, ["number"])]
    assert [r["version"] for r in recent_edits(conn, kinds=["headline"])] == [3]
    assert [r["version"] for r in recent_edits(conn, since=NOW - timedelta(hours=3, minutes=30))
            ] == [3]
    assert list(recent_edits(conn, source="nowhere")) == []
    assert [r["version"] for r in recent_edits(conn, limit=1)] == [3]
    assert kinds_between(conn, aid, 1, 3) == ["headline", "number"]
    old, new = version_pair(conn, aid, 3, None, None)
    assert (old["version"], new["version"]) == (2, 3)
    old, new = version_pair(conn, aid, 3, 1, None)
    assert (old["version"], new["version"]) == (1, 3)
    with pytest.raises(VersionError, match="no version 9"):
        version_pair(conn, aid, 3, 1, 9)
    with pytest.raises(VersionError, match="before"):
        version_pair(conn, aid, 3, 3, 2)
    with pytest.raises(VersionError, match="one version"):
        version_pair(conn, other, 1, None, None)


def test_date_integrity_flags(archive: Archive, tmp_path: Path) -> None:
    seen = NOW - timedelta(days=2)
    honest = store(archive, story(1, "Honest", published=seen - timedelta(hours=3)), seen)
    redated = store(archive, story(2, "Redated", published=seen + timedelta(days=1)), seen)
    near = store(archive, story(3, "Clock skew", published=seen + timedelta(minutes=20)), seen)
    restamped_story = dataclasses.replace(story(4, "Restamped", published=seen), modified=seen)
    restamped = store(archive, restamped_story, seen)
    # The same text fetched a day later with a new `modified`: no version, a new date.
    store(archive, dataclasses.replace(restamped_story, modified=seen + timedelta(days=1)),
          seen + timedelta(days=1))
    edited_story = dataclasses.replace(story(5, "Edited", published=seen), modified=seen)
    edited = store(archive, edited_story, seen)
    store(archive, dataclasses.replace(edited_story, body="New text.",
                                       modified=seen + timedelta(days=1)),
          seen + timedelta(days=1))
    flags = {(f["flag"], f["id"]) for f in date_flags(archive.db.conn)}
    assert flags == {("backdated", redated), ("silent_restamp", restamped)}
    assert not {honest, near, edited} & {aid for _, aid in flags}
    assert date_flags(archive.db.conn, source="nowhere") == []
    result = subprocess.run([MEDIAWATCH, "--data", str(tmp_path / "data"), "edits", "--dates",
                             "--format", "json"], capture_output=True, text=True, timeout=60,
                            check=True)
    assert {(f["flag"], f["id"]) for f in json.loads(result.stdout)} == flags
    only = subprocess.run([MEDIAWATCH, "--data", str(tmp_path / "data"), "edits", "--dates",
                           "--flag", "backdated", "--format", "json"], capture_output=True,
                          text=True, timeout=60, check=True)
    assert [(f["flag"], f["id"]) for f in json.loads(only.stdout)] == [("backdated", redated)]
    assert [f["flag"] for f in date_flags(archive.db.conn, flags=["silent_restamp"])] == [
        "silent_restamp"]
    # `show` carries each article's flags, in JSON and as text.
    shown = archive.show(redated)
    assert shown is not None
    assert [f["flag"] for f in shown["flags"]] == ["backdated"]
    assert shown["flags"][0]["first_seen"] < shown["flags"][0]["published"]
    assert archive.show(honest)["flags"] == []  # type: ignore[index]
    text = subprocess.run([MEDIAWATCH, "--data", str(tmp_path / "data"), "show", restamped],
                          capture_output=True, text=True, timeout=60, check=True).stdout
    assert "date flag: silent_restamp" in text
