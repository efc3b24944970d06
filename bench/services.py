"""How each server under test is started: stratcare as in production, and its peers."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.load import LOOPBACK
from bench.processes import RunningServer, free_port, running

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = ROOT / ".venv" / "bin"
PEERS = ROOT / "bench" / ".peers"
HEALTHCHAIN_VERSION = "0.16.1"
HEALTHCHAIN_PATH = "/cds/cds-services/trivial-card"


@contextmanager
def stratcare(
    name: str, database_url: str, issuers: str, workers: int, logs: Path
) -> Iterator[RunningServer]:
    """``stratcare serve`` with production settings: authentication on, INFO logs, the given store.
    Write-back delivery runs in its own ``stratcare worker`` in production, so not in the web process."""
    environment = dict(os.environ)
    environment.update(
        STRATCARE_DATABASE_URL=database_url,
        STRATCARE_AUTH="on",
        STRATCARE_JWT_ISSUERS=issuers,
        STRATCARE_LOG_LEVEL="INFO",
        STRATCARE_WRITEBACK_RUN_IN_PROCESS="false",
    )
    _upgrade_store(environment)
    port = free_port()
    command = [str(VENV_BIN / "stratcare"), "serve", "--host", LOOPBACK, "--port", str(port)]
    command += ["--workers", str(workers)]
    with running(name, command, port, "/health", logs / f"{name}.log", environment, ROOT) as server:
        yield server


def _upgrade_store(environment: dict[str, str]) -> None:
    """Run ``stratcare db upgrade`` where the CLI has it (schema migrations); else the app creates tables."""
    cli = str(VENV_BIN / "stratcare")
    probe = subprocess.run([cli, "db", "--help"], capture_output=True, env=environment, check=False)
    if probe.returncode == 0:
        subprocess.run([cli, "db", "upgrade"], capture_output=True, env=environment, check=True)


@contextmanager
def ceiling(logs: Path) -> Iterator[RunningServer]:
    port = free_port()
    command = [str(VENV_BIN / "uvicorn"), "bench.peers.ceiling_app:app", "--host", LOOPBACK]
    command += ["--port", str(port), "--no-access-log", "--log-level", "warning"]
    with running("ceiling", command, port, "/health", logs / "ceiling.log", dict(os.environ), ROOT) as server:
        yield server


def healthchain_python() -> tuple[Path | None, str]:
    """The peer virtual environment's Python with HealthChain installed (made on first use), or why not."""
    venv = PEERS / "healthchain"
    python = venv / "bin" / "python"
    marker = venv / f".installed-{HEALTHCHAIN_VERSION}"
    if marker.exists():
        return python, ""
    steps = [
        [sys.executable, "-m", "venv", str(venv)],
        [str(python), "-m", "pip", "install", "--quiet", f"healthchain=={HEALTHCHAIN_VERSION}", "uvicorn"],
    ]
    for step in steps:
        result = subprocess.run(step, capture_output=True, text=True, check=False, timeout=1200)
        if result.returncode != 0:
            reason = (result.stderr.strip().splitlines() or ["failed"])[-1]
            return None, f"installing HealthChain {HEALTHCHAIN_VERSION} failed: {reason}"
    marker.touch()
    return python, ""


@contextmanager
def healthchain(python: Path, logs: Path) -> Iterator[RunningServer]:
    port = free_port()
    command = [str(python), "-m", "uvicorn", "healthchain_app:app", "--host", LOOPBACK, "--port", str(port)]
    command += ["--no-access-log", "--log-level", "warning"]
    folder = ROOT / "bench" / "peers"
    with running(
        "healthchain", command, port, "/health", logs / "healthchain.log", dict(os.environ), folder
    ) as server:
        yield server
