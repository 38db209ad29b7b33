"""The archive-wide writer lock: ``reindex`` and crawls never lose each other's work.

End to end with real ``mediawatch`` processes on the sample newsroom (127.0.0.1):

* a reindex run while a crawl is fetching (the crawl is held on the newsroom's slow page):
  the crawl's articles and its ``ok`` run row are in the archive afterwards;
* a crawl started while a reindex is loading (the reindex is held with the ingest test hook,
  SIGSTOP after its first batch): the crawl waits for it, says so in its log, then loads;
* a WARC file closed while a reindex runs (as a cluster worker or a copy adds one) is
  caught up before the swap;
* ``reindex --no-wait`` refuses with one line while a writer has the archive open, and
  ``reindex`` waits for it.

Each compares ``mediawatch export`` with an uninterrupted crawl's (capture times aside).
Below, the lock itself: shared holders coexist, an exclusive one waits for them, a waiting
exclusive holder keeps newcomers out (no starvation), re-entrance, and a forked child that
drops its inherited copy.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

import pytest

from archive.store.db import Archive
from archive.store.writerlock import ArchiveBusy, close_inherited, writer_lock
from crawler.ingest import STOP_HOOK
from scheduler.newsroom.server import Newsroom
from scheduler.newsroom.sources import render_sources
from tests.conftest import MEDIAWATCH
from tests.test_ingest_ledger import cli, export, without_clusters
from tests.test_service import logged_runs, wait_until

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

SLOW_PAGE = "madrid-summit.html"


@pytest.fixture(scope="module")
def newsroom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Newsroom, Path, Path]]:
    """The newsroom (its slow page slow), its sources file and an uninterrupted crawl."""
    work = tmp_path_factory.mktemp("writer-lock")
    with Newsroom(slow_seconds=3.0) as server:
        config = work / "sources.toml"
        config.write_text(render_sources(server.base_url), encoding="utf-8")
        cli(config, work / "reference", "crawl", "northwind")
        yield server, config, work / "reference"


def spawn(config: Path, data: Path, *args: str, env: dict[str, str] | None = None,
          ) -> subprocess.Popen[str]:
    """``mediawatch *args`` running in the background (output captured)."""
    return subprocess.Popen([MEDIAWATCH, "--config", str(config), "--data", str(data), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "MEDIAWATCH_PARSE_WORKERS": "1", **(env or {})})


def finish(proc: subprocess.Popen[str]) -> str:
    """Wait for ``proc``; its stderr; it must have succeeded."""
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    return err


def stopped_reindex(config: Path, data: Path) -> subprocess.Popen[str]:
    """A ``reindex`` stopped by the ingest test hook after its first committed batch."""
    proc = spawn(config, data, "reindex", env={STOP_HOOK: "3"})
    _, status = os.waitpid(proc.pid, os.WUNTRACED)
    assert os.WIFSTOPPED(status), f"reindex ended before loading: status {status}"
    return proc


def northwind(config: Path, data: Path) -> list[dict[str, Any]]:
    """The exported articles of the source the tests crawl last (and check), to compare
    with an archive of that source alone (:func:`alone`)."""
    articles = without_clusters([a for a in export(config, data)
                                 if a["source"] == "northwind"])
    assert articles
    return articles


def alone(config: Path, data: Path) -> list[dict[str, Any]]:
    """The export of the archive of northwind alone, as :func:`northwind` compares it."""
    return without_clusters(export(config, data))


def test_reindex_during_a_crawl_keeps_the_crawls_articles(
        newsroom: tuple[Newsroom, Path, Path], tmp_path: Path) -> None:
    server, config, reference = newsroom
    data = tmp_path / "data"
    cli(config, data, "crawl", "anatolia")  # something for reindex to rebuild
    hits = len(server.hits)
    crawl = spawn(config, data, "crawl", "northwind")
    wait_until(lambda: any(SLOW_PAGE in path for _, path in server.hits[hits:]),
               "the crawl to reach the slow page")
    assert crawl.poll() is None
    cli(config, data, "reindex")  # while the crawl waits for the slow page
    finish(crawl)
    assert northwind(config, data) == alone(config, reference)
    [run] = logged_runs(data, "northwind")
    assert run["status"] == "ok"
    assert run["new"] == len(export(config, reference))


def test_a_crawl_started_during_a_reindex_waits_for_it(
        newsroom: tuple[Newsroom, Path, Path], tmp_path: Path) -> None:
    _, config, reference = newsroom
    data = tmp_path / "data"
    cli(config, data, "crawl", "anatolia")
    reindex = stopped_reindex(config, data)
    crawl = spawn(config, data, "crawl", "northwind")
    try:
        logs = data / "logs"
        wait_until(lambda: any("being rebuilt by mediawatch reindex" in p.read_text()
                               for p in logs.glob("*.log")), "the crawl to wait")
        assert crawl.poll() is None
    finally:
        os.kill(reindex.pid, signal.SIGCONT)
    finish(reindex)
    finish(crawl)
    assert northwind(config, data) == alone(config, reference)
    assert [r["status"] for r in logged_runs(data)] == ["ok", "ok"]


def test_reindex_catches_up_a_file_closed_while_it_ran(
        newsroom: tuple[Newsroom, Path, Path], tmp_path: Path) -> None:
    _, config, reference = newsroom
    data, other = tmp_path / "data", tmp_path / "other"
    cli(config, data, "crawl", "anatolia")
    cli(config, other, "crawl", "northwind")  # its closed files, as a worker leaves them
    reindex = stopped_reindex(config, data)
    try:
        for path in (other / "warcs").glob("*.warc.gz"):  # closed files only
            shutil.copy(path, data / "warcs" / path.name)
    finally:
        os.kill(reindex.pid, signal.SIGCONT)
    finish(reindex)
    assert northwind(config, data) == alone(config, reference)


def test_reindex_no_wait_refuses_while_a_writer_is_open_and_waits_without(
        newsroom: tuple[Newsroom, Path, Path], tmp_path: Path) -> None:
    _, config, reference = newsroom
    data = tmp_path / "data"
    cli(config, data, "crawl", "northwind")
    writer = Archive(data / "archive.db")  # a writer holding the archive open
    try:
        refused = cli(config, data, "reindex", "--no-wait", check=False)
        assert refused.returncode == 2
        [line] = refused.stderr.strip().splitlines()
        assert "being written by a crawl or an ingest" in line
        waiting = spawn(config, data, "reindex")
        assert "waiting for the crawls and ingests" in read_line(waiting.stderr)
        assert waiting.poll() is None
    finally:
        writer.close()
    finish(waiting)
    assert export(config, data) == export(config, reference)


def read_line(stream: IO[str] | None, timeout: float = 60.0) -> str:
    """The next line of ``stream``, failing after ``timeout`` seconds without one."""
    assert stream is not None
    ready, _, _ = select.select([stream], [], [], timeout)
    assert ready, f"no line within {timeout} s"
    return stream.readline()


# -- the lock itself ----------------------------------------------------------------------

HOLD = """
import sys
from archive.store.writerlock import writer_lock
with writer_lock(sys.argv[1], exclusive=sys.argv[2] == "x"):
    print("held", flush=True)
    sys.stdin.read()
"""


Holder = Callable[[str], "subprocess.Popen[str]"]


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[Holder]:
    """Start processes that hold the lock of ``tmp_path/archive.db`` (``s``: shared, ``x``:
    exclusive) until released."""
    procs: list[subprocess.Popen[str]] = []

    def hold(mode: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path / "archive.db"), mode],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        procs.append(proc)
        return proc
    yield hold
    for proc in procs:
        proc.kill()
        proc.wait()


def held(proc: subprocess.Popen[str]) -> None:
    assert read_line(proc.stdout) == "held\n"


def release(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.close()
    assert proc.wait(timeout=30) == 0


def test_shared_holders_coexist_and_exclude_the_replacer(tmp_path: Path, holder: Holder) -> None:
    db = tmp_path / "archive.db"
    first, second = holder("s"), holder("s")
    held(first)
    held(second)
    with pytest.raises(ArchiveBusy), writer_lock(db, exclusive=True, wait=False):
        pass
    release(first)
    release(second)
    with writer_lock(db, exclusive=True, wait=False):
        pass


def test_a_waiting_replacer_keeps_new_writers_out(tmp_path: Path, holder: Holder) -> None:
    db = tmp_path / "archive.db"
    reader = holder("s")
    held(reader)
    replacer = holder("x")  # waits for the reader, holding the gate
    wait_until(lambda: _gate_taken(db), "the replacer to take the gate")
    with pytest.raises(ArchiveBusy), writer_lock(db, wait=False):
        pass  # a newcomer may not slip in ahead of it
    release(reader)
    held(replacer)
    release(replacer)
    with writer_lock(db, wait=False):
        pass


def _gate_taken(db: Path) -> bool:
    import fcntl

    fd = os.open(db.parent / ".writer-gate", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def test_reentrant_in_one_process_and_no_upgrade(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    with writer_lock(db, exclusive=True), writer_lock(db), writer_lock(db, exclusive=True):
        pass
    with writer_lock(db), pytest.raises(RuntimeError, match="cannot upgrade"), \
            writer_lock(db, exclusive=True):
        pass


def test_a_forked_child_drops_its_copy(tmp_path: Path, holder: Holder) -> None:
    db = tmp_path / "archive.db"
    with writer_lock(db):
        pid = os.fork()
        if pid == 0:  # the child outlives its parent's hold on the lock
            close_inherited()
            signal.pause()
            os._exit(0)
    try:
        replacer = holder("x")
        held(replacer)  # the parent let go and the child's copy was closed
        release(replacer)
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
