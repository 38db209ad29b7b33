"""``mediawatch serve`` in a real process answers only the Host names it was started for
(the bound address, the loopback names, ``--allowed-host``), on both origins, with the
interface's framing and sniffing headers (issue 8, item 11)."""

from __future__ import annotations

import http.client
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MEDIAWATCH = str(Path(sys.executable).with_name("mediawatch"))


@pytest.fixture(scope="module")
def ports(tmp_path_factory: pytest.TempPathFactory,
          free_port: Callable[[], int]) -> Iterator[tuple[int, int]]:
    data = tmp_path_factory.mktemp("serve")
    port, replay_port = free_port(), free_port()
    proc = subprocess.Popen(
        [MEDIAWATCH, "--config", str(ROOT / "config" / "sources.toml"), "--data", str(data),
         "serve", "--port", str(port), "--replay-port", str(replay_port),
         "--allowed-host", "archive.example.org", "--allowed-host", "MW.internal"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # printed once both servers listen
        assert "web interface" in line, proc.stderr.read() if proc.stderr else line
        yield port, replay_port
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert proc.returncode == 0


def get(port: int, path: str, host: str) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.putrequest("GET", path, skip_host=True)
    conn.putheader("Host", host)
    conn.endheaders()
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "[::1]:{port}",
                                  "archive.example.org", "mw.internal:443"])
def test_serve_answers_its_names(ports: tuple[int, int], host: str) -> None:
    port, replay_port = ports
    ui = get(port, "/api/search", host.format(port=port))
    assert ui.status == 200
    assert ui.getheader("X-Frame-Options") == "DENY"
    assert ui.getheader("X-Content-Type-Options") == "nosniff"
    assert "frame-ancestors 'none'" in (ui.getheader("Content-Security-Policy") or "")
    assert get(replay_port, "/", host.format(port=replay_port)).status == 200


@pytest.mark.parametrize("host", ["attacker.example", "attacker.example:{port}",
                                  "archive.example.org.attacker.example"])
def test_serve_refuses_other_names(ports: tuple[int, int], host: str) -> None:
    port, replay_port = ports
    assert get(port, "/api/search", host.format(port=port)).status == 421
    replayed = get(replay_port, "/replay/*/http://a.test/", host.format(port=replay_port))
    assert replayed.status == 421
    assert "attacker" not in (replayed.getheader("Content-Security-Policy") or "")


def test_serve_rejects_a_malformed_allowed_host(tmp_path: Path) -> None:
    done = subprocess.run(
        [MEDIAWATCH, "--config", str(ROOT / "config" / "sources.toml"), "--data",
         str(tmp_path), "serve", "--port", "0", "--allowed-host", "a;b"],
        capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "--allowed-host" in done.stderr


@pytest.mark.parametrize("busy", ["--port", "--replay-port"])
def test_serve_on_a_busy_port_is_one_line(tmp_path: Path, free_port: Callable[[], int],
                                           busy: str) -> None:
    import socket

    ports = {"--port": free_port(), "--replay-port": free_port()}
    with socket.socket() as taken:  # another server listening on one of the two ports
        taken.bind(("127.0.0.1", ports[busy]))
        taken.listen()
        result = subprocess.run(
            [MEDIAWATCH, "--config", str(ROOT / "config" / "sources.toml"), "--data",
             str(tmp_path), "serve", *(str(x) for kv in ports.items() for x in kv)],
            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert result.stderr.strip() == \
        f"mediawatch: error: port {ports[busy]} is in use; try {busy}"
