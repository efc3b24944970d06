"""Drives a server with wrk (its own process, one thread) over loopback and reads back what it measured."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.stats import Histogram

SCRIPT = Path(__file__).with_name("wrk.lua")
LOOPBACK = "127.0.0.1"
POLL_SECONDS = 0.002


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()

    def raw(self, port: int) -> bytes:
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {LOOPBACK}:{port}"]
        lines += [f"{name}: {value}" for name, value in self.headers]
        if self.body:
            lines += ["Content-Type: application/json", f"Content-Length: {len(self.body)}"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


@dataclass(frozen=True)
class LoadResult:
    completed: int
    seconds: float
    histogram: Histogram
    connect_errors: int
    read_errors: int
    write_errors: int
    status_errors: int
    timeouts: int

    @property
    def throughput(self) -> float:
        return self.completed / self.seconds if self.seconds else 0.0

    @property
    def dropped(self) -> int:
        """Connections refused, reset or timed out (not HTTP error statuses)."""
        return self.connect_errors + self.read_errors + self.write_errors + self.timeouts


def wrk_executable() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk (bench/run does it)")
    return found


def drive(
    port: int,
    requests: Sequence[HttpRequest],
    count: int,
    concurrency: int,
    time_limit_seconds: float,
    timeout_seconds: float = 10.0,
) -> LoadResult:
    """Send ``requests`` in order (at least ``count`` + ``concurrency`` of them, each once) on
    ``concurrency`` keep-alive connections until ``count`` responses arrived or the time limit passed."""
    if len(requests) < count + concurrency:
        raise ValueError("give at least count + concurrency requests, so that none is sent twice")
    with tempfile.TemporaryDirectory(prefix="stratcare-bench-") as folder:
        requests_file = Path(folder) / "requests"
        with requests_file.open("wb") as out:
            for request in requests:
                raw = request.raw(port)
                out.write(f"{len(raw)}\n".encode() + raw)
        result_file = Path(folder) / "result"
        command = [
            wrk_executable(),
            "--threads",
            "1",
            "--connections",
            str(concurrency),
            "--duration",
            f"{max(1, round(time_limit_seconds))}s",
            "--timeout",
            f"{max(1, round(timeout_seconds))}s",
            "--script",
            str(SCRIPT),
            f"http://{LOOPBACK}:{port}/",
            "--",
            str(requests_file),
            str(count),
        ]
        done_file = Path(folder) / "done"
        environment = dict(os.environ, BENCH_WRK_RESULT=str(result_file), BENCH_WRK_DONE=str(done_file))
        with (Path(folder) / "wrk.log").open("wb") as log:
            wrk = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)
            try:
                _interrupt_when_done(wrk, done_file, time_limit_seconds + 30)
            finally:
                if wrk.poll() is None:
                    wrk.kill()
                    wrk.wait()
        if wrk.returncode != 0 or not result_file.exists():
            log_text = (Path(folder) / "wrk.log").read_text(errors="replace")
            raise SystemExit(f"wrk failed ({wrk.returncode}): {log_text}")
        return parse_result(result_file.read_text(encoding="utf-8"))


def _interrupt_when_done(wrk: subprocess.Popen[bytes], done_file: Path, limit_seconds: float) -> None:
    """SIGINT ends wrk's sleep (it then reports as usual) as soon as the last awaited answer arrived."""
    deadline = time.monotonic() + limit_seconds
    while wrk.poll() is None and time.monotonic() < deadline:
        if done_file.exists():
            wrk.send_signal(signal.SIGINT)
            wrk.wait(timeout=30)
            return
        time.sleep(POLL_SECONDS)


def parse_result(text: str) -> LoadResult:
    fields: dict[str, list[int]] = {}
    histogram: Histogram = []
    for line in text.splitlines():
        name, *values = line.split()
        if name == "latency":
            histogram.append((int(values[0]) / 1e6, int(values[1])))
        else:
            fields[name] = [int(value) for value in values]
    connect, read, write, status, timeout = fields["errors"]
    return LoadResult(
        completed=fields["requests"][0],
        seconds=fields["duration_us"][0] / 1e6,
        histogram=histogram,
        connect_errors=connect,
        read_errors=read,
        write_errors=write,
        status_errors=status,
        timeouts=timeout,
    )
