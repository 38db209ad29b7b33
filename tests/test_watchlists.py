"""Loading and validating watchlists files (archive/config/watchlists.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive.config import (
    ConfigError,
    HealthTargets,
    SmtpSettings,
    Watchlist,
    load_watchlists,
    parse_watchlists,
)

ROOT = Path(__file__).resolve().parents[1]

FULL = """
[smtp]
host = "127.0.0.1"
port = 2525
from = "mediawatch@example.org"
starttls = false
user = "mw"
password_env = "MW_SMTP_PASSWORD"

[health]
webhook = "http://127.0.0.1:9/health"
email = "desk@example.org"

[[watchlist]]
name = "s400-deliveries"
query = 'S-400 AND deliver*'
sources = ["sputnik", "tass"]
language = "EN"
tags = ["Defence", "Russia"]
max_age_days = 3
webhook = "https://hooks.example.org/s400"
email = "analyst@example.org"

[[watchlist]]
name = "nato-summit"
query = "NATO summit"
"""


def test_full_file() -> None:
    loaded = parse_watchlists(FULL, "w.toml")
    assert loaded.configured
    assert len(loaded) == 2
    assert loaded.get("s400-deliveries") == Watchlist(
        name="s400-deliveries", query="S-400 AND deliver*", match='"S-400" AND "deliver"*',
        sources=("sputnik", "tass"), language="en", tags=("Defence", "Russia"),
        max_age_days=3, webhook="https://hooks.example.org/s400", email="analyst@example.org")
    assert loaded.get("nato-summit").sources == ()
    assert loaded.get("nato-summit").max_age_days == 7
    assert loaded.smtp == SmtpSettings(host="127.0.0.1", sender="mediawatch@example.org",
                                       port=2525, starttls=False, user="mw",
                                       password_env="MW_SMTP_PASSWORD")
    assert loaded.health == HealthTargets(webhook="http://127.0.0.1:9/health",
                                          email="desk@example.org")


def test_shipped_example_is_valid() -> None:
    loaded = load_watchlists(ROOT / "config" / "watchlists.toml", required=True)
    assert len(loaded) >= 3
    assert "s400-deliveries" in [w.name for w in loaded]


def test_missing_default_file_means_no_watchlists(tmp_path: Path) -> None:
    loaded = load_watchlists(tmp_path / "absent.toml")
    assert not loaded.configured
    assert len(loaded) == 0


def test_missing_named_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"absent\.toml: no such file"):
        load_watchlists(tmp_path / "absent.toml", required=True)


def test_unknown_watchlist_name() -> None:
    with pytest.raises(ConfigError, match=r"watchlist 'nope': unknown watchlist \(known: "
                                             r"s400-deliveries, nato-summit\)"):
        parse_watchlists(FULL, "w.toml").get("nope")


GOOD = '[[watchlist]]\nname = "w"\nquery = "NATO"\n'


@pytest.mark.parametrize(("text", "message"), [
    pytest.param(GOOD + 'sourcez = ["x"]\n',
                 "w.toml: watchlist 'w': key 'sourcez': unknown key (allowed: edits, email,"
                 " exact, language, max_age_days, name, query, sources, tags, webhook)",
                 id="unknown-key"),
    pytest.param(GOOD + 'edits = ["headline", "number"]\n', None, id="edit-kinds"),
    pytest.param(GOOD + 'exact = "yes"\n', "w.toml: watchlist 'w': key 'exact': must be true "
                 "or false: 'yes'", id="exact-not-a-bool"),
    pytest.param(GOOD + "exact = true\n", None, id="exact"),
    pytest.param(GOOD + 'edits = ["headlines"]\n',
                 "w.toml: watchlist 'w': key 'edits': not an edit kind: 'headlines' (one of"
                 " headline, date,", id="bad-edit-kind"),
    pytest.param(GOOD + 'max_age_days = -1\n',
                 "w.toml: watchlist 'w': key 'max_age_days': must be a whole number",
                 id="negative-max-age"),
    pytest.param(GOOD + 'max_age_days = "7d"\n',
                 "w.toml: watchlist 'w': key 'max_age_days': must be a whole number",
                 id="max-age-as-text"),
    pytest.param('[[watchlist]]\nquery = "NATO"\n',
                 "w.toml: watchlist '#1': key 'name': required", id="missing-name"),
    pytest.param('[[watchlist]]\nname = "Bad Name"\nquery = "NATO"\n',
                 "w.toml: watchlist 'Bad Name': key 'name': required", id="bad-name"),
    pytest.param('[[watchlist]]\nname = "_health"\nquery = "NATO"\n',
                 "w.toml: watchlist '_health': key 'name'", id="reserved-name"),
    pytest.param(GOOD + GOOD, "w.toml: watchlist 'w': key 'name': duplicate watchlist name",
                 id="duplicate-name"),
    pytest.param('[[watchlist]]\nname = "w"\n',
                 "w.toml: watchlist 'w': key 'query': required", id="missing-query"),
    pytest.param('[[watchlist]]\nname = "w"\nquery = "((( *"\n',
                 "w.toml: watchlist 'w': key 'query': nothing to search for", id="empty-query"),
    pytest.param(GOOD + 'sources = "sputnik"\n', None, id="source-as-string-is-fine"),
    pytest.param(GOOD + 'sources = [1]\n',
                 "w.toml: watchlist 'w': key 'sources': must be a list", id="bad-sources"),
    pytest.param(GOOD + 'sources = ["Sputnik News"]\n',
                 "w.toml: watchlist 'w': key 'sources': not a source id", id="bad-source-id"),
    pytest.param(GOOD + 'language = "english"\n',
                 "w.toml: watchlist 'w': key 'language': not a language code",
                 id="bad-language"),
    pytest.param(GOOD + 'tags = "x"\nwebhook = "ftp://x.org/hook"\n',
                 "w.toml: watchlist 'w': key 'webhook': not an http(s) URL", id="bad-webhook"),
    pytest.param(GOOD + 'email = "not-an-address"\n',
                 "w.toml: watchlist 'w': key 'email': not an e-mail address", id="bad-email"),
    pytest.param(GOOD + 'email = "a@example.org"\n',
                 "w.toml: watchlist 'w': key 'email': e-mail delivery needs an [smtp] table",
                 id="email-without-smtp"),
    pytest.param('[health]\nemail = "a@example.org"\n',
                 "w.toml: key 'email': e-mail delivery needs an [smtp] table",
                 id="health-email-without-smtp"),
    pytest.param('[smtp]\nhost = "h"\nfrom = "a@example.org"\nport = 0\n',
                 "w.toml: key 'smtp.port': not a port number", id="bad-smtp-port"),
    pytest.param('[smtp]\nhost = "h"\n', "w.toml: key 'smtp.from': required",
                 id="smtp-without-from"),
    pytest.param('[smtp]\nhost = "h"\nfrom = "a@example.org"\npassword = "x"\n',
                 "w.toml: key 'smtp.password': unknown key", id="smtp-password-inline"),
    pytest.param('[health]\nslack = "x"\n', "w.toml: key 'health.slack': unknown key",
                 id="unknown-health-key"),
    pytest.param('[alerts]\n', "w.toml: key 'alerts': unknown key", id="unknown-table"),
    pytest.param('watchlist = "x"\n', "w.toml: key 'watchlist': must be an array of tables",
                 id="watchlist-not-tables"),
    pytest.param('[[watchlist]\n', "w.toml: invalid TOML", id="bad-toml"),
])
def test_validation(text: str, message: str | None) -> None:
    if message is None:
        assert len(parse_watchlists(text, "w.toml")) == 1
        return
    with pytest.raises(ConfigError) as info:
        parse_watchlists(text, "w.toml")
    assert str(info.value).startswith(message)
