"""Cluster throughput: pages per second with 1, 2 and 3 crawl workers, and the ingest's
records per second, on one machine against a local site with per-page latency.

Serves ``--sources`` small news sites on 127.0.0.1 (an RSS feed of ``--articles``
articles each; every page answers after ``--latency`` seconds, as a distant server does),
starts a ``redis-server`` on a free port, and for N = 1, 2, 3 runs N ``mediawatch worker``
processes against it, enqueues every source (``crawl --cluster``) and times the crawl
from the enqueue until the last job finished: pages/s, and the ratio to one worker (the
baseline, measured in the same run). Crawling waits on the network, so workers add speed
even on two cores: each worker's crawl holds its own per-domain politeness. Then
``mediawatch ingest`` loads the WARC files the 3-worker round wrote: records/s.

Prints a table and ends with one JSON line of the figures.

    python bench/cluster.py [--sources 6] [--articles 20] [--latency 1.0]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ENV = {**{k: v for k, v in os.environ.items() if k != "MEDIAWATCH_REDIS_URL"},
       "MEDIAWATCH_ALLOW_PRIVATE": "1"}


def site_handler(latency: float, articles: int) -> type[BaseHTTPRequestHandler]:
    """A news site per ``/s<n>/`` prefix: ``feed.xml`` and ``a<k>.html``, each page slow."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            parts = self.path.strip("/").split("/")
            time.sleep(latency)
            if len(parts) == 2 and parts[1] == "feed.xml":
                base = f"http://{self.headers['Host']}/{parts[0]}"
                items = "".join(
                    f"<item><title>Story {k} of {parts[0]}</title><link>{base}/a{k}.html</link>"
                    f"<pubDate>Mon, 0{1 + k % 9} Mar 2021 10:00:00 GMT</pubDate></item>"
                    for k in range(articles))
                self._send(f'<?xml version="1.0"?><rss version="2.0"><channel><title>'
                           f"{parts[0]}</title>{items}</channel></rss>", "application/rss+xml")
            elif len(parts) == 2 and parts[1].startswith("a") and parts[1].endswith(".html"):
                title = f"Defence ministers meet, story {parts[1]} of {parts[0]}"
                body = "".join(f"<p>Paragraph {i}: the ministers discussed air defence, "
                               f"supply lines and the next summit of {parts[0]}.</p>"
                               for i in range(12))
                self._send(f"<html><head><title>{title}</title></head><body><article>"
                           f"<h1>{title}</h1><time datetime='2021-03-01T10:00:00Z'>"
                           f"1 March 2021</time>{body}</article></body></html>",
                           "text/html; charset=utf-8")
            else:
                self._send("not here", "text/plain", 404)

        def _send(self, text: str, ctype: str, status: int = 200) -> None:
            body = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def sources_toml(base: str, sources: int, redis_url: str) -> str:
    """The sites as sources, with the cluster switched on."""
    head = (f'[crawl]\nallow_private = true\ndelay = 0.0\nconcurrency = 8\n'
            f'per_domain_concurrency = 2\nrequisites = false\ntimeout = 10.0\n\n'
            f'[cluster]\nredis_url = "{redis_url}"\nlease = "10s"\n')
    return head + "".join(
        f'\n[[source]]\nid = "s{n}"\nname = "Site {n}"\nfeeds = ["{base}/s{n}/feed.xml"]\n'
        f'follow = [\'/s{n}/a\\\\d+\\\\.html$\']\nallowed_domains = ["127.0.0.1"]\n'
        for n in range(sources))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli(config: Path, data: Path, *args: str) -> str:
    return subprocess.run([sys.executable, "-m", "scheduler.cli", "--config", str(config),
                           "--data", str(data), *args], check=True, capture_output=True,
                          text=True, cwd=ROOT, env=ENV).stdout


def round_with(workers: int, config: Path, work: Path, redis_url: str) -> dict[str, Any]:
    """N workers crawl every source once; pages, seconds."""
    from redis import Redis
    from rq import Queue, Worker
    from rq.job import Job

    redis = Redis.from_url(redis_url)
    redis.flushall()
    archive = work / f"archive-{workers}"
    procs = [subprocess.Popen([sys.executable, "-m", "scheduler.cli", "--config", str(config),
                               "--data", str(work / f"w{workers}-{n}"), "worker", "--warcs",
                               str(archive / "warcs")], cwd=ROOT, env=ENV,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for n in range(workers)]
    try:
        queue = Queue("mediawatch", connection=redis)
        while len(Worker.all(queue=queue)) < workers:
            time.sleep(0.1)
        started = time.monotonic()
        out = cli(config, archive, "crawl", "--cluster")
        jobs = [line.rsplit("(", 1)[1].rstrip(")") for line in out.splitlines() if "(" in line]
        while True:
            fetched = Job.fetch_many(jobs, connection=redis)
            states = [j.get_status().value if j else "gone" for j in fetched]
            if all(s in ("finished", "failed") for s in states):
                break
            time.sleep(0.1)
        seconds = time.monotonic() - started
        pages = sum(int((j.return_value() or {}).get("pages", 0)) for j in fetched if j)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(30)
    return {"workers": workers, "pages": pages, "seconds": round(seconds, 2),
            "pages_per_s": round(pages / seconds, 1), "archive": archive}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=6)
    parser.add_argument("--articles", type=int, default=20)
    parser.add_argument("--latency", type=float, default=1.0)
    args = parser.parse_args()
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    server = ThreadingHTTPServer(("127.0.0.1", 0), site_handler(args.latency, args.articles))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    with tempfile.TemporaryDirectory(prefix="mediawatch-bench-cluster-") as tmp:
        work = Path(tmp)
        port = free_port()
        redis = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1",
                                  "--save", "", "--dir", tmp], stdout=subprocess.DEVNULL)
        try:
            time.sleep(0.5)
            config = work / "sources.toml"
            config.write_text(sources_toml(base, args.sources, f"redis://127.0.0.1:{port}/0"))
            rounds = [round_with(n, config, work, f"redis://127.0.0.1:{port}/0")
                      for n in (1, 2, 3)]
            archive = rounds[-1]["archive"]
            started = time.monotonic()
            cli(config, archive, "ingest")
            ingest_s = time.monotonic() - started
            with sqlite3.connect(archive / "archive.db") as db:
                records = int(db.execute("SELECT sum(records) FROM warc_files").fetchone()[0])
        finally:
            redis.terminate()
            redis.wait(10)
            server.shutdown()
    base_rate = rounds[0]["pages_per_s"] or 1.0
    print(f"{args.sources} sources x {args.articles} articles, {args.latency}s per page, "
          f"{os.cpu_count()} cores")
    print(f"{'workers':>7}  {'pages':>5}  {'seconds':>7}  {'pages/s':>7}  {'vs 1':>5}")
    for r in rounds:
        print(f"{r['workers']:>7}  {r['pages']:>5}  {r['seconds']:>7.2f}  "
              f"{r['pages_per_s']:>7.1f}  {r['pages_per_s'] / base_rate:>5.2f}")
    print(f"ingest: {records} records in {ingest_s:.2f}s = {records / ingest_s:.1f} records/s "
          "(one process, including its start)")
    print(json.dumps({"bench": "cluster", "sources": args.sources, "articles": args.articles,
                      "latency": args.latency,
                      "pages_per_s": {r["workers"]: r["pages_per_s"] for r in rounds},
                      "speedup": {r["workers"]: round(r["pages_per_s"] / base_rate, 2)
                                  for r in rounds},
                      "ingest_records_per_s": round(records / ingest_s, 1)}))


if __name__ == "__main__":
    main()
