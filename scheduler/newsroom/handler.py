"""The sample newsroom's HTTP layer: the :class:`Response` value and the handler that sends it.

Pages, feeds and routing produce :class:`Response` values; :class:`Handler` turns one into
bytes on the wire: HTTP/1.1 keep-alive, 304 answers to conditional requests, gzip when the
client accepts it, uneven chunked transfer encoding, 405 for every method but GET and HEAD,
and the slow page's wait.
"""

from __future__ import annotations

import gzip
import html
import re
import sys
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scheduler.newsroom.server import Newsroom


@dataclass(frozen=True, slots=True)
class Response:
    """What to send; the handler adds Date, Server and Content-Length or chunking."""

    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    chunked: bool = False
    gzip: bool = False  # gzip the body when the client accepts it
    slow: bool = False  # wait slow_seconds before answering


def html_response(status: int, text: str, charset: str = "utf-8", header_charset: bool = True,
                  headers: tuple[tuple[str, str], ...] = ()) -> Response:
    """An HTML page in ``charset``, declared in Content-Type unless ``header_charset`` is off."""
    ctype = f"text/html; charset={charset}" if header_charset else "text/html"
    return Response(status, text.encode(charset), (("Content-Type", ctype), *headers))


def redirect(status: int, location: str) -> Response:
    """A redirect to ``location`` with the small HTML body servers send along."""
    body = (f'<html><head><title>{status} Moved</title></head><body><h1>Moved</h1>'
            f'<p>The document has moved <a href="{html.escape(location)}">here</a>.</p>'
            "</body></html>\n")
    return Response(status, body.encode(), (("Location", location),
                                             ("Content-Type", "text/html; charset=utf-8")))



def _not_modified(resp: Response, if_none_match: str | None,
                  if_modified_since: str | None) -> bool:
    """RFC 9110: If-None-Match wins over If-Modified-Since; only 200 answers qualify."""
    if resp.status != 200:
        return False
    etag = next((v for k, v in resp.headers if k == "ETag"), None)
    modified = next((v for k, v in resp.headers if k == "Last-Modified"), None)
    if if_none_match is not None:
        return etag is not None and etag in [t.strip() for t in if_none_match.split(",")]
    return modified is not None and if_modified_since == modified


def _accepts_gzip(header: str) -> bool:
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() in ("gzip", "x-gzip", "*"):
            q = re.search(r"q\s*=\s*([\d.]+)", params)
            return q is None or float(q.group(1)) > 0
    return False


def _chunks(body: bytes) -> Iterator[bytes]:
    # Uneven sizes on purpose: chunk edges fall inside tags and multi-byte characters.
    sizes = (1, 7, 500, 4096, 33)
    i = n = 0
    while i < len(body):
        size = sizes[n % len(sizes)]
        yield body[i:i + size]
        i += size
        n += 1


class Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive: every response has Content-Length or is chunked."""

    protocol_version = "HTTP/1.1"
    server_version = "NewsroomEdge/1.4"
    timeout = 30  # idle keep-alive connections are dropped after this

    def version_string(self) -> str:
        return self.server_version

    @property
    def newsroom(self) -> Newsroom:
        return self.server.newsroom  # type: ignore[attr-defined]

    def handle(self) -> None:
        try:
            super().handle()
        except (ConnectionResetError, BrokenPipeError):
            # A client that cancels a download (the oversized page) resets the connection;
            # socketserver would print a traceback for what is expected behaviour.
            self.close_connection = True

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def _not_allowed(self) -> None:
        self.newsroom.record(self.command, self.path)
        # The request body is never read, so the connection cannot be reused.
        self.close_connection = True
        body = b"<html><body><h1>405 Method Not Allowed</h1></body></html>\n"
        self.send_response(405)
        self.send_header("Allow", "GET, HEAD")
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _not_allowed

    def _serve(self, send_body: bool) -> None:
        newsroom = self.newsroom
        newsroom.record(self.command, self.path)
        try:
            resp = newsroom.respond(self.path)
        except Exception:
            # A template bug: answer 500 and show the traceback rather than hang the client.
            traceback.print_exc(file=sys.stderr)
            resp = Response(500, b"newsroom error\n", (("Content-Type", "text/plain"),))
        if resp.slow and not newsroom.wait_slow():
            self.close_connection = True
            return
        body = resp.body
        headers = list(resp.headers)
        if _not_modified(resp, self.headers.get("If-None-Match"),
                         self.headers.get("If-Modified-Since")):
            resp, body = Response(304), b""
            headers = [(k, v) for k, v in headers if k in ("ETag", "Last-Modified")]
        if resp.gzip:
            headers.append(("Vary", "Accept-Encoding"))
            if _accepts_gzip(self.headers.get("Accept-Encoding", "")):
                body = gzip.compress(body, mtime=0)  # mtime=0: identical bytes every time
                headers.append(("Content-Encoding", "gzip"))
        chunked = resp.chunked and self.request_version == "HTTP/1.1"
        try:
            self.send_response(resp.status)
            for name, value in headers:
                self.send_header(name, value)
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not send_body:
                return
            if chunked:
                for chunk in _chunks(body):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            # Clients drop oversized pages half-way; that is expected, not an error.
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        if self.newsroom.verbose:
            super().log_message(format, *args)


