"""``kill -9`` at every stage of a real crawl, then what a user runs next: nothing is lost.

Each case runs ``mediawatch crawl`` on the sample newsroom with ``MEDIAWATCH_TEST_STOP_AT``
(:mod:`archive.faults`) naming one stage; the crawl stops itself (SIGSTOP) when it gets
there, the test sees it with ``waitpid(WUNTRACED)`` (no sleeping) and sends SIGKILL. Then the
next ``mediawatch crawl`` (or, separately, ``mediawatch ingest``) runs, and the final
``mediawatch export --format jsonl`` must equal an uninterrupted crawl's, capture times
aside (ids, URLs, titles, texts, versions: everything else is compared).

The stages, in the order a crawl reaches them (the docstring of :mod:`archive.faults` says
where each stop sits): fetching (``fetched:8``: eight exchanges in the ``.open`` file;
``mid-exchange:8``: the eighth response record written, its request and metadata records
not), closing (``closing``: the last record written and the file closed, not renamed;
``closed``: renamed, no CDXJ index yet), indexing (``indexing``: the index written to its
temporary name; ``indexed``: every file indexed, the ingest not begun), loading
(``MEDIAWATCH_TEST_INGEST_STOP_AFTER=3``: three records committed), after loading
(``loaded``: the ingest committed, the listing state not saved; ``state-saved``: the run's
row not completed).

The crawl killed is ``mediawatch crawl northwind``, once per stage for the module; each case
works on a copy of what it left. The crawl variant runs the next ``mediawatch crawl
northwind``; the ingest variant, for the stages at which the file has its final name, runs
only ``mediawatch ingest``. At ``closing-before-rename`` the whole newsroom is crawled (two
sources in one process: the first to close its file stops the crawl while the other is
mid-fetch) and crawled again. Last, the service killed together with its crawl (each
process group at once, as a cgroup kill does) and a crawl restarted by hand.

``mid-exchange`` is what any crash while fetching leaves: a large response record goes to
disk at once, the small request and metadata records after it wait in the file's buffer and
die with the process. Recovery keeps that response (a complete record) without its metadata,
so it is loaded as a plain capture, not an article; the next crawl fetches the page again,
and because the recovered file is loaded only when that crawl closes, the new answer is a
full record (no revisit of the orphan) and becomes the article.

The newsroom is crawled at its configured concurrency: the archive does not depend on the
order a crawl fetched a story's renderings in (:mod:`archive.store.identity`), so an
uninterrupted crawl is reproducible without serialising the requests.

Besides the export, every case checks what the next run must leave: no ``.open`` file, every
closed WARC completely loaded in the ingest ledger, and its CDXJ index beside it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from archive.faults import INGEST_STOP_AFTER, STOP_AT
from archive.store.runowner import start_token
from archive.warc.cdxj import cdxj_lines, cdxj_path
from archive.warc.reader import list_warcs
from scheduler.newsroom.server import Newsroom
from scheduler.newsroom.sources import render_sources
from tests.conftest import MEDIAWATCH
from tests.test_interrupted_runs import spawn_service
from tests.test_service import newsroom_sources, wait_until

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

# Capture times, and where the capture landed (export provenance: which file, at which
# offset, replayed at which time): a re-run writes other files with other record ids.
TIMES = ("first_seen", "last_seen", "capture_time", "warc_file", "warc_offset", "replay_url")

# id -> the environment that stops the crawl there.
STAGES: dict[str, dict[str, str]] = {
    "fetching": {STOP_AT: "fetched:8"},
    "fetching-mid-exchange": {STOP_AT: "mid-exchange:8"},
    "closing-before-rename": {STOP_AT: "closing"},
    "closing-after-rename": {STOP_AT: "closed"},
    "indexing": {STOP_AT: "indexing"},
    "indexed-before-ingest": {STOP_AT: "indexed"},
    "loading": {INGEST_STOP_AFTER: "3"},
    "loaded-before-state": {STOP_AT: "loaded"},
    "state-saved-before-run-row": {STOP_AT: "state-saved"},
}
# The crawl killed: northwind alone, except at closing-before-rename: both sources in one
# process, so the first to close its file stops the crawl while the other is mid-fetch.
BOTH = ("closing-before-rename",)
# Stages at which the killed crawl's WARC file already has its final name.
CLOSED = ("closing-after-rename", "indexing", "indexed-before-ingest", "loading",
          "loaded-before-state", "state-saved-before-run-row")


def cli(config: Path, data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``mediawatch`` to completion; exit 0 is asserted."""
    result = subprocess.run([MEDIAWATCH, "--config", str(config), "--data", str(data), *args],
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    return result


def killed_at(config: Path, data: Path, stop: dict[str, str], *args: str) -> None:
    """Run ``mediawatch *args`` until it stops itself at the stage ``stop`` names, then
    ``kill -9`` it."""
    proc = subprocess.Popen(
        [MEDIAWATCH, "--config", str(config), "--data", str(data), *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, **stop, "MEDIAWATCH_PARSE_WORKERS": "1"})
    try:
        _, status = os.waitpid(proc.pid, os.WUNTRACED)
        assert os.WIFSTOPPED(status), f"{args} ended before {stop}: status {status}"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL


def export(config: Path, data: Path) -> list[dict[str, Any]]:
    """``mediawatch export --format jsonl`` without the capture times, in id order."""
    out = cli(config, data, "export", "--format", "jsonl").stdout
    rows = [{k: v for k, v in json.loads(line).items() if k not in TIMES}
            for line in out.splitlines()]
    return sorted(rows, key=lambda row: str(row["id"]))


def assert_all_loaded(data: Path) -> None:
    """No ``.open`` or temporary file; every closed WARC completely in the ledger, with its
    index (the very lines ``cdxj-indexer`` gives)."""
    warcs = data / "warcs"
    assert not list(warcs.glob("*.open"))
    assert not list(warcs.glob("*.tmp"))
    closed = [p.name for p in list_warcs(warcs)]
    conn = sqlite3.connect(f"file:{data / 'archive.db'}?mode=ro", uri=True)
    try:
        complete = {name for name, done in
                    conn.execute("SELECT name, complete FROM warc_files") if done}
    finally:
        conn.close()
    assert set(closed) <= complete, set(closed) - complete
    missing = [name for name in closed if not cdxj_path(warcs / name).is_file()]
    assert not missing, f"no CDXJ index beside {missing}"
    for name in closed:
        assert cdxj_path(warcs / name).read_text() == "".join(cdxj_lines(warcs / name))


class Rig:
    """The newsroom serving, its sources file, and one uninterrupted crawl's export per
    argument list (made on first use)."""

    def __init__(self, config: Path, work: Path):
        self.config = config
        self.work = work
        self._exports: dict[tuple[str, ...], list[dict[str, Any]]] = {}

    def reference(self, *args: str) -> list[dict[str, Any]]:
        """The export after an uninterrupted ``mediawatch *args``."""
        if args not in self._exports:
            data = self.work / ("reference-" + "-".join(args))
            cli(self.config, data, *args)
            self._exports[args] = export(self.config, data)
            assert self._exports[args], "the uninterrupted crawl archived nothing"
        return self._exports[args]


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    work = tmp_path_factory.mktemp("faults")
    with Newsroom(slow_seconds=0.05) as server:
        config = work / "sources.toml"
        config.write_text(render_sources(server.base_url), encoding="utf-8")
        yield Rig(config, work)


def crawl_args(stage: str) -> tuple[str, ...]:
    """The crawl killed at ``stage`` (see :data:`BOTH`), and the one run next."""
    return ("crawl",) if stage in BOTH else ("crawl", "northwind")


@pytest.fixture(scope="module")
def killed(rig: Rig) -> Callable[[str], Path]:
    """``killed(stage)``: the data directory ``mediawatch crawl northwind`` left when killed
    at ``stage`` (killed once per module; tests work on copies)."""
    done: dict[str, Path] = {}

    def at(stage: str) -> Path:
        if stage not in done:
            data = rig.work / f"killed-{stage}" / "data"
            killed_at(rig.config, data, STAGES[stage], *crawl_args(stage))
            done[stage] = data
        return done[stage]

    return at


def copy_of(data: Path, tmp_path: Path) -> Path:
    """A copy of a killed crawl's data directory (nothing has it open any more)."""
    return Path(shutil.copytree(data, tmp_path / "data"))


@pytest.mark.parametrize("stage", list(STAGES))
def test_crawl_killed_then_next_crawl_loses_nothing(rig: Rig, killed: Callable[[str], Path],
                                                    tmp_path: Path, stage: str) -> None:
    data = copy_of(killed(stage), tmp_path)
    if stage not in CLOSED:
        assert list((data / "warcs").glob("*.open"))  # the kill landed before the rename
    cli(rig.config, data, *crawl_args(stage))
    got, want = export(rig.config, data), rig.reference(*crawl_args(stage))
    assert got == want, _diff(got, want)
    assert_all_loaded(data)


@pytest.mark.parametrize("stage", CLOSED)
def test_crawl_killed_then_ingest_loses_nothing(rig: Rig, killed: Callable[[str], Path],
                                                tmp_path: Path, stage: str) -> None:
    data = copy_of(killed(stage), tmp_path)
    cli(rig.config, data, "ingest")
    got, want = export(rig.config, data), rig.reference("crawl", "northwind")
    assert got == want, _diff(got, want)
    assert_all_loaded(data)


def test_service_killed_with_its_crawl_then_a_crawl_loses_nothing(rig: Rig,
                                                                  tmp_path: Path) -> None:
    data, config, out = tmp_path / "data", tmp_path / "sources.toml", tmp_path / "service.out"
    base = re.search(r"http://127\.0\.0\.1:\d+", rig.config.read_text())
    assert base is not None
    config.write_text(newsroom_sources(base.group(0), {"northwind": "every 1h"}))
    os.environ[STOP_AT] = "fetched:8"  # inherited by the service and its crawl
    try:
        proc = spawn_service(config, data, out)
    finally:
        del os.environ[STOP_AT]
    crawl_pid = 0
    try:
        def crawl_stopped() -> bool:
            nonlocal crawl_pid
            match = re.search(r"northwind: crawl started \(pid (\d+)\)", out.read_text())
            if match is None:
                return False
            crawl_pid = int(match.group(1))
            with open(f"/proc/{crawl_pid}/stat") as stat:  # state follows "(comm)"
                return stat.read().rpartition(")")[2].split()[0] == "T"

        wait_until(crawl_stopped, "the service's crawl to stop at fetched:8", out)
        # The crawl runs in a session of its own: kill both groups, back to back.
        os.killpg(proc.pid, signal.SIGKILL)
        os.killpg(crawl_pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    wait_until(lambda: start_token(crawl_pid) is None, "the crawl to be gone")
    assert list((data / "warcs").glob("northwind-*.open"))  # killed while fetching
    cli(config, data, "crawl", "northwind")
    assert export(config, data) == rig.reference("crawl", "northwind")
    assert_all_loaded(data)



def _diff(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> str:  # pragma: no cover
    g, w = {r["id"]: r for r in got}, {r["id"]: r for r in want}
    lines = [f"missing {i} {w[i]['url']}" for i in w.keys() - g.keys()]
    lines += [f"extra {i} {g[i]['url']}" for i in g.keys() - w.keys()]
    lines += [f"{i} {k}: {g[i].get(k)!r:.200} != {w[i].get(k)!r:.200}"
              for i in g.keys() & w.keys() for k in w[i] if g[i].get(k) != w[i].get(k)]
    return "\n".join(lines)
