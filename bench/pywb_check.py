"""pywb replays mediawatch's WARC files from the CDXJ indexes mediawatch writes beside them.

Installs pywb from PyPI into its own virtual environment (``bench/out/pywb-venv`` by default,
shared with ``bench/replay.py``; built once, reused while it holds the pinned version), then
for the WARC files given (or, without arguments, a fresh crawl of the sample newsroom):

1. ``index``: a pywb collection whose ``archive/`` holds the WARC files and whose ``indexes/``
   holds mediawatch's own ``<name>.warc.gz.cdxj`` files, unchanged (pywb reads every
   ``*.cdxj`` there): nothing is re-indexed by pywb;
2. ``wb-manager add``: the WARC files added the ordinary way, indexed by pywb itself.

In both, every HTML page with status 200 is asked from ``wayback`` on 127.0.0.1 at its exact
capture time in ``id_`` mode (the original bytes), and must come back as that page: same
payload, its own content type, never the JSON metadata record written in the same second.
Prints a table and ends with one JSON line. Exit status 1 when a page is not replayed, 2
when pywb cannot be installed or started: ``tests/test_cdxj.py`` runs this script and fails
with its output, so a broken pywb install is loud, never a skip.

    python bench/pywb_check.py [WARC ...] [--venv DIR]
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archive.warc.cdxj import cdxj_path, write_cdxj  # noqa: E402
from archive.warc.reader import iter_responses, list_warcs  # noqa: E402

PYWB = "pywb==2.10.0"
DEFAULT_VENV = ROOT / "bench" / "out" / "pywb-venv"
COLLECTION = "mw"
START_TIMEOUT = 60.0  # pywb imports gevent and its templates; seconds, not a measurement


class PywbUnavailable(RuntimeError):
    """pywb could not be installed or did not start: the check cannot say anything."""


@dataclass(frozen=True, slots=True)
class Page:
    """One captured HTML page the replay must give back."""

    url: str
    timestamp: str
    content_type: str
    body: bytes


def ensure_pywb(venv: Path) -> Path:
    """A virtual environment with :data:`PYWB` installed; returns its ``bin`` directory.

    Kept between runs and shared with ``bench/replay.py``: an environment that already has
    the pinned version is used as it is; otherwise the pin is installed into it. pip's own
    error output is passed on when the install fails.
    """
    bindir = venv / "bin"
    if (bindir / "wayback").exists() and _installed(bindir) == PYWB.split("==")[1]:
        return bindir
    try:
        if not (bindir / "python").exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True,
                           capture_output=True, text=True)
        subprocess.run([str(bindir / "python"), "-m", "pip", "install", "--quiet",
                        "--disable-pip-version-check", PYWB],
                       check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as exc:
        raise PywbUnavailable(f"installing {PYWB} into {venv} failed:\n{exc.stderr}") from exc
    return bindir


def _installed(bindir: Path) -> str:
    result = subprocess.run([str(bindir / "python"), "-c",
                             "import importlib.metadata as m; print(m.version('pywb'))"],
                            capture_output=True, text=True, check=False)
    return result.stdout.strip()


def html_pages(warcs: list[Path]) -> list[Page]:
    """Every 200 HTML response (not revisit) in ``warcs``: what replay must serve."""
    pages = []
    for warc in warcs:
        for stored in iter_responses(warc):
            captured = stored.captured
            if stored.revisit is None and captured.status == 200 and \
                    captured.content_type == "text/html":
                pages.append(Page(captured.url, captured.fetched_at.strftime("%Y%m%d%H%M%S"),
                                  captured.content_type, captured.body))
    return pages


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.status, dict(resp.headers.items()), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers.items()), exc.read()


def _decoded(headers: dict[str, str], body: bytes) -> bytes:
    encoding = {k.lower(): v for k, v in headers.items()}.get("content-encoding", "").lower()
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    return body


class Wayback:
    """``wayback`` serving ``root`` on 127.0.0.1 until the context ends."""

    def __init__(self, bindir: Path, root: Path):
        self.bindir, self.root = bindir, root
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Wayback:
        log = open(self.root / "wayback.log", "wb")
        self.proc = subprocess.Popen(
            [str(self.bindir / "wayback"), "-b", "127.0.0.1", "-p", str(self.port),
             "-d", str(self.root)], stdout=log, stderr=subprocess.STDOUT, cwd=self.root)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.2)
        self.__exit__()
        tail = (self.root / "wayback.log").read_text(errors="replace")[-2000:]
        raise PywbUnavailable(f"wayback did not start on port {self.port}:\n{tail}")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def replay_failures(base: str, pages: list[Page]) -> list[str]:
    """What went wrong replaying ``pages`` from collection :data:`COLLECTION` (empty: all
    replayed as captured)."""
    failures = []
    for page in pages:
        status, headers, body = _get(f"{base}/{COLLECTION}/{page.timestamp}id_/{page.url}")
        ctype = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
        if status != 200:
            failures.append(f"{page.url}: HTTP {status}")
        elif not ctype.startswith(page.content_type):
            failures.append(f"{page.url}: served as {ctype!r} (the metadata record?)")
        elif _decoded(headers, body) != page.body:
            failures.append(f"{page.url}: payload differs from the WARC")
    return failures


def collection_from_cdxj(bindir: Path, root: Path, warcs: list[Path]) -> None:
    """Collection with the WARC files and mediawatch's CDXJ files as they are."""
    subprocess.run([str(bindir / "wb-manager"), "init", COLLECTION], cwd=root, check=True,
                   capture_output=True)
    coll = root / "collections" / COLLECTION
    for warc in warcs:
        index = cdxj_path(warc) if cdxj_path(warc).exists() else write_cdxj(warc)
        shutil.copy2(warc, coll / "archive" / warc.name)
        shutil.copy2(index, coll / "indexes" / index.name)


def collection_from_wb_manager(bindir: Path, root: Path, warcs: list[Path]) -> None:
    """Collection built by ``wb-manager add`` (pywb indexes the files itself)."""
    subprocess.run([str(bindir / "wb-manager"), "init", COLLECTION], cwd=root, check=True,
                   capture_output=True)
    subprocess.run([str(bindir / "wb-manager"), "add", COLLECTION, *map(str, warcs)],
                   cwd=root, check=True, capture_output=True)


def check(warcs: list[Path], venv: Path = DEFAULT_VENV) -> dict[str, object]:
    """Run both replays; the figures and failures per way of building the collection."""
    bindir = ensure_pywb(venv)
    pages = html_pages(warcs)
    result: dict[str, object] = {"pywb": PYWB, "warcs": len(warcs), "pages": len(pages)}
    for name, build in (("index", collection_from_cdxj),
                        ("wb_manager_add", collection_from_wb_manager)):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            build(bindir, root, warcs)
            with Wayback(bindir, root) as wayback:
                failures = replay_failures(wayback.base, pages)
        result[name] = {"replayed": len(pages) - len(failures), "failures": failures}
    return result


def _crawl_newsroom(work: Path) -> list[Path]:
    from scheduler.newsroom.server import Newsroom
    from scheduler.newsroom.sources import render_sources

    with Newsroom() as newsroom:
        config = work / "sources.toml"
        config.write_text(render_sources(newsroom.base_url), encoding="utf-8")
        subprocess.run([sys.executable, "-m", "scheduler.cli", "--config", str(config),
                        "--data", str(work / "data"), "crawl"], check=True,
                       stdout=subprocess.DEVNULL, cwd=ROOT)
    return list_warcs(work / "data" / "warcs")


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("warcs", nargs="*", type=Path)
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        warcs = args.warcs or _crawl_newsroom(Path(tmp))
        try:
            result = check([w.resolve() for w in warcs], args.venv)
        except PywbUnavailable as exc:
            print(f"pywb unavailable: {exc}", file=sys.stderr)
            return 2
    print(f"{'collection built from':28} {'pages':>6} {'replayed':>9}")
    ok = True
    for name, label in (("index", "mediawatch's CDXJ files"),
                        ("wb_manager_add", "wb-manager add")):
        fig = result[name]
        assert isinstance(fig, dict)
        print(f"{label:28} {result['pages']:6d} {fig['replayed']:9d}")
        for failure in fig["failures"]:
            print(f"  FAIL {failure}")
        ok = ok and not fig["failures"]
    print(json.dumps(result, sort_keys=True))
    return 0 if ok and result["pages"] else 1


if __name__ == "__main__":
    sys.exit(main())
