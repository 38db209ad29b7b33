"""Serving the interface and replay: uvicorn servers in one process, or in worker
processes listening on the same ports so that every core answers.

With ``workers`` above 1 the parent binds each ``(host, port)`` once per worker
(``SO_REUSEPORT``: the kernel spreads the connections over the workers' sockets evenly),
forks the workers (each runs every app on its own sockets in its own asyncio loop) and
supervises them: a worker that dies is started again on the same sockets, SIGINT or
SIGTERM stops them all. Each thread of a worker keeps its own read-only archive connection
(:mod:`archive.web.pool`), so workers share no connection, and nothing they do writes.
"""

from __future__ import annotations

import asyncio
import errno
import gc
import itertools
import multiprocessing
import os
import signal
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import anyio.to_thread

if TYPE_CHECKING:
    from starlette.applications import Starlette

__all__ = ["default_workers", "port_in_use", "serve", "settle"]

#: A worker that exits sooner than this after its start is broken, not unlucky: serving
#: stops with an error instead of starting it again and again.
_MIN_LIFETIME = 2.0


#: Threads answering requests in each process (anyio's default is 40). A page is mostly
#: Python under the GIL: 32 clients on 40 threads traded it back and forth (one worker
#: answered 156 searches/s at 32 clients against 220 at one); on 4 it kept 230, and its
#: p95 at 32 clients halved (``bench/serve.py``, README). A few, not one: SQLite releases
#: the GIL while it reads.
REQUEST_THREADS = 4


def default_workers() -> int:
    """One worker per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def port_in_use(host: str, port: int) -> bool:
    """Whether ``port`` on ``host`` cannot be bound now (another server has it): checked
    before starting, so that the CLI can name the port and its option in one line rather
    than uvicorn logging a bind error."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            return exc.errno == errno.EADDRINUSE
    return False


def _servers(apps: Sequence[tuple[Starlette, str, int]]) -> list[Any]:
    import uvicorn

    class _Server(uvicorn.Server):
        # uvicorn would install its own handlers per server, each replacing the last;
        # one handler below stops every server instead.
        @contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    return [_Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                   lifespan="off"))
            for app, host, port in apps]


def settle() -> None:
    """Ready a serving process for steady latency: build what every search needs (the
    gazetteer's matcher, which widening reads) and freeze every object made so far
    (``gc.freeze``), so that the cyclic collector's full collections walk only what
    requests made since, not the whole program. A full collection in the middle of a
    search cost it 6 to 13 ms (and the worst p95 of ``bench/search.py``, which calls this
    too, up to 40 ms); frozen, about nothing. Before a fork the workers inherit the frozen
    objects, and their pages are not rewritten by collections (copy-on-write)."""
    from archive.config.entities import default_gazetteer
    from archive.gazetteer import matcher

    matcher(default_gazetteer())
    gc.collect()  # garbage made while starting up is not kept forever
    gc.freeze()


def _run(apps: Sequence[tuple[Starlette, str, int]],
         sockets: Sequence[socket.socket] | None,
         on_started: Callable[[], None] | None) -> None:
    """Every app in one asyncio loop until SIGINT or SIGTERM; on ``sockets`` when given
    (a worker), else binding each app's host and port."""
    servers = _servers(apps)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        anyio.to_thread.current_default_thread_limiter().total_tokens = REQUEST_THREADS

        def stop_all() -> None:
            for s in servers:
                s.should_exit = True

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop_all)
        tasks = [asyncio.create_task(s.serve(sockets=[sockets[i]] if sockets else None))
                 for i, s in enumerate(servers)]
        while not all(s.started for s in servers):
            done = [t for t in tasks if t.done()]
            if done:  # a server that could not bind ends at once: stop the others
                for s in servers:
                    s.should_exit = True
                break
            await asyncio.sleep(0.05)
        else:
            if on_started is not None:
                on_started()
        await asyncio.gather(*tasks)
        if not all(s.started for s in servers):
            raise OSError("a server could not start (is the port in use?)")

    asyncio.run(main())


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # One listening socket per worker on the same port: the kernel spreads connections
    # over them evenly. On one shared socket, the worker that woke first accepted every
    # connection waiting (asyncio accepts up to its backlog at once), and a load of kept
    # connections then ran on one worker while the other idled.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    # Accepted sockets inherit it. Without it a response written in two parts (headers,
    # body) waits for the client's delayed ACK: 40 ms a request on Linux, measured with
    # bench/serve.py (asyncio sets it only on sockets it created itself).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _die_with_parent() -> None:
    """Ask Linux to send this worker SIGTERM when the parent dies, even by SIGKILL, so that
    no orphaned worker keeps the ports (best effort: elsewhere the parent's stop must do)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _worker(apps: Sequence[tuple[Starlette, str, int]], sockets: Sequence[socket.socket],
            parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which stops us
    # The parent's handler came with the fork; until the servers install theirs, SIGTERM
    # must end this worker.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with_parent()
    if os.getppid() != parent:  # the parent died before the request above
        return
    _run(apps, sockets, None)


def serve(apps: Sequence[tuple[Starlette, str, int]],
          on_started: Callable[[], None] | None = None, *, workers: int = 1) -> None:
    """Serve each ``(app, host, port)`` until SIGINT or SIGTERM, which stops them all:
    in this process when ``workers`` is 1, else in ``workers`` forked processes, each on
    its own sockets (module docstring). Raises OSError when a port cannot be bound."""
    settle()
    if workers <= 1:
        _run(apps, None, on_started)
        return
    # Worker i's sockets, one per app (kept here, so that a worker started again takes
    # over the connections waiting on its sockets).
    sockets: list[list[socket.socket]] = []
    ports = [port for _, _, port in apps]
    try:
        for _ in range(workers):
            sockets.append([])
            for (_, host, _), port in zip(apps, ports, strict=True):
                sockets[-1].append(_bind(host, port))
            # Port 0: the other workers take the port the first one was given.
            ports = [sock.getsockname()[1] for sock in sockets[-1]]
    except OSError:
        for sock in itertools.chain.from_iterable(sockets):
            sock.close()
        raise
    context = multiprocessing.get_context("fork")
    stopping = False

    started: dict[int, float] = {}

    def start(i: int) -> Any:
        process = context.Process(target=_worker, args=(apps, sockets[i], os.getpid()),
                                   daemon=True)
        process.start()
        started[process.pid or 0] = time.monotonic()
        return process

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    processes = [start(i) for i in range(workers)]
    try:
        if on_started is not None:
            on_started()
        while not stopping:
            for i, process in enumerate(processes):
                process.join(timeout=0.2 / len(processes))
                if process.exitcode is None or stopping:
                    continue
                if time.monotonic() - started.pop(process.pid or 0, 0.0) < _MIN_LIFETIME:
                    raise OSError(f"a server worker exited at start (code {process.exitcode})")
                processes[i] = start(i)  # a worker died: keep serving on every core
    finally:
        for process in processes:
            if process.exitcode is None:
                process.terminate()  # SIGTERM: the worker's servers finish and exit
        for process in processes:
            process.join(timeout=10)
            if process.exitcode is None:
                process.kill()
        for sock in itertools.chain.from_iterable(sockets):
            sock.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
