"""``mediawatch demo``: crawl the bundled sample newsroom twice, then search and show.

The newsroom (:mod:`scheduler.newsroom`) is package data: its server and page templates are
installed with mediawatch, so the demo runs from a wheel as well as from a checkout, in any
working directory.

The steps run as ``python -m scheduler.cli`` child processes of the same interpreter: each
crawl needs a fresh Twisted reactor, which only a new process gives, and running the real
commands shows exactly what a user typing them would see.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path

from scheduler.errors import CommandError
from scheduler.newsroom.server import Newsroom
from scheduler.newsroom.sources import render_sources
from scheduler.newsroom.stories import DEMO_QUERY, DEMO_SHOW

__all__ = ["STEP_TIMEOUT", "DemoStepFailed", "run_demo", "run_step"]

#: Far above what a step of the demo takes (seconds); only a hung child reaches it.
STEP_TIMEOUT = timedelta(minutes=10)
Echo = Callable[[str], None]


class DemoStepFailed(CommandError):
    """A step of the demo exited non-zero; it has printed its own error already. The demo
    exits with the step's code (1 for a step killed by a signal)."""


def run_step(args: Sequence[str], echo: Echo) -> None:
    """Run ``mediawatch ARGS`` in a child process and pass its stdout, line by line, to
    ``echo`` (its stderr goes straight to ours); :class:`DemoStepFailed` unless it exits 0."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen([sys.executable, "-m", "scheduler.cli", *args], env=env,
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True,
                          encoding="utf-8", errors="replace") as proc:
        assert proc.stdout is not None
        for line in proc.stdout:  # streamed: a crawl's summary shows as soon as it is printed
            echo(line.rstrip("\n"))
        try:
            code = proc.wait(timeout=STEP_TIMEOUT.total_seconds())
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
    if code != 0:
        raise DemoStepFailed(f"demo: `mediawatch {' '.join(args)}` exited {code}",
                             exit_code=code if code > 0 else 1)


def run_demo(data_dir: Path, port: int, echo: Echo) -> None:
    """Serve the sample newsroom on 127.0.0.1:``port`` (0: any free port), write a sources
    file for it to ``<data_dir>/newsroom-sources.toml``, crawl it, let the newsroom edit one
    article, crawl again, then run a search (and the same grouped by story) and ``show``
    the edited article (its two versions). Every line of output goes to ``echo``."""
    data_dir = Path(data_dir)
    with Newsroom(port=port) as newsroom:
        config_path = data_dir / "newsroom-sources.toml"
        data_dir.mkdir(parents=True, exist_ok=True)
        config_path.write_text(render_sources(newsroom.base_url), encoding="utf-8")
        echo(f"sample newsroom at {newsroom.base_url}; config {config_path}\n")
        common = ["--config", str(config_path), "--data", str(data_dir)]
        for edition in (1, 2):
            newsroom.edition = edition
            echo(f"== crawl {edition} (newsroom edition {edition})")
            run_step([*common, "crawl"], echo)
        echo(f"\n== mediawatch search {DEMO_QUERY!r}")
        run_step([*common, "search", DEMO_QUERY, "--limit", "10"], echo)
        echo(f"\n== mediawatch search {DEMO_QUERY!r} --group (one row per story across outlets)")
        run_step([*common, "search", DEMO_QUERY, "--limit", "5", "--group"], echo)
        echo("\n== mediawatch show <short URL of the edited article>")
        run_step([*common, "show", newsroom.base_url + DEMO_SHOW], echo)
