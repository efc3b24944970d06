"""``stratcare serve --workers N``: N web processes, each listening on a socket of its own.

uvicorn's supervisor binds one socket and shares it: every worker waits on the same accept queue, and
whichever wakes first takes the connection. An EHR (and a load balancer) keeps a few keep-alive connections
open and sends every call over them, so one worker can end up holding them all while the others idle (the
benchmark saw every connection on one worker). Here each worker binds its own socket with ``SO_REUSEPORT``:
the kernel then spreads incoming connections across the workers' sockets by a hash of the connection, so
long-lived connections are shared out from the start.

The parent only supervises: it starts the workers, restarts one that dies (a worker that fails during
start-up stops the service instead: it would fail the same way again), and forwards SIGINT/SIGTERM, then
waits for the workers to finish their calls.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import sys
import threading
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from types import FrameType

import uvicorn

logger = logging.getLogger(__name__)

STARTUP_FAILURE = 3
"""uvicorn's exit code for a worker that could not start (its app, settings or socket)."""
WATCH_SECONDS = 0.5
_SPAWN = multiprocessing.get_context("spawn")


@dataclass(frozen=True)
class Listen:
    host: str
    port: int


def reuse_port_socket(listen: Listen) -> socket.socket:
    """A TCP socket bound to ``listen`` that other processes can bind too (``SO_REUSEPORT``)."""
    family = socket.AF_INET6 if ":" in listen.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((listen.host, listen.port))
    return sock


def serve_worker(listen: Listen, config: uvicorn.Config) -> None:
    """One worker process: its own socket, one uvicorn server (run in the child)."""
    try:
        sock = reuse_port_socket(listen)
    except OSError as error:
        logger.error("cannot listen on %s:%d: %s", listen.host, listen.port, error)
        sys.exit(STARTUP_FAILURE)
    server = uvicorn.Server(config)
    server.run(sockets=[sock])
    if not server.started:
        sys.exit(STARTUP_FAILURE)


class Workers:
    """Starts and supervises the worker processes (see the module docstring)."""

    def __init__(self, listen: Listen, config: uvicorn.Config, count: int) -> None:
        if count < 1:
            raise ValueError("at least one worker")
        if not hasattr(socket, "SO_REUSEPORT"):
            raise RuntimeError("several workers need SO_REUSEPORT (Linux, BSD, macOS)")
        self._listen = listen
        self._config = config
        self._processes: list[BaseProcess] = []
        self._count = count
        self._stopping = threading.Event()

    def run(self) -> int:
        """Serve until SIGINT/SIGTERM; the exit code (non-zero when a worker failed to start)."""
        for name in ("SIGINT", "SIGTERM"):
            signal.signal(getattr(signal, name), self._stop)
        # Bind once here first, so that a port already in use fails the command before any worker starts.
        try:
            reuse_port_socket(self._listen).close()
        except OSError as error:
            logger.error("cannot listen on %s:%d: %s", self._listen.host, self._listen.port, error)
            return STARTUP_FAILURE
        self._processes = [self._start() for _ in range(self._count)]
        logger.info(
            "serving with %d workers, one SO_REUSEPORT socket each",
            self._count,
            extra={"workers": [process.pid for process in self._processes]},
        )
        code = 0
        while not self._stopping.wait(WATCH_SECONDS):
            code = self._replace_dead()
            if code:
                self._stopping.set()
        for process in self._processes:
            if process.is_alive():
                process.terminate()
        for process in self._processes:
            process.join()
        return code

    def _start(self) -> BaseProcess:
        process = _SPAWN.Process(target=serve_worker, args=(self._listen, self._config), daemon=False)
        process.start()
        return process

    def _replace_dead(self) -> int:
        for index, process in enumerate(self._processes):
            if process.is_alive() or self._stopping.is_set():
                continue
            if process.exitcode == STARTUP_FAILURE:
                logger.error("worker %s failed to start; stopping", process.pid)
                return STARTUP_FAILURE
            logger.warning("worker %s exited (%s); starting another", process.pid, process.exitcode)
            self._processes[index] = self._start()
        return 0

    def _stop(self, _signal: int, _frame: FrameType | None) -> None:
        self._stopping.set()
