"""Replay latency: mediawatch's replay server against pywb on the same WARC files, one run.

Writes a synthetic set of news pages to a WARC with mediawatch's own writer (or takes the
WARC files given), loads them into a mediawatch data directory (``import`` + ingest) and into
a pywb collection (``wb-manager init`` + ``wb-manager add``), serves both on 127.0.0.1 (one
uvicorn process; one ``wayback`` process) and requests every page, interleaved, in two modes:

- rewritten: mediawatch ``/replay/<ts>/<url>``, pywb ``/<coll>/<ts>mp_/<url>`` (pywb's
  rewritten page without its top frame: the like-for-like answer);
- raw: ``id_`` on both.

pywb is installed from PyPI into its own virtual environment under ``bench/out/`` on first
use (``python -m venv`` + ``pip install pywb``). Prints a table and ends with one JSON line.

    python bench/replay.py [--pages 200] [--rounds 5] [--warcs FILE ...]
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archive.replay.rules import format_timestamp  # noqa: E402
from archive.store.db import Archive  # noqa: E402
from archive.warc.importer import import_files  # noqa: E402
from archive.warc.reader import iter_responses  # noqa: E402
from archive.warc.writer import Exchange, RotatingWarcWriter  # noqa: E402
from crawler.ingest import ingest_files  # noqa: E402

OUT = ROOT / "bench" / "out"
PYWB_VENV = OUT / "pywb-venv"
WORDS = ["defence", "ministry", "missile", "system", "summit", "delegation", "treaty",
         "frigate", "exercise", "sanctions", "ceasefire", "negotiations", "brigade",
         "procurement", "contract", "министр", "обороны", "переговоры"]


def make_warc(directory: Path, pages: int, seed: int = 11) -> Path:
    """``pages`` article pages of 15-30 kB (links, images, srcset, a stylesheet) plus their
    stylesheet, in one gzip WARC written by mediawatch's writer."""
    rng = random.Random(seed)
    writer = RotatingWarcWriter(directory, "bench", host="bench")
    when = datetime(2024, 5, 1, tzinfo=UTC)
    css = b"body{font:16px serif;background:url(/img/bg.png)} h1{color:#333}"
    writer.write_exchange(Exchange("http://news.bench/site.css", "GET", "/site.css", (),
                                   "HTTP/1.1", 200, "OK", (("Content-Type", "text/css"),),
                                   css, when))
    for i in range(pages):
        paras = "".join(
            "<p>" + " ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 90)))
            + f' <a href="/news/{rng.randrange(pages):05d}.html">more</a>.</p>'
            for _ in range(rng.randint(12, 24)))
        imgs = "".join(f'<img src="/img/{i}-{k}.jpg" srcset="/img/{i}-{k}.jpg 1x, '
                       f'/img/{i}-{k}@2x.jpg 2x">' for k in range(5))
        body = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Story {i}'
                '</title><link rel="stylesheet" href="/site.css"><script src="https://cdn.'
                'bench/app.js"></script></head><body><nav><a href="/">Home</a><a href="/world/">'
                f'World</a></nav><article><h1>Story {i}</h1>{imgs}{paras}</article>'
                '<form action="/search"><input name="q"></form></body></html>').encode()
        url = f"http://news.bench/news/{i:05d}.html"
        writer.write_exchange(Exchange(
            url, "GET", f"/news/{i:05d}.html", (), "HTTP/1.1", 200, "OK",
            (("Content-Type", "text/html; charset=utf-8"), ("Set-Cookie", "s=1")), body,
            when + timedelta(seconds=i)))
    writer.close()
    return writer.closed_files[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(port: int, proc: subprocess.Popen[bytes]) -> None:
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"server on port {port} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)


def ensure_pywb() -> Path:
    """The pywb virtual environment's bin directory, installing pywb on first use."""
    bin_dir = PYWB_VENV / "bin"
    if not (bin_dir / "wayback").exists():
        subprocess.run([sys.executable, "-m", "venv", str(PYWB_VENV)], check=True)
        subprocess.run([str(bin_dir / "pip"), "install", "--quiet",
                        "--disable-pip-version-check", "pywb"], check=True)
    return bin_dir


def timed_get(port: int, path: str) -> tuple[float, int, int]:
    """One GET on a fresh connection, timed until the last body byte.

    A fresh connection per request, for both servers: on a kept-alive connection pywb's
    gevent server writes the head and the body separately and Nagle's algorithm meets the
    client's delayed ACK, adding a flat 40 ms to every pywb answer: a measurement artefact,
    not pywb's replay cost.
    """
    start = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    return time.perf_counter() - start, response.status, len(body)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=200, help="synthetic pages to write")
    parser.add_argument("--rounds", type=int, default=5, help="requests per page and mode")
    parser.add_argument("--warcs", nargs="*", type=Path, default=[],
                        help="replay these WARC files instead of synthetic pages")
    args = parser.parse_args()

    work = OUT / "replay-bench"
    shutil.rmtree(work, ignore_errors=True)
    (work / "src").mkdir(parents=True)
    warcs = args.warcs or [make_warc(work / "src", args.pages)]

    data = work / "mw"
    imported = import_files(warcs, data / "warcs")
    for line in imported.errors:
        print(f"skipped: {line}", file=sys.stderr)
    with Archive(data / "archive.db") as archive:
        ingest_files(archive, imported.ready, None)
    targets = [(format_timestamp(s.captured.fetched_at), s.captured.url)
               for path in imported.ready for s in iter_responses(path)
               if s.revisit is None and s.captured.status == 200
               and "html" in s.captured.content_type]
    if not targets:
        raise SystemExit("no HTML page to replay in those files")

    bin_dir = ensure_pywb()
    pywb_dir = work / "pywb"
    pywb_dir.mkdir()
    subprocess.run([str(bin_dir / "wb-manager"), "init", "bench"], cwd=pywb_dir, check=True,
                   capture_output=True)
    subprocess.run([str(bin_dir / "wb-manager"), "add", "bench",
                    *map(str, imported.ready)], cwd=pywb_dir, check=True, capture_output=True)
    pywb_version = subprocess.run([str(bin_dir / "python"), "-c",
                                   "import pywb; print(pywb.__version__)"],
                                  capture_output=True, text=True).stdout.strip()

    mw_port, pywb_port = free_port(), free_port()
    mw = subprocess.Popen(
        [sys.executable, "-c", "import sys, uvicorn; from pathlib import Path; "
         "from archive.replay.app import create_replay_app; "
         f"uvicorn.run(create_replay_app(Path({str(data)!r})), host='127.0.0.1', "
         f"port={mw_port}, log_level='warning', access_log=False)"],
        cwd=ROOT)
    pywb = subprocess.Popen([str(bin_dir / "wayback"), "-p", str(pywb_port), "-b", "127.0.0.1"],
                            cwd=pywb_dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(mw_port, mw)
        wait_for(pywb_port, pywb)
        servers = {
            "mediawatch": (mw_port,
                           {"rewritten": "/replay/{ts}/{url}", "raw": "/replay/{ts}id_/{url}"}),
            "pywb": (pywb_port,
                     {"rewritten": "/bench/{ts}mp_/{url}", "raw": "/bench/{ts}id_/{url}"}),
        }
        times: dict[tuple[str, str], list[float]] = {}
        sizes: dict[tuple[str, str], int] = {}
        for name, (conn, modes) in servers.items():  # warm-up: imports, caches, indexes
            for mode, pattern in modes.items():
                for ts, url in targets[:5]:
                    _, status, _ = timed_get(conn, pattern.format(ts=ts, url=url))
                    if status != 200:
                        raise SystemExit(f"{name} {mode} answered {status} for {url}")
        for round_no in range(args.rounds):
            order = list(servers.items())
            if round_no % 2:
                order.reverse()  # neither server always goes first
            for ts, url in targets:
                for name, (conn, modes) in order:
                    for mode, pattern in modes.items():
                        elapsed, status, size = timed_get(conn, pattern.format(ts=ts, url=url))
                        if status != 200:
                            raise SystemExit(f"{name} {mode} answered {status} for {url}")
                        times.setdefault((name, mode), []).append(elapsed)
                        sizes[(name, mode)] = size
    finally:
        for proc in (mw, pywb):
            proc.terminate()
            proc.wait()

    figures: dict[str, object] = {"pages": len(targets), "rounds": args.rounds,
                                  "pywb_version": pywb_version,
                                  "warcs": [p.name for p in warcs]}
    print(f"{len(targets)} pages x {args.rounds} rounds, pywb {pywb_version}, "
          f"{sum(p.stat().st_size for p in warcs):,} WARC bytes\n")
    print(f"{'server':<12}{'mode':<11}{'median ms':>10}{'p95 ms':>9}{'bytes':>9}")
    for (name, mode), values in sorted(times.items()):
        med, high = statistics.median(values) * 1000, p95(values) * 1000
        figures[f"{name}_{mode}_median_ms"] = round(med, 2)
        figures[f"{name}_{mode}_p95_ms"] = round(high, 2)
        print(f"{name:<12}{mode:<11}{med:>10.2f}{high:>9.2f}{sizes[(name, mode)]:>9,}")
    print()
    for mode in ("rewritten", "raw"):
        ratio = (figures[f"mediawatch_{mode}_median_ms"]  # type: ignore[operator]
                 / figures[f"pywb_{mode}_median_ms"])
        figures[f"{mode}_median_ratio"] = round(ratio, 3)
        print(f"{mode}: mediawatch median / pywb median = {ratio:.2f} (target <= 0.5)")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
