"""The private-address policy: no request, redirect or webhook to a non-public address.

A site can list, or redirect the crawler to, ``http://10.0.0.1/`` or a name that resolves to
``127.0.0.1``, and have what the crawler fetched there archived and shown. So every host
is resolved and refused when any of its addresses is not globally routable (private,
loopback, link-local, shared, reserved, multicast, unspecified; IPv4-mapped IPv6 too),
unless private addresses are allowed: ``allow_private = true`` in ``[crawl]`` or in a
``[[source]]``, or ``MEDIAWATCH_ALLOW_PRIVATE=1`` in the environment (for test rigs and
the sample newsroom on 127.0.0.1).

:class:`PrivateAddressGate` is the Scrapy downloader middleware that applies it to every
request the crawler sends (entry points, links, redirects, robots.txt); :func:`check_url`
is what webhook delivery calls for each URL it posts to or is redirected to.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler

__all__ = ["ENV", "PrivateAddressError", "PrivateAddressGate", "check_url", "is_private",
           "private_allowed"]

ENV = "MEDIAWATCH_ALLOW_PRIVATE"


class PrivateAddressError(IgnoreRequest):
    """A URL whose host is (or resolves to) a private address, which the policy refuses."""


def private_allowed(setting: bool = False) -> bool:
    """The policy: ``setting`` (from the config), or ``MEDIAWATCH_ALLOW_PRIVATE=1``."""
    return setting or os.environ.get(ENV, "").strip().lower() in ("1", "true", "yes")


def is_private(address: str) -> bool:
    """True unless ``address`` (an IP address) is globally routable unicast."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return True  # not an address: nothing to trust
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def _refusal(url: str, host: str, addresses: list[str]) -> str | None:
    bad = sorted({a for a in addresses if is_private(a)})
    if not addresses:
        return None  # unresolvable: the download fails on its own with a DNS error
    if bad:
        shown = host if bad == [host] else f"{host} ({', '.join(bad)})"
        return (f"refused {url}: {shown} is a private address (set allow_private = true"
                f" or {ENV}=1 to allow it)")
    return None


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = parts.port
    except ValueError:
        port = None
    return host, port or (443 if parts.scheme == "https" else 80)


def check_url(url: str, allow: bool = False) -> None:
    """Resolve ``url``'s host (blocking) and raise :class:`PrivateAddressError` when the
    policy refuses it."""
    if private_allowed(allow):
        return
    host, port = _host_port(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return  # the request itself fails with the resolver's error
    if why := _refusal(url, host, [str(info[4][0]) for info in infos]):
        raise PrivateAddressError(why)


class PrivateAddressGate:
    """Downloader middleware: every request's host is resolved and checked before it is
    sent (redirects come back through here as new requests). The source's
    ``allow_private``, when set, wins over the ``[crawl]`` one."""

    def __init__(self, allow: bool):
        self.allow = allow
        # One lookup per host and port for the crawl, as Scrapy's own DNS cache does: a
        # news crawl asks one host thousands of times, and a lookup per request would
        # double its resolver traffic on the hot path.
        self._addresses: dict[tuple[str, int], list[str]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PrivateAddressGate:
        """Read ``MEDIAWATCH_ALLOW_PRIVATE`` (the ``[crawl]`` value) from the settings."""
        return cls(crawler.settings.getbool("MEDIAWATCH_ALLOW_PRIVATE"))

    async def process_request(self, request: Request, spider: Spider) -> None:
        """Refuse the request (counted, logged) when its host is private."""
        source = getattr(spider, "source", None)
        own = getattr(source, "allow_private", None)
        if private_allowed(self.allow if own is None else bool(own)):
            return
        host, port = _host_port(request.url)
        if (host, port) not in self._addresses:
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(
                    host, port, type=socket.SOCK_STREAM)
            except (OSError, UnicodeError):
                return  # the download fails on its own, with the resolver's message
            self._addresses[host, port] = [str(info[4][0]) for info in infos]
        if why := _refusal(request.url, host, self._addresses[host, port]):
            if spider.crawler.stats is not None:
                spider.crawler.stats.inc_value("mediawatch/private_refused")
            spider.logger.warning(why)
            raise PrivateAddressError(why)
