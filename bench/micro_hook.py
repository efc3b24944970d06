"""CPU time per full hook call in one process, without the network: the app behind httpx's ASGI transport,
authentication on (ES384, a fresh ``jti`` per call), the high-risk patient with complete prefetch.

Run: ``.venv/bin/python -m bench.micro_hook [database-url] [--calls N] [--concurrency C] [--profile FILE]``
(default store: a SQLite file in a temporary folder; for PostgreSQL a fresh schema of
``postgresql+psycopg://postgres@127.0.0.1:5432/test`` is made with ``--postgres``). Prints process CPU time
per call (the server's share plus the in-process client's, which is the same in every variant) and, with
``--profile``, writes a cProfile of the timed calls. Not a test: nothing is asserted about time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

from bench import calls
from bench.stores import POSTGRES_URL, fresh_postgres_schema
from stratcare.api.app import create_app
from stratcare.settings import Settings

FHIR_SERVER = "https://ehr.bench.example/fhir"
PORT = 8000
BASE_URL = f"http://127.0.0.1:{PORT}"


async def run(url: str, count: int, concurrency: int, profile: Path | None, folder: Path) -> float:
    client = calls.CdsClient(folder)
    settings = Settings(
        database_url=url,
        auth="on",
        jwt_issuers=json.loads(client.issuers_setting([FHIR_SERVER])),
        writeback={"run_in_process": False},
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)

    def request() -> tuple[bytes, dict[str, str]]:
        signed = calls.signed(client, PORT, calls.HOOK_PATH, calls.hook_with_prefetch(FHIR_SERVER))
        return signed.body, {**dict(signed.headers), "Content-Type": "application/json"}

    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http,
    ):

        async def one(body: bytes, headers: dict[str, str]) -> None:
            response = await http.post(calls.HOOK_PATH, content=body, headers=headers)
            if response.status_code != 200:
                raise SystemExit(f"hook answered {response.status_code}: {response.text[:300]}")

        for body, headers in [request() for _ in range(20)]:
            await one(body, headers)
        prepared = [request() for _ in range(count)]
        profiler = cProfile.Profile() if profile else None
        started = time.process_time()
        if profiler:
            profiler.enable()
        for start in range(0, count, concurrency):
            await asyncio.gather(*(one(*item) for item in prepared[start : start + concurrency]))
        if profiler:
            profiler.disable()
            profiler.dump_stats(str(profile))
        return (time.process_time() - started) / count * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url", nargs="?")
    parser.add_argument("--postgres", action="store_true", help="a fresh schema on the local PostgreSQL")
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--profile", type=Path)
    options = parser.parse_args()
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        url = options.url or f"sqlite+aiosqlite:///{folder / 'bench.db'}"
        if options.postgres:
            url = stack.enter_context(fresh_postgres_schema(POSTGRES_URL))
        cpu_ms = asyncio.run(run(url, options.calls, options.concurrency, options.profile, folder))
    sys.stdout.write(
        f"{url.split(':', 1)[0]}: {cpu_ms:.2f} ms CPU per full hook "
        f"({options.calls} calls, {options.concurrency} at once)\n"
    )


if __name__ == "__main__":
    main()
