"""A real S3-compatible server for the object-store tests: moto's server mode (``moto[server]``,
a dev dependency) in a process of its own on 127.0.0.1 and a free port.

:attr:`S3Server.env` is the standard AWS environment a client needs (endpoint, dummy
credentials, region): what a worker or an ingest process is given on real machines.
"""

from __future__ import annotations

import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

import pytest

from tests.redis_server import free_port

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["S3Server"]


class S3Server:
    """One ``moto.server`` process serving S3 on 127.0.0.1."""

    def __init__(self, directory: Path):
        pytest.importorskip("moto.server", reason="needs moto[server] (the dev extra)")
        self.directory = directory
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {"AWS_ENDPOINT_URL": self.url, "AWS_ACCESS_KEY_ID": "testing",
                    "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> S3Server:
        """Start it and wait until it answers a bucket listing."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / "moto.log", "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60  # a loaded machine imports moto slowly
        while True:
            try:
                self.client().list_buckets()
                return self
            except Exception:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise AssertionError("moto server did not start: "
                                         + (self.directory / "moto.log").read_text()) from None
                time.sleep(0.1)

    def client(self) -> Any:
        """A boto3 S3 client of this server."""
        import boto3

        return boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing",
            region_name="us-east-1").client("s3", endpoint_url=self.url)

    def stop(self) -> None:
        """Stop the server."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
