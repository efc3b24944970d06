"""The service run the way `stratcare serve` runs it (the same uvicorn options, the production log
configuration), on a free local port, with every log line it writes captured."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from joserfc.jwk import ECKey

from auth.tokens import jwks
from stratcare import cli

ISSUER = "https://ehr.example.org"
SERVE_ARGUMENTS = ("host", "port", "workers")


def serve_options(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What `stratcare serve` hands to uvicorn, apart from where to listen."""
    captured: dict[str, Any] = {}
    with monkeypatch.context() as patch:
        patch.setattr(uvicorn, "run", lambda app, **options: captured.update(app=app, **options))
        # The store check before start runs its own event loop; the served app opens the store itself.
        patch.setattr(cli, "_run", lambda work: work.close())
        cli.serve(host="127.0.0.1", port=8080, workers=1)
    return {name: value for name, value in captured.items() if name not in SERVE_ARGUMENTS}


def secured_environment(tmp_path: Path, key: ECKey, **extra: str) -> dict[str, str]:
    keys = tmp_path / "jwks.json"
    keys.write_text(json.dumps(jwks(key)))
    return {
        "STRATCARE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'served.db'}",
        "STRATCARE_AUTH": "on",
        "STRATCARE_JWT_ISSUERS": json.dumps({ISSUER: {"jwks_file": str(keys)}}),
        "STRATCARE_WRITEBACK_MODE": "off",
        **extra,
    }


@contextmanager
def restored_logging() -> Iterator[None]:
    """Start from the logging a new process has, and put back the configuration the service's factory
    replaces."""
    names = ("uvicorn", "uvicorn.error", "uvicorn.access", "httpx", "httpcore")
    root = logging.getLogger()
    saved_root = (root.handlers[:], root.level)
    saved = {name: (logging.getLogger(name).handlers[:], logging.getLogger(name).propagate) for name in names}
    saved_levels = {name: logging.getLogger(name).level for name in names}
    saved_disabled = {name: logging.getLogger(name).disabled for name in names}
    for name in names:
        # An earlier in-process server or test may have switched these off or raised their level; a freshly
        # started `stratcare serve` process always starts with them on and unset.
        logging.getLogger(name).disabled = False
        logging.getLogger(name).setLevel(logging.NOTSET)
    try:
        yield
    finally:
        root.handlers, level = saved_root
        root.setLevel(level)
        for name, (handlers, propagate) in saved.items():
            logger = logging.getLogger(name)
            logger.handlers, logger.propagate = handlers, propagate
            logger.setLevel(saved_levels[name])
            logger.disabled = saved_disabled[name]


class Served:
    def __init__(self, url: str, log: io.StringIO) -> None:
        self.url = url
        self._log = log

    def log_lines(self) -> list[str]:
        return [line for line in self._log.getvalue().splitlines() if line.strip()]


@asynccontextmanager
async def served(monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]) -> AsyncIterator[Served]:
    options = serve_options(monkeypatch)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    log = io.StringIO()
    with restored_logging():
        server = uvicorn.Server(uvicorn.Config(options.pop("app"), **options))
        with monkeypatch.context() as patch:
            patch.setattr(sys, "stderr", log)  # the factory's JSON handler writes to the stderr it finds
            running = asyncio.create_task(server.serve(sockets=[listener]))
            while not server.started and not running.done():
                await asyncio.sleep(0.01)
        try:
            assert server.started, "the service did not start"
            yield Served(f"http://127.0.0.1:{port}", log)
        finally:
            server.should_exit = True
            await running
            listener.close()
