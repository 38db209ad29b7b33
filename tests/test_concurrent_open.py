"""Any two commands may open a fresh data directory at the same moment.

Each command runs as a real ``mediawatch`` process. Every process imports the CLI first, says
it is ready, then waits on its stdin: one byte written to all of them releases them together
(a barrier), so they create and migrate ``archive.db`` at once, which before the schema lock
gave ``table articles already exists`` or ``database is locked``. Each round starts several
pairs, each pair on its own fresh directory; every process must exit 0 and every archive
must have its complete schema.
"""

from __future__ import annotations

import itertools
import signal
import subprocess
import sys
import time
from typing import TYPE_CHECKING

from archive.store.db import Archive
from archive.store.schema import MIGRATIONS

if TYPE_CHECKING:
    from pathlib import Path

# Imports what every command needs before the barrier, so the processes reach the archive
# within microseconds of each other rather than after their imports.
WRAPPER = """
import sys
import scheduler.cli, scheduler.runlog, scheduler.service, archive.store.search
import scheduler.monitor.alerts, scheduler.monitor.health
print("ready", flush=True)
sys.stdin.buffer.read(1)
scheduler.cli.main(sys.argv[1:], prog_name="mediawatch")
"""

COMMANDS: dict[str, list[str]] = {
    "schedule": ["schedule"],  # the service: stopped once it has started
    "schedule --list": ["schedule", "--list"],
    "runs": ["runs"],
    "search": ["search", "nato"],
    "alerts": ["alerts"],
    "sources": ["sources"],
    "export": ["export"],
}
PAIRS = list(itertools.combinations(COMMANDS, 2))
ROUNDS = 20
PAIRS_PER_ROUND = 2
DEADLINE = 60.0


def start(name: str, config: Path, data: Path) -> subprocess.Popen[bytes]:
    """One command behind the barrier (stderr to a file beside its data directory)."""
    with open(data.parent / f"{data.name}-{name.replace(' ', '_')}.err", "wb") as err:
        return subprocess.Popen(
            [sys.executable, "-c", WRAPPER, "--config", str(config), "--data", str(data),
             *COMMANDS[name]],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err)


def wait_for_service_start(data: Path) -> None:
    """Until the service has logged its start (its signal handlers are in place by then:
    a SIGTERM now still lets it open the archive, then stop cleanly)."""
    deadline = time.monotonic() + DEADLINE
    while not any("source(s) from" in p.read_text()
                  for p in (data / "logs").glob("schedule-*.log")):
        assert time.monotonic() < deadline, "the service did not start"
        time.sleep(0.05)


def test_pairs_of_commands_on_a_fresh_data_directory(tmp_path: Path) -> None:
    config = tmp_path / "sources.toml"
    config.write_text("[crawl]\n")  # no sources: nothing is fetched
    pairs = itertools.islice(itertools.cycle(PAIRS), ROUNDS * PAIRS_PER_ROUND)
    failures = []
    for round_no in range(ROUNDS):
        procs: list[tuple[str, Path, subprocess.Popen[bytes]]] = []
        for pair_no, pair in enumerate(itertools.islice(pairs, PAIRS_PER_ROUND)):
            data = tmp_path / f"r{round_no}p{pair_no}"
            procs += [(name, data, start(name, config, data)) for name in pair]
        for _, _, proc in procs:
            assert proc.stdout is not None
            assert proc.stdout.readline() == b"ready\n"
        for _, _, proc in procs:  # the barrier
            assert proc.stdin is not None
            proc.stdin.write(b"x")
            proc.stdin.close()
        for name, data, proc in procs:
            if name == "schedule":
                wait_for_service_start(data)
                proc.send_signal(signal.SIGTERM)
            proc.wait(DEADLINE)  # the outputs are a few lines: the pipe never fills
            assert proc.stdout is not None
            proc.stdout.close()
            if proc.returncode != 0:
                err = data.parent / f"{data.name}-{name.replace(' ', '_')}.err"
                failures.append(f"{data.name} {name}: exit {proc.returncode}\n"
                                f"{err.read_text()[-600:]}")
        for data in sorted({data for _, data, _ in procs}):
            with Archive.open_readonly(data / "archive.db") as archive:
                assert MIGRATIONS.pending(archive.db) == []
                applied = [m.name for m in MIGRATIONS.applied(archive.db)]
                assert len(applied) == len(set(applied))
                assert {"articles", "runs", "captures"} <= set(archive.db.table_names())
    assert not failures, "\n".join(failures)
