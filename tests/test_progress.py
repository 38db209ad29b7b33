"""Progress bars: drawn on a terminal's stderr, absent from pipes and logs."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from archive.warc.writer import Exchange, RotatingWarcWriter

MEDIAWATCH = str(Path(sys.executable).with_name("mediawatch"))
PAGE = ("<html lang='en'><head><title>Frigate deal signed</title>"
        "<meta property='og:type' content='article'></head><body><article><h1>Frigate deal "
        "signed</h1>" + "<p>The navy signed a contract for four frigates today.</p>" * 20
        + "</article></body></html>").encode()


@pytest.fixture
def data(tmp_path: Path) -> Path:
    writer = RotatingWarcWriter(tmp_path / "data" / "warcs", "example", host="test")
    for i in range(3):
        writer.write_exchange(Exchange(
            url=f"http://127.0.0.1:9/news/{i}.html", method="GET",
            request_target=f"/news/{i}.html", request_headers=(("Host", "127.0.0.1:9"),),
            protocol="HTTP/1.1", status=200, reason="OK",
            headers=(("Content-Type", "text/html; charset=utf-8"),),
            body=PAGE.replace(b"today", str(i).encode()), fetched_at=datetime.now(UTC),
            metadata={"source": "example", "kind": "article"}))
    writer.close()
    return tmp_path / "data"


def run(data: Path, *args: str, tty: bool) -> tuple[str, str]:
    """Run the CLI; stderr on a pseudo-terminal when ``tty``. Returns (stdout, stderr)."""
    cmd = [MEDIAWATCH, "--config", str(data / "none.toml"), "--data", str(data), *args]
    if not tty:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True)
        return result.stdout, result.stderr
    master, slave = pty.openpty()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=slave, text=True)
    os.close(slave)
    stdout, _ = proc.communicate(timeout=120)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the terminal is closed once the process is gone
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert proc.returncode == 0
    return stdout, b"".join(chunks).decode(errors="replace")


def test_reindex_and_export_draw_a_bar_on_a_terminal_only(data: Path) -> None:
    _out, err = run(data, "reindex", tty=True)
    assert "reindexing WARC files" in err
    assert "100%" in err
    _out, err = run(data, "reindex", tty=False)
    assert "reindexing" not in err
    assert "%" not in err
    out, err = run(data, "export", tty=True)
    assert "exporting articles" in err
    assert out.count("\n") == 3  # data stays on stdout
    out, err = run(data, "export", tty=False)
    assert err == ""
    assert out.count("\n") == 3
