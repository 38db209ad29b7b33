"""The CLI's error edge: domain errors are one line and exit 2; a bug is one line naming the
log file that holds its traceback, and exit 1."""

from __future__ import annotations

import gzip
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive.config.files import ConfigError
from archive.store.db import Archive
from archive.store.search import QueryError
from archive.warc.reader import WarcError
from scheduler.cli import main
from scheduler.errors import NotFound, crash_log_path, is_domain_error

TODAY = datetime.now(UTC).strftime("%Y%m%d")


def run(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "sources.toml"),
                                       "--data", str(tmp_path / "data"), *args])
    return result.exit_code, result.stdout, result.stderr


def crash_log(tmp_path: Path) -> Path:
    return tmp_path / "data" / "logs" / f"mediawatch-{TODAY}.log"


# --------------------------------------------------------------------------- bugs


def test_a_bug_is_one_line_naming_the_log_with_its_traceback(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_show(self: Archive, url_or_id: str) -> None:
        raise KeyError("versions")  # an ordinary bug deep in the library

    monkeypatch.setattr(Archive, "show", broken_show)
    code, out, err = run(tmp_path, "show", "https://example.org/a")
    log = crash_log(tmp_path)
    assert code == 1
    assert out == ""
    assert err == f"mediawatch: unexpected error (KeyError: 'versions'); traceback in {log}\n"
    text = log.read_text(encoding="utf-8")
    assert "Traceback (most recent call last):" in text
    assert "in broken_show" in text
    assert "KeyError: 'versions'" in text
    assert re.search(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ pid \d+: mediawatch --config \S+ "
                     r"--data \S+ show https://example.org/a$", text, re.MULTILINE)


def test_a_second_bug_is_appended_to_the_same_log(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import archive.store.search

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("a bare ValueError is a bug, not bad input")

    monkeypatch.setattr(archive.store.search, "search_page", broken)
    for _ in range(2):
        code, _, err = run(tmp_path, "search", "Idlib")
        assert code == 1
        assert err.count("\n") == 1
        assert "ValueError: a bare ValueError is a bug, not bad input" in err
    assert crash_log(tmp_path).read_text(encoding="utf-8").count("Traceback") == 2


def test_a_bug_when_the_log_cannot_be_written_prints_the_traceback(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_show(self: Archive, url_or_id: str) -> None:
        raise LookupError("not the user's lookup")

    monkeypatch.setattr(Archive, "show", broken_show)
    (tmp_path / "data").mkdir()
    Archive(tmp_path / "data" / "archive.db").close()
    (tmp_path / "data" / "logs").write_text("a file where the log folder should be")
    code, _, err = run(tmp_path, "show", "x")
    assert code == 1
    assert "Traceback (most recent call last):" in err
    assert "in broken_show" in err
    assert err.splitlines()[-1].startswith(
        "mediawatch: unexpected error (LookupError: not the user's lookup); cannot write")


def test_a_bug_in_a_real_process(tmp_path: Path) -> None:
    """The installed entry point, in its own process: stderr has exactly one line."""
    script = ("import sys\n"
              "import archive.store.db as db\n"
              "def broken(self, url):\n"
              "    return {}['title']\n"
              "db.Archive.show = broken\n"
              "from scheduler.cli import main\n"
              "sys.argv[0] = 'mediawatch'\n"
              "main()\n")
    data = tmp_path / "data"
    (tmp_path / "buggy.py").write_text(script, encoding="utf-8")
    proc = subprocess.run([sys.executable, str(tmp_path / "buggy.py"), "--data", str(data),
                           "show", "x"],
                          capture_output=True, text=True, timeout=60, check=False)
    log = crash_log(tmp_path)
    assert proc.returncode == 1
    assert proc.stderr == f"mediawatch: unexpected error (KeyError: 'title'); traceback in {log}\n"
    assert "return {}['title']" in log.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- domain errors


def test_config_error_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "sources.toml").write_text('[[source]]\nid = "x"\nfeeds = "not a list"\n')
    code, _, err = run(tmp_path, "crawl")
    assert code == 2
    assert err.count("\n") == 1
    assert err.startswith(f"mediawatch: error: {tmp_path / 'sources.toml'}: source 'x': key")
    assert not crash_log(tmp_path).exists()


@pytest.mark.parametrize(("args", "message"), [
    pytest.param(["crawl"], "sources.toml: cannot read: No such file or directory",
                 id="missing-config"),
    pytest.param(["search", "  "], "empty search query", id="empty-query"),
    pytest.param(["search", "Idlib", "--lang", "english!"], "not a language code",
                 id="bad-language"),
    pytest.param(["show", "https://example.org/never"],
                 "no article known under 'https://example.org/never'", id="unknown-article"),
    pytest.param(["replay", "https://example.org/never"],
                 "https://example.org/never: not in the archive", id="url-never-captured"),
    pytest.param(["export", "--output", "no/such/dir/out.jsonl"],
                 "No such file or directory: 'no/such/dir/out.jsonl'", id="path"),
    pytest.param(["export", "--format", "wacz", "--output", "x.wacz"],
                 "the archive is empty", id="empty-wacz"),
], )
def test_domain_errors_are_one_line_and_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               args: list[str], message: str) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run(tmp_path, *args)
    assert code == 2, err
    assert err.count("\n") == 1
    assert err.startswith("mediawatch: error: ")
    assert message in err
    assert not crash_log(tmp_path).exists()


def test_damaged_warc_is_one_line_and_exit_2(tmp_path: Path) -> None:
    record = (b"WARC/1.1\r\nWARC-Type: response\r\nWARC-Target-URI: http://x.test/\r\n"
              b"Content-Length: 500\r\n\r\nHTTP/1.1 200 OK\r\n" + b"x" * 100)
    bad = tmp_path / "bad.warc.gz"
    bad.write_bytes(gzip.compress(record)[:-20])  # cut short, as by a full disk
    code, _, err = run(tmp_path, "extract", str(bad))
    assert code == 2
    assert err == (f"mediawatch: error: {bad.name}: record at offset 0 is truncated"
                   " (492 bytes missing)\n")


@pytest.mark.parametrize("args", [
    pytest.param(["search", "x", "--since", "last tuesday"], id="bad-date"),
    pytest.param(["replay", "https://example.org/", "--at", "2024x"], id="bad-timestamp"),
    pytest.param(["search"], id="missing-argument"),
    pytest.param(["runs", "--format", "xml"], id="bad-choice"),
])
def test_bad_input_is_a_usage_error_exit_2(tmp_path: Path, args: list[str]) -> None:
    code, _, err = run(tmp_path, *args)
    assert code == 2
    assert "Error: " in err
    assert not crash_log(tmp_path).exists()


@pytest.mark.parametrize(("exc", "domain"), [
    pytest.param(ConfigError("s.toml", "x", "feeds", "must be a list"), True, id="config"),
    pytest.param(QueryError("empty search query"), True, id="query"),
    pytest.param(WarcError("a.warc.gz: truncated"), True, id="warc"),
    pytest.param(NotFound("no article"), True, id="not-found"),
    pytest.param(FileNotFoundError(2, "No such file or directory", "x.toml"), True,
                 id="oserror-with-path"),
    pytest.param(OSError("something failed"), False, id="oserror-without-path"),
    pytest.param(ValueError("bare"), False, id="bare-valueerror"),
    pytest.param(LookupError("bare"), False, id="bare-lookuperror"),
    pytest.param(KeyError("k"), False, id="keyerror"),
    pytest.param(RuntimeError("r"), False, id="runtimeerror"),
])
def test_which_errors_are_the_users(exc: Exception, domain: bool) -> None:
    assert is_domain_error(exc) is domain


def test_crash_log_is_named_for_the_utc_day() -> None:
    assert crash_log_path(Path("d"), datetime(2026, 1, 2, 23, 30, tzinfo=UTC)) == Path(
        "d/logs/mediawatch-20260102.log")


def test_a_failed_demo_step_passes_on_its_exit_code(tmp_path: Path) -> None:
    """The demo's steps are real child processes; one that fails has said why on stderr,
    and the demo ends with its exit code."""
    from scheduler.demo import DemoStepFailed, run_step

    lines: list[str] = []
    missing = tmp_path / "missing.toml"
    with pytest.raises(DemoStepFailed) as failed:
        run_step(["--config", str(missing), "--data", str(tmp_path), "crawl"], lines.append)
    assert failed.value.exit_code == 2
    assert lines == []
    assert str(failed.value) == f"demo: `mediawatch --config {missing} --data {tmp_path} crawl`" \
                                " exited 2"


# --------------------------------------------------------------------------- SQLite


@pytest.mark.parametrize("message", ["database is locked", "disk I/O error",
                                     "database or disk is full",
                                     "attempt to write a readonly database"])
def test_sqlite_environment_errors_are_one_line_exit_2(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, message: str) -> None:
    import sqlite3

    def busy(self: Archive, url_or_id: str) -> None:
        raise sqlite3.OperationalError(message)

    monkeypatch.setattr(Archive, "show", busy)
    code, _, err = run(tmp_path, "show", "https://example.org/a")
    assert code == 2
    assert err == f"mediawatch: error: {tmp_path / 'data' / 'archive.db'}: {message}\n"
    assert not crash_log(tmp_path).exists()


def test_a_sqlite_error_in_our_own_sql_is_a_bug(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    def broken(self: Archive, url_or_id: str) -> None:
        raise sqlite3.OperationalError("no such column: titel")

    monkeypatch.setattr(Archive, "show", broken)
    code, _, err = run(tmp_path, "show", "https://example.org/a")
    assert code == 1
    assert "traceback in" in err
    assert "no such column: titel" in crash_log(tmp_path).read_text(encoding="utf-8")
