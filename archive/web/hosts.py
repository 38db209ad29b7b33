"""The Host names the interface and the replay app answer, and the headers every interface
response carries.

DNS rebinding: a page on ``attacker.example`` whose name later resolves to 127.0.0.1 can
make the reader's browser send same-origin requests to ``mediawatch serve`` and read
``/api/`` or the replay. The browser still sends ``Host: attacker.example``, so both apps
answer only the names ``serve`` was started for (:func:`allowed_hosts`) and a 421
Misdirected Request otherwise, as Django's ``ALLOWED_HOSTS`` and Starlette's
``TrustedHostMiddleware`` do. The check is on the name only: a rebinding attacker cannot
choose the name the browser sends, and a reverse proxy may forward any port.

:class:`HostGuard` wraps an ASGI app with that check and, for the interface, adds
``X-Frame-Options: DENY``, ``Content-Security-Policy: frame-ancestors 'none'`` (no other
site may frame the interface: clickjacking) and ``X-Content-Type-Options: nosniff``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["UI_HEADERS", "HostGuard", "allowed_hosts", "host_name"]

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")

# Added to every interface response (the replay app sets its own, stricter CSP per page).
UI_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
)

# A host name or IP literal with an optional port: nothing that could end a header value or
# a CSP source expression (space, quote, semicolon, comma) gets through.
_HOST = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+)(:[0-9]{1,5})?$")


def host_name(header: str) -> str | None:
    """The lower-cased name of a ``Host`` header value (``[::1]:8080`` -> ``::1``), or None
    when it is not a host name with an optional port."""
    m = _HOST.match(header.strip())
    if m is None:
        return None
    return m.group(1).strip("[]").lower().rstrip(".")


def _is_loopback(name: str) -> bool:
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def allowed_hosts(bind: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """The names an app bound to ``bind`` answers: ``bind`` itself, every loopback name when
    it is a loopback address, and ``extra`` (``serve --allowed-host``). An unspecified
    address (``0.0.0.0``, ``::``) adds the loopback names, the ones ``serve`` prints."""
    names = {n for n in (host_name(bind) or bind.lower(),) if n}
    if bind in ("", "0.0.0.0", "::") or any(_is_loopback(n) for n in names):
        names.update(LOOPBACK_NAMES)
    names.discard("0.0.0.0")
    names.discard("::")
    for name in extra:
        parsed = host_name(name)
        if parsed is None:
            raise ValueError(f"not a host name: {name!r}")
        names.add(parsed)
    return frozenset(names)


class HostGuard:
    """ASGI middleware: a 421 for a ``Host`` not in ``hosts`` (None: any well-formed host),
    a 400 for a malformed one, and ``headers`` added to every response."""

    def __init__(self, app: ASGIApp, hosts: frozenset[str] | None,
                 headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
        self.app = app
        self.hosts = hosts
        self.headers = tuple(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the Host of an HTTP request, then pass it on with the extra headers."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = dict(scope.get("headers") or ()).get(b"host", b"").decode("latin-1")
        name = host_name(raw) if raw else None
        if name is None or (self.hosts is not None and name not in self.hosts):
            status = 400 if name is None else 421
            body = (b"bad Host header\n" if name is None
                    else b"this server does not answer for that host name; "
                         b"see mediawatch serve --allowed-host\n")
            await send({"type": "http.response.start", "status": status, "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()), *self.headers]})
            await send({"type": "http.response.body", "body": body})
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", ())}
                # A second CSP header only narrows the first (browsers enforce both), so
                # frame-ancestors is added even to a response that has a policy of its own.
                extra = [(k, v) for k, v in self.headers
                         if k not in present or k == b"content-security-policy"]
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
