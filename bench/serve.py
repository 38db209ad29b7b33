"""Web serving under load: ``mediawatch serve`` with 1 and with 32 concurrent clients, one run.

Crawls the sample newsroom twice into ``bench/out/serve-data`` (or takes ``--data DIR``, an
existing data directory such as a real crawl), starts the real ``mediawatch serve`` on
127.0.0.1 with ``--workers N`` (default: one per core; ``--compare-workers 1`` adds a run of
a single worker as the baseline) and loads three pages with wrk (a real HTTP load tool,
Debian's ``wrk`` package): a search (``/?q=S-400``), an article page and a replay of its
capture. Each page is loaded by 1 client, then by 32, for ``--seconds`` each; wrk's Lua
``done`` hook reports requests/s and the 95th percentile latency. Target (issue 11): p95 at
32 clients within 5x the single-client p95 of the same run.

wrk is installed with ``apt-get install -y wrk`` when it is missing and this runs as root;
otherwise the script says so and stops. The machine's other load skews the figures: compare
rows of one run, not runs.

    python bench/serve.py [--workers N] [--compare-workers 1] [--seconds 8] [--data DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archive.store.provenance import replay_timestamp  # noqa: E402
from archive.web.serving import default_workers  # noqa: E402
from scheduler.newsroom.server import Newsroom  # noqa: E402
from scheduler.newsroom.sources import render_sources  # noqa: E402

OUT = ROOT / "bench" / "out"
MEDIAWATCH = str(Path(sys.executable).with_name("mediawatch"))
CLIENTS = (1, 32)
TARGET = 5.0
# wrk's hook: one line with requests, duration (us), p95 latency (us) and errors.
LUA = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("MW %d %d %.0f %d %d\\n", summary.requests, summary.duration,
    latency:percentile(95), e.connect + e.read + e.write + e.timeout, e.status))
end
"""


def ensure_wrk() -> str:
    """The wrk binary, installed from Debian when missing and possible."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing wrk (apt-get install -y wrk)", file=sys.stderr)
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True,
                       stdout=subprocess.DEVNULL)
        found = shutil.which("wrk")
    if not found:
        sys.exit("bench/serve.py needs wrk: run `sudo apt-get install -y wrk` (Debian/Ubuntu)")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(data: Path, config: Path, *args: str) -> str:
    return subprocess.run([MEDIAWATCH, "--config", str(config), "--data", str(data), *args],
                          check=True, capture_output=True, text=True).stdout


def crawl_newsroom(data: Path) -> Path:
    """The sample newsroom crawled twice (one story edited) into ``data``; the config."""
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    config = data / "sources.toml"
    with Newsroom() as newsroom:
        config.write_text(render_sources(newsroom.base_url), encoding="utf-8")
        for edition in (1, 2):
            newsroom.edition = edition
            cli(data, config, "crawl")
    return config


def pages(data: Path, config: Path) -> dict[str, str]:
    """Paths of the search, article and replay pages (the replay one on the replay port)."""
    hits = json.loads(cli(data, config, "search", "S-400", "--format", "json"))
    if not hits:
        hits = json.loads(cli(data, config, "export", "--format", "jsonl").splitlines()[0])
        hits = [hits]
    article = json.loads(cli(data, config, "show", hits[0]["id"], "--format", "json"))
    capture = next(c for c in reversed(article["captures"]) if c["status"] == 200)
    return {"search": "/?q=S-400", "article": f"/articles/{article['id']}",
            "replay": f"/replay/{replay_timestamp(capture['fetched_at'])}/{capture['url']}"}


def load(wrk: str, url: str, clients: int, seconds: int, script: Path) -> dict[str, Any]:
    """One wrk run: requests/s and p95 (ms)."""
    threads = min(clients, 2)
    out = subprocess.run([wrk, f"-t{threads}", f"-c{clients}", f"-d{seconds}s", "-s",
                          str(script), url], check=True, capture_output=True, text=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("MW "))
    requests, duration, p95, errors, status = (float(v) for v in line.split()[1:])
    return {"rps": requests / (duration / 1e6), "p95_ms": p95 / 1000, "requests": int(requests),
            "errors": int(errors), "non_2xx": int(status)}


def run_serve(data: Path, config: Path, workers: int, wrk: str, paths: dict[str, str],
              seconds: int, script: Path) -> list[dict[str, Any]]:
    port, replay_port = free_port(), free_port()
    proc = subprocess.Popen(
        [MEDIAWATCH, "--config", str(config), "--data", str(data), "serve", "--port",
         str(port), "--replay-port", str(replay_port), "--workers", str(workers)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    rows = []
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if "web interface" not in line:
            sys.exit(f"serve did not start: {proc.stderr.read() if proc.stderr else line}")
        for name, path in paths.items():
            origin = replay_port if name == "replay" else port
            url = f"http://127.0.0.1:{origin}{path}"
            load(wrk, url, 1, 1, script)  # warm up: templates, page cache
            figures = {c: load(wrk, url, c, seconds, script) for c in CLIENTS}
            one, many = figures[CLIENTS[0]], figures[CLIENTS[1]]
            rows.append({"workers": workers, "page": name,
                         **{f"{k}_{c}": round(v, 2) for c in CLIENTS
                            for k, v in figures[c].items() if k in ("rps", "p95_ms")},
                         "p95_ratio": round(many["p95_ms"] / one["p95_ms"], 2),
                         "errors": sum(f["errors"] + f["non_2xx"] for f in figures.values())})
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--compare-workers", type=int, nargs="*", default=[1],
                        help="Also run with these worker counts (baseline; none: --compare-"
                        "workers with no value).")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--data", type=Path, help="An existing data directory (archive.db, "
                        "warcs/) instead of crawling the sample newsroom.")
    parser.add_argument("--config", type=Path, help="Its sources file (with --data).")
    args = parser.parse_args()
    wrk = ensure_wrk()
    if args.data:
        data, config = args.data, args.config or args.data / "sources.toml"
    else:
        data = OUT / "serve-data"
        config = crawl_newsroom(data)
    paths = pages(data, config)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(LUA)
    script = Path(handle.name)
    rows: list[dict[str, Any]] = []
    try:
        for workers in [*[w for w in args.compare_workers if w != args.workers], args.workers]:
            rows += run_serve(data, config, workers, wrk, paths, args.seconds, script)
    finally:
        script.unlink()
    print(f"cores: {os.cpu_count()}  wrk {args.seconds}s per run  target: p95 at 32 clients "
          f"<= {TARGET:g}x p95 at 1 client")
    header = (f"{'workers':>7}  {'page':<8} {'req/s @1':>9} {'p95 ms @1':>10} "
              f"{'req/s @32':>10} {'p95 ms @32':>11} {'ratio':>6}  verdict")
    print(header)
    for r in rows:
        verdict = "ok" if r["p95_ratio"] <= TARGET else "over target"
        if r["errors"]:
            verdict += f" ({r['errors']} errors)"
        print(f"{r['workers']:>7}  {r['page']:<8} {r['rps_1']:>9.1f} {r['p95_ms_1']:>10.2f} "
              f"{r['rps_32']:>10.1f} {r['p95_ms_32']:>11.2f} {r['p95_ratio']:>6.2f}  {verdict}")
    print(json.dumps({"bench": "serve", "rows": rows}))


if __name__ == "__main__":
    main()
