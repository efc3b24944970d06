"""``stratcare serve --workers N``: each worker listens on its own socket and the kernel spreads
connections across them (with one shared socket, keep-alive clients could all land on one worker)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

STRATCARE = Path(sys.executable).with_name("stratcare")
CONNECTIONS = 24
"""Fresh connections, each hashed by the kernel to a worker: all 24 on one of 2 is a 1 in 8 million chance."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serving(tmp_path: Path, workers: int, port: int) -> Iterator[subprocess.Popen[bytes]]:
    environment = dict(
        os.environ,
        STRATCARE_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'workers.db'}",
        STRATCARE_AUTH="off",
        STRATCARE_LOG_LEVEL="INFO",
        STRATCARE_WRITEBACK_MODE="off",
    )
    command = [str(STRATCARE), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    with (tmp_path / "serve.log").open("wb") as log:
        process = subprocess.Popen(command, env=environment, stderr=log, stdout=log, start_new_session=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)


def wait_until_up(port: int, process: subprocess.Popen[bytes], workers: int) -> None:
    """Until every worker listens and the service answers."""
    for _ in range(600):
        assert process.poll() is None, "stratcare serve exited"
        try:
            answered = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code < 500
        except httpx.TransportError:
            answered = False
        if answered and listening_sockets(port) >= workers:
            return
        try:
            process.wait(timeout=0.1)
        except subprocess.TimeoutExpired:
            continue
    pytest.fail("stratcare serve did not answer")


def access_pids(log: Path) -> list[int]:
    pids = []
    for line in log.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("logger") == "uvicorn.access" and "/health" in entry.get("message", ""):
            pids.append(int(entry["pid"]))
    return pids


def listening_sockets(port: int) -> int:
    """Sockets in LISTEN state on ``port`` (Linux ``/proc/net/tcp``): one per worker, not one shared."""
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        if int(local.rsplit(":", 1)[1], 16) == port and state == "0A":
            count += 1
    return count


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux")
def test_connections_are_spread_across_workers(tmp_path: Path) -> None:
    port = free_port()
    with serving(tmp_path, 2, port) as process:
        wait_until_up(port, process, 2)
        assert listening_sockets(port) == 2
        before = len(access_pids(tmp_path / "serve.log"))
        for _ in range(CONNECTIONS):
            with httpx.Client(base_url=f"http://127.0.0.1:{port}") as fresh:  # a new connection each time
                assert fresh.get("/health").status_code == 200
        os.killpg(process.pid, signal.SIGTERM)
        assert process.wait(timeout=60) == 0
        parent = process.pid
    served_by = access_pids(tmp_path / "serve.log")[before:]
    assert len(served_by) == CONNECTIONS
    assert len(set(served_by)) == 2
    assert parent not in served_by


def test_a_port_in_use_stops_the_command(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with serving(tmp_path, 2, port) as process:
            assert process.wait(timeout=120) == 3
